"""Running application callbacks from server code without letting them hurt it.

An application callback (``on_disconnect``, ``on_complete``, ``on_high_water``,
``on_drain``) runs synchronously at the moment its condition happens. If it
raises, the exception is logged and the server carries on; if it returns an
awaitable (an ``async def`` callback), the awaitable is run as a task whose
failure is logged the same way.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("pagi.worker")

#: Strong references to callback tasks until they finish (the loop keeps only
#: weak ones).
_tasks: set[asyncio.Task[Any]] = set()


def _task_done(task: asyncio.Task[Any]) -> None:
    _tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("exception in an application callback", exc_info=task.exception())


def invoke(callback: Callable[..., object], *args: object) -> None:
    """Call ``callback(*args)``; log (never propagate) what goes wrong."""
    try:
        result = callback(*args)
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            _tasks.add(task)
            task.add_done_callback(_task_done)
    except Exception:
        logger.exception("exception in an application callback %r", callback)
