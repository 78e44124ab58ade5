"""``--reload``: watch the app's files and roll the workers when they change.

Development mode, embedded mode only. ``watchfiles`` (the ``reload`` extra:
``pip install 'pagi-server[reload]'``) watches ``--reload-dir`` (default: the app
dir, else the current directory) for files matching ``--reload-include``
(default ``*.py``) and not ``--reload-exclude`` (default: hidden files and
directories, ``__pycache__``, ``*.pyc``, ``*.pyo``); patterns are matched
against each path component as ``fnmatch`` globs. A batch of changes starts
one rolling reload (:class:`~.rolling.Operations`), the same path as
``pagi-ctl reload``: the front and every client connection stay up (a browser
keeps its connections and WebSockets to the front) while fresh workers import
the new code; a change that breaks the app leaves the old workers serving and
logs why.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from .config import FrontConfig

if TYPE_CHECKING:
    from .rolling import Operations

logger = logging.getLogger("pagi.front")

MISSING = "--reload needs the watchfiles package: pip install 'pagi-server[reload]' (or watchfiles)"
DEFAULT_INCLUDE = ("*.py",)
DEFAULT_EXCLUDE = (".*", "__pycache__", "*.pyc", "*.pyo", "*~")


class PathFilter:
    """Which changed paths trigger a reload."""

    def __init__(self, include: Sequence[str], exclude: Sequence[str]) -> None:
        self.include = tuple(include) or DEFAULT_INCLUDE
        self.exclude = tuple(exclude) if exclude else DEFAULT_EXCLUDE

    def __call__(self, path: str) -> bool:
        parts = PurePath(path).parts
        if any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in self.exclude):
            return False
        name = parts[-1] if parts else ""
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.include)


def check_available() -> str | None:
    """None if watchfiles can be imported, else the message to show."""
    try:
        import watchfiles  # noqa: F401
    except ImportError:
        return MISSING
    return None


class FileWatcher:
    """Runs ``on_change`` after each batch of relevant changes under ``dirs``."""

    def __init__(
        self,
        dirs: Sequence[str],
        path_filter: PathFilter,
        on_change: Callable[[], Awaitable[object]],
    ) -> None:
        self._dirs = [os.path.abspath(d) for d in dirs]
        self._filter = path_filter
        self._on_change = on_change
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pagi-reload")
        logger.info(
            "watching %s for changes to %s (--reload)",
            ", ".join(self._dirs),
            " ".join(self._filter.include),
        )

    async def _run(self) -> None:
        from watchfiles import awatch

        async for changes in awatch(
            *self._dirs,
            watch_filter=lambda _change, path: self._filter(path),
            stop_event=self._stop,
            debounce=200,
        ):
            names = sorted({os.path.relpath(path) for _change, path in changes})
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            logger.info("changes in %s: reloading the workers", shown)
            try:
                await self._on_change()
            except Exception:
                logger.exception("reload after a change failed")

    async def close(self) -> None:
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def watch_app_files(config: FrontConfig, ops: Operations) -> FileWatcher:
    """Start ``--reload``'s watcher: each batch of changes is one rolling reload."""

    async def reload() -> None:
        await ops.reload(wait=True)

    dirs = config.reload_dirs or [config.app_dir or os.getcwd()]
    watcher = FileWatcher(dirs, PathFilter(config.reload_include, config.reload_exclude), reload)
    watcher.start()
    return watcher
