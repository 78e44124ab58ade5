"""The project's rule, checked on every run: no import circle between pagi's
modules outside ``if TYPE_CHECKING:`` (tools/import_cycles.py reads the source)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_cycles", REPO / "tools/import_cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_no_import_circles() -> None:
    tool = _tool()
    assert len(tool.modules(REPO)) > 100  # it does read the packages
    assert tool.circles(REPO) == []


def test_a_circle_is_found(tmp_path: Path) -> None:
    tool = _tool()
    for folder in ("protocol", "frontend", "worker"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "frontend" / "a.py").write_text("from . import b\n")
    (tmp_path / "frontend" / "b.py").write_text("from .a import x\n")
    (tmp_path / "frontend" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n"
    )
    (tmp_path / "frontend" / "d.py").write_text("def f():\n    from . import a\n")
    assert tool.circles(tmp_path) == [["pagi.frontend.a", "pagi.frontend.b"]]
