"""The working tree compiled with mypyc, for the bench (``pagi-1w-mypyc``).

``python -m bench.mypyc_build OUT TEMP`` compiles what the shipped compiled
build compiles (``setup.py``'s :func:`mypyc_extensions`: the modules
``[tool.pagi.compile]`` in ``pyproject.toml`` selects) into C extensions under
``OUT/pagi/...`` (plus mypyc's shared library at ``OUT``), using ``TEMP`` for
the generated C and objects. The caller (``bench/revisions.py``) copies the
``.py`` files next to them. Needs mypy (the ``test`` extra) and a C compiler
with the Python headers.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent


def load_setup() -> ModuleType:
    """The repository's ``setup.py`` as a module (its ``setup()`` runs only as ``__main__``)."""
    spec = importlib.util.spec_from_file_location("pagi_setup", REPO / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build(out: Path, temp: Path) -> None:
    from setuptools import setup

    extensions = load_setup().mypyc_extensions(temp)
    if not extensions:
        raise SystemExit("bench: mypyc compiled nothing (see the 'pagi build:' line)")
    os.chdir(temp)  # away from pyproject.toml: this setup() builds extensions only
    setup(
        name="pagi-mypyc-bench",
        ext_modules=extensions,
        script_args=["-q", "build_ext", "--build-lib", str(out), "--build-temp", str(temp / "o")],
    )


if __name__ == "__main__":
    build(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
