"""Which build of pagi the suite runs on: pure Python or the mypyc build.

``tests/run.sh`` installs the pure build (editable) unless ``COMPILE=1``, and
says which one it installed in ``PAGI_EXPECT_BUILD``; a compiled run that
silently fell back to the ``.py`` files (or the reverse) fails here. The
module list is the build's own (``setup.py``, ``[tool.pagi.compile]``).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def _setup() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pagi_setup", REPO / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)  # defines the helpers; setup() runs only as __main__
    return module


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
    # what the build leaves out stays pure Python either way
    assert not _is_compiled("pagi.worker.event_errors")
    assert not _is_compiled("pagi.frontend.cli")


def test_the_selection_follows_the_packages_with_its_exclusions(tmp_path: Path) -> None:
    """A module split in two is compiled in both halves without editing the list."""
    setup = _setup()
    files = setup.compiled_files()
    assert "protocol/codec.py" in files
    assert "frontend/http1/connection.py" in files
    assert "worker/http_scope.py" in files
    assert not [f for f in files if f.endswith(("__init__.py", "__main__.py"))]
    assert not [f for f in files if f.rpartition("/")[2].startswith("cli")]
    for folder in ("protocol", "frontend/streams", "worker"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_bytes((REPO / "pyproject.toml").read_bytes())
    for rel in ("protocol/codec_a.py", "frontend/streams/new_half.py", "worker/cli_more.py"):
        (tmp_path / rel).write_text("")
    assert setup.compiled_files(tmp_path) == ["frontend/streams/new_half.py", "protocol/codec_a.py"]
    assert setup.compiled_modules(tmp_path) == [
        "pagi.frontend.streams.new_half",
        "pagi.protocol.codec_a",
    ]
