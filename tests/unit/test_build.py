"""Which build of pagi the suite runs on: pure Python or the mypyc build.

``tests/run.sh`` installs the pure build (editable) unless ``COMPILE=1``, and
says which one it installed in ``PAGI_EXPECT_BUILD``; a compiled run that
silently fell back to the ``.py`` files (or the reverse) fails here. The
module list is the build's own (``setup.py``, ``[tool.pagi.compile]``).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
from pathlib import Path

import pytest
from pagi.protocol.version import installed_build

from bench.mypyc_build import REPO
from bench.mypyc_build import load_setup as _setup


def _is_compiled(name: str) -> bool:
    path = importlib.import_module(name).__file__ or ""
    return path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def test_the_expected_build_is_loaded() -> None:
    expected = os.environ.get("PAGI_EXPECT_BUILD", "pure")
    assert expected in ("pure", "compiled")
    names = _setup().compiled_modules()
    assert len(names) > 40  # the selection reads the packages
    compiled = [name for name in names if _is_compiled(name)]
    if expected == "compiled":
        assert compiled == names
    else:
        assert compiled == [], "a compiled pagi is installed but PAGI_EXPECT_BUILD is not set"
    # --version names it
    assert installed_build() == ("compiled" if expected == "compiled" else "pure Python")
    # what the build leaves out stays pure Python either way
    assert not _is_compiled("pagi.worker.event_errors")
    assert not _is_compiled("pagi.frontend.cli")


def test_the_selection_follows_the_packages_with_its_exclusions(tmp_path: Path) -> None:
    """A new module of an included package (or a module split in two) is
    compiled without editing the lists; excluded names stay out."""
    setup = _setup()
    files = setup.compiled_files()
    assert "protocol/codec.py" in files
    assert "frontend/http1/connection.py" in files
    assert "frontend/http2/connection.py" in files
    assert "worker/http_scope.py" in files
    assert not [f for f in files if f.endswith(("__init__.py", "__main__.py"))]
    assert not [f for f in files if f.rpartition("/")[2].startswith("cli")]
    for folder in ("protocol", "frontend/http2", "worker"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_bytes((REPO / "pyproject.toml").read_bytes())
    for rel in ("protocol/codec_a.py", "frontend/http2/new_half.py", "worker/cli_more.py"):
        (tmp_path / rel).write_text("")
    assert setup.compiled_files(tmp_path) == ["frontend/http2/new_half.py", "protocol/codec_a.py"]
    assert setup.compiled_modules(tmp_path) == [
        "pagi.frontend.http2.new_half",
        "pagi.protocol.codec_a",
    ]


def test_a_failed_c_build_installs_pure_python_with_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No C compiler (here: one that always fails): the build goes on without
    the extension, leaves nothing half built (nor an earlier build's shared
    library) and says so in one line."""
    from setuptools import Extension
    from setuptools.dist import Distribution

    (tmp_path / "m.c").write_text("int x;\n")
    monkeypatch.setenv("CC", "false")
    monkeypatch.chdir(tmp_path)
    dist = Distribution({"name": "t", "ext_modules": [Extension("m", ["m.c"])]})
    command = _setup().FallbackBuildExt(dist)
    command.build_lib = str(tmp_path / "lib")
    command.build_temp = str(tmp_path / "tmp")
    command.ensure_finalized()
    stale = tmp_path / "lib" / "0123abcd__mypyc.so"  # an earlier build's shared library
    stale.parent.mkdir()
    stale.write_bytes(b"")
    command.run()  # does not raise
    assert not list((tmp_path).rglob("m*.so"))
    assert not stale.exists()  # never packed along with this build
    lines = [line for line in capfd.readouterr().err.splitlines() if "pagi build:" in line]
    assert len(lines) == 1
    assert "installing pure Python" in lines[0]


def test_without_mypyc_the_build_is_pure_python_with_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mypyc.build", None)  # import fails
    assert _setup().mypyc_extensions(tmp_path) == []
    err = capfd.readouterr().err
    assert err.count("pagi build:") == 1
    assert "mypyc is not installed" in err
