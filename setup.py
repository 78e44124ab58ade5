"""pagi's build hook: pure Python, unless ``PAGI_COMPILE=1`` asks for the mypyc build.

Everything else about the package is in ``pyproject.toml``. This file only
adds the optional compiled build of the hot path (``docs/performance.md``,
"The compiled build"):

* ``PAGI_COMPILE=1 pip install .`` (a regular, non-editable install) compiles
  the modules ``[tool.pagi.compile]`` selects with mypyc into C extensions
  that sit next to the ``.py`` files and are imported in their place. The
  build environment gets mypy and pagi's own dependencies (mypyc needs their
  types to compile the same code mypy checks).
* Without ``PAGI_COMPILE`` (the default) nothing here runs: a pure-Python
  install, as fast as any.
* An editable install (``pip install -e .``) always stays pure Python: a
  compiled module would shadow the ``.py`` file the developer edits.
* Any failure (mypyc missing, mypyc refusing a module, no C compiler or
  Python headers) logs one ``pagi build:`` line and installs pure Python;
  a compiled build is never half installed.

``bench/mypyc_build.py`` builds the same selection the same way
(:func:`mypyc_extensions`) for the bench's ``pagi-1w-mypyc``.
"""

from __future__ import annotations

import fnmatch
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
#: The source folders and the package each one is installed as.
PACKAGES = {"protocol": "pagi.protocol", "frontend": "pagi.frontend", "worker": "pagi.worker"}


def say(line: str) -> None:
    print(f"pagi build: {line}", file=sys.stderr, flush=True)


def _pyproject(root: Path = ROOT) -> dict[str, Any]:
    with open(root / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def compiled_files(root: Path = ROOT) -> list[str]:
    """The source files the compiled build compiles, relative to ``root``, sorted.

    ``[tool.pagi.compile]``: ``include`` globs minus ``exclude`` globs (both
    matched against the path relative to the repository), so a new module
    in an included package, or a module split in two, is compiled without
    editing the lists.
    """
    table = _pyproject(root)["tool"]["pagi"]["compile"]
    chosen = set()
    for pattern in table["include"]:
        for path in root.glob(pattern):
            rel = path.relative_to(root).as_posix()
            if not any(fnmatch.fnmatch(rel, ex) for ex in table["exclude"]):
                chosen.add(rel)
    return sorted(chosen)


def compiled_modules(root: Path = ROOT) -> list[str]:
    """The import names of :func:`compiled_files` (``pagi.protocol.codec``...)."""
    names = []
    for rel in compiled_files(root):
        folder, _, rest = rel.removesuffix(".py").partition("/")
        names.append(f"{PACKAGES[folder]}.{rest.replace('/', '.')}")
    return names


def build_requirements() -> list[str]:
    """What the build environment needs for mypyc: mypy and pagi's dependencies."""
    project = _pyproject()["project"]
    fast = project["optional-dependencies"]["fast"]
    mypy = [r for r in project["optional-dependencies"]["test"] if r.startswith("mypy")]
    return [*mypy, *project["dependencies"], *fast]


def mypyc_extensions(work: Path) -> list[Any]:
    """The extensions of the compiled build (generated C under ``work``), or
    [] with one log line if mypyc is missing or refuses the code."""
    try:
        from mypyc.build import mypycify
    except ImportError:
        say("mypyc is not installed (PAGI_COMPILE=1 needs mypy); installing pure Python")
        return []
    # mypy names a module by its path: a tree of symlinks named like the
    # installed packages (pagi/protocol -> protocol) gives it the real names.
    tree = work / "src"
    (tree / "pagi").mkdir(parents=True, exist_ok=True)
    for folder, package in PACKAGES.items():
        link = tree / package.replace(".", "/")
        if not link.is_symlink():
            link.symlink_to(ROOT / folder, target_is_directory=True)
    os.environ["MYPYPATH"] = str(tree)
    files = [str(tree / "pagi" / rel) for rel in compiled_files()]
    config = ["--config-file", str(ROOT / "pyproject.toml"), "--explicit-package-bases"]
    try:
        return list(mypycify([*config, *files], opt_level="3", target_dir=str(work / "c")))
    except (Exception, SystemExit) as exc:  # mypyc exits on a module it refuses
        say(f"mypyc could not compile pagi ({exc!r}); installing pure Python")
        return []


class FallbackBuildExt(build_ext):  # type: ignore[misc]
    """build_ext that, when the C build fails, removes what it built and goes on.

    It also removes another build's mypyc shared library from the build
    directory (a rebuild with another module set names it differently), which
    the wheel would otherwise pack along.
    """

    def run(self) -> None:
        ours = {Path(output).resolve() for output in self.get_outputs()}
        for stale in Path(self.build_lib).glob("*__mypyc.*"):
            if stale.resolve() not in ours:
                stale.unlink()
        try:
            super().run()
        except Exception as exc:  # CompileError, LinkError, no compiler at all
            for output in self.get_outputs():
                Path(output).unlink(missing_ok=True)
            say(f"compiling the mypyc build failed ({exc}); installing pure Python")


def main() -> None:
    wanted = os.environ.get("PAGI_COMPILE", "") not in ("", "0")
    commands = set(sys.argv[1:])
    extensions: list[Any] = []
    requires: list[str] = []
    if wanted:
        if commands & {"editable_wheel", "develop"}:
            say(
                "PAGI_COMPILE ignored: an editable install stays pure Python "
                "(compiled modules would shadow the .py files you edit)"
            )
        elif "egg_info" in commands:  # the build backend asks what the build needs
            requires = build_requirements()
        elif "dist_info" not in commands:
            extensions = mypyc_extensions(ROOT / "build" / "mypyc")
            if extensions:
                say(f"compiling {len(compiled_files())} modules with mypyc")
    setup(
        ext_modules=extensions,
        setup_requires=requires,
        cmdclass={"build_ext": FallbackBuildExt},
    )


if __name__ == "__main__":
    main()
