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
from pathlib import Path

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
