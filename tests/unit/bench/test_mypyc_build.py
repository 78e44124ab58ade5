"""bench/mypyc_build.py's selection: the request path by package, minus start-up code."""

from __future__ import annotations

from pathlib import Path

from bench import mypyc_build


def test_the_selection_is_the_request_path_by_package() -> None:
    files = mypyc_build.compiled_files()
    assert {"protocol/codec.py", "frontend/http1/connection.py", "worker/http_scope.py"} <= set(
        files
    )
    assert not [f for f in files if f.endswith(("__init__.py", "__main__.py"))]
    assert not [f for f in files if f.rpartition("/")[2].startswith("cli")]
    assert "worker/event_errors.py" not in files  # mypyc compiles no RuntimeError subclass


def test_a_split_module_is_compiled_in_both_halves(tmp_path: Path) -> None:
    for rel in ("protocol/codec_a.py", "frontend/streams/new_half.py", "worker/cli_more.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    assert mypyc_build.compiled_files(tmp_path) == [
        "frontend/streams/new_half.py",
        "protocol/codec_a.py",
    ]
