"""The distribution's name and the ``--version`` line both programs print.

The distribution is ``pagi-server`` (the index name ``pagi`` belongs to an
unrelated project); the import namespace stays ``pagi.*`` and the commands stay
``pagi-front`` and ``pagi-worker``. The line also names the build that is
installed: ``pure Python``, or ``compiled`` when the hot path was compiled with
mypyc (``PAGI_COMPILE=1``, docs/performance.md "The compiled build").
"""

from __future__ import annotations

import platform

DISTRIBUTION = "pagi-server"


def installed_version() -> str:
    """The installed version of the distribution, or ``unknown`` (e.g. run from a bare tree)."""
    from importlib.metadata import PackageNotFoundError, version  # only for --version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def installed_build() -> str:
    """``compiled`` if the link codec (on every request's path, in the compiled
    selection) was loaded from a C extension, else ``pure Python``."""
    from importlib.machinery import EXTENSION_SUFFIXES

    from . import codec

    compiled = (codec.__file__ or "").endswith(tuple(EXTENSION_SUFFIXES))
    return "compiled" if compiled else "pure Python"


def version_line(program: str) -> str:
    """``pagi-front 0.1.0 (pagi-server, CPython 3.12.4, pure Python)``: one
    line, the same shape for both."""
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{program} {installed_version()} ({DISTRIBUTION}, {python}, {installed_build()})"
