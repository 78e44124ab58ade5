"""pagi as it was at an earlier commit, as a server of the same run.

A server named ``pagi-1w@REV`` (or ``pagi-2w@REV``) is pagi-1w / pagi-2w
running the code of git revision ``REV`` instead of the working tree, so a
change can be measured before and after in one run, alternating like any two
servers. The revision's ``protocol/``, ``frontend/`` and ``worker/`` folders
are exported with ``git archive`` into ``bench/.revs/<sha>/src`` and exposed
as ``pagi.*`` through a tree of symlinks that goes first on ``PYTHONPATH``
(the project venv's editable install of the working tree comes after it, so
its console scripts and dependencies are reused; the worker processes inherit
the environment). Apps still come from the working tree's ``bench/apps``.

``pagi-1w-mypyc`` (or ``pagi-2w-mypyc``) is the working tree compiled with
mypyc the same way, through :func:`compiled_root`.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

REVS_DIR = Path(__file__).resolve().parent / ".revs"
PACKAGES = ("protocol", "frontend", "worker")


def resolve(repo: Path, rev: str) -> str:
    """The full commit id of ``rev`` (SystemExit if git does not know it)."""
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: unknown git revision {rev!r}: {done.stderr.strip()}")
    return done.stdout.strip()


def import_root(repo: Path, rev: str) -> Path:
    """A directory that, first on ``PYTHONPATH``, makes ``pagi.*`` the code of ``rev``."""
    sha = resolve(repo, rev)
    base = REVS_DIR / sha
    tree = base / "tree"
    if (tree / "pagi" / "worker").exists():
        return tree
    src = base / "src"
    src.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", sha, *PACKAGES], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
    (tree / "pagi").mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        (tree / "pagi" / package).symlink_to(src / package)
    return tree


def compiled_root(repo: Path) -> Path:
    """A directory that, first on ``PYTHONPATH``, makes ``pagi.*`` the working
    tree built with mypyc (``bench/mypyc_build.py``).

    The build is cached under ``bench/.revs/mypyc-<digest>`` by the content of
    every source file and of the build's files (``setup.py``, its selection
    in ``pyproject.toml``, the build script); the tree holds a copy
    of the sources with the compiled modules next to them. SystemExit if the
    build compiled nothing (mypyc failed: its ``pagi build:`` line says why).
    """
    files = sorted(p for package in PACKAGES for p in (repo / package).rglob("*.py") if p.is_file())
    digest = hashlib.sha256()
    build_files = [repo / "setup.py", repo / "pyproject.toml", repo / "bench" / "mypyc_build.py"]
    for path in [*files, *build_files]:
        digest.update(path.relative_to(repo).as_posix().encode() + b"\0" + path.read_bytes())
    base = REVS_DIR / f"mypyc-{digest.hexdigest()[:16]}"
    tree = base / "tree"
    if (tree / "pagi" / "worker").exists():
        return tree
    shutil.rmtree(base, ignore_errors=True)
    for package in PACKAGES:
        shutil.copytree(
            repo / package,
            tree / "pagi" / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.so"),
        )
    print(f"bench: compiling the working tree with mypyc into {base}", flush=True)
    build = [sys.executable, "-m", "bench.mypyc_build", str(tree), str(base / "tmp")]
    subprocess.run(build, cwd=repo, check=True)
    if not any((tree / "pagi").rglob("*.so")):
        shutil.rmtree(base)
        raise SystemExit("bench: the mypyc build compiled nothing")
    return tree
