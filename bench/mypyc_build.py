"""The working tree compiled with mypyc, for the bench only (``pagi-1w-mypyc``).

``python -m bench.mypyc_build OUT TEMP`` compiles the modules on a request's
path (:data:`INCLUDE` minus :data:`EXCLUDE`, globs relative to the
repository) into C extensions under ``OUT/pagi/...`` (plus mypyc's shared
library at ``OUT``), using ``TEMP`` for the generated C and objects. The
caller (``bench/revisions.py``) copies the ``.py`` files next to them.

pagi does not ship this build: it saved too little CPU per request to pay for
a C toolchain at install time and a second build to test (docs/performance.md,
"Tried, measured, not done"). It stays so the measurement can be repeated.
Needs mypy (the ``test`` extra) and a C compiler with the Python headers.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The source folders and the package each one is installed as.
PACKAGES = {"protocol": "pagi.protocol", "frontend": "pagi.frontend", "worker": "pagi.worker"}
INCLUDE = (
    "protocol/*.py",
    "frontend/http1/*.py",
    "frontend/link/*.py",
    "frontend/streams/*.py",
    "frontend/websocket/*.py",
    "worker/*.py",
)
EXCLUDE = (
    "*/__init__.py",
    "*/__main__.py",
    # start-up only
    "*/cli*.py",
    "protocol/env_file.py",
    "protocol/log_*.py",
    "worker/config.py",
    "worker/loader.py",
    "worker/logs.py",
    "worker/spawned_argv.py",
    # subclasses of RuntimeError and OSError, which mypyc cannot compile
    "worker/event_errors.py",
    # the fallback parser (httptools absent): h11 hands over bytearrays typed bytes
    "frontend/http1/parser_h11.py",
)


def compiled_files(root: Path = REPO) -> list[str]:
    """The files compiled, relative to ``root``, sorted (a split module is
    compiled in both halves without editing the lists)."""
    chosen = set()
    for pattern in INCLUDE:
        for path in root.glob(pattern):
            rel = path.relative_to(root).as_posix()
            if not any(fnmatch.fnmatch(rel, ex) for ex in EXCLUDE):
                chosen.add(rel)
    return sorted(chosen)


def build(out: Path, temp: Path) -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    # mypy names a module by its path: a tree of symlinks named like the
    # installed packages (pagi/protocol -> protocol) gives it the real names.
    tree = temp / "src"
    (tree / "pagi").mkdir(parents=True, exist_ok=True)
    for folder, package in PACKAGES.items():
        link = tree / package.replace(".", "/")
        if not link.is_symlink():
            link.symlink_to(REPO / folder, target_is_directory=True)
    os.environ["MYPYPATH"] = str(tree)
    files = [str(tree / "pagi" / rel) for rel in compiled_files()]
    config = ["--config-file", str(REPO / "pyproject.toml"), "--explicit-package-bases"]
    extensions = mypycify([*config, *files], opt_level="3", target_dir=str(temp / "c"))
    os.chdir(temp)  # away from pyproject.toml: this setup() builds extensions only
    setup(
        name="pagi-mypyc-bench",
        ext_modules=extensions,
        script_args=["-q", "build_ext", "--build-lib", str(out), "--build-temp", str(temp / "o")],
    )


if __name__ == "__main__":
    build(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
