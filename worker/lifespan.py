"""The lifespan protocol: once per worker process, around everything it serves.

Modes (``--lifespan``):

* ``off``: never called.
* ``auto``: the app is called with a lifespan scope. ``lifespan.startup.complete``
  means supported; ``lifespan.startup.failed`` is fatal (exit 3); a raise or a
  return before either reply means "lifespan unsupported": logged at INFO and
  serving goes on without it.
* ``on``: as ``auto``, except that a raise or return before the reply is fatal
  too (exit 3).

Shutdown (only if startup completed): ``lifespan.shutdown`` is delivered and
the reply awaited, bounded by the graceful timeout; a failure or a timeout is
logged, never fatal. The app's lifespan coroutine is then given a moment to
return and cancelled if it does not.

``state`` is the dict in the lifespan scope; each request scope gets a shallow
copy of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import MutableMapping
from typing import Any

from .http_events import InvalidEvent, UnexpectedEvent
from .loader import App, exc_summary

logger = logging.getLogger("pagi.worker")

_STARTUP_REPLIES = ("lifespan.startup.complete", "lifespan.startup.failed")
_SHUTDOWN_REPLIES = ("lifespan.shutdown.complete", "lifespan.shutdown.failed")


class LifespanStartupFailed(Exception):
    """The app reported (or, with ``--lifespan on``, caused) a failed startup."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Lifespan:
    def __init__(self, app: App, mode: str, worker_num: int, timeout: float) -> None:
        self._app = app
        self._mode = mode
        self._worker_num = worker_num
        self._timeout = timeout
        self.state: dict[str, Any] = {}
        self.supported = False  # startup completed: shutdown will be run
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._phase = ""  # "startup" | "shutdown" while awaiting a reply
        self._reply: asyncio.Future[tuple[str, str]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    # --- what the app sees ---------------------------------------------------------

    async def _receive(self) -> dict[str, Any]:
        return await self._queue.get()

    async def _send(self, event: MutableMapping[str, Any]) -> None:
        try:
            etype = event["type"]
        except (KeyError, TypeError):
            raise InvalidEvent("lifespan event must be a dict with a 'type' key") from None
        if etype in _STARTUP_REPLIES:
            expected = "startup"
        elif etype in _SHUTDOWN_REPLIES:
            expected = "shutdown"
        else:
            raise InvalidEvent(f"unknown event type {etype!r} for a lifespan scope")
        message = event.get("message")
        if message is None:
            message = ""
        elif type(message) is not str:
            raise InvalidEvent(f"{etype}: 'message' must be a str, got {type(message).__name__}")
        if self._phase != expected or self._reply is None or self._reply.done():
            raise UnexpectedEvent(f"{etype}: not expected now (no lifespan.{expected} pending)")
        self._reply.set_result((etype, message))

    async def _main(self, scope: dict[str, Any]) -> None:
        try:
            await self._app(scope, self._receive, self._send)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._error = exc
            if self.supported:
                logger.error("exception in the app's lifespan task", exc_info=exc)
            elif self._mode == "on":
                logger.error("exception in the app during lifespan startup", exc_info=exc)
            else:
                logger.debug("lifespan startup raised", exc_info=exc)

    # --- what the worker calls ---------------------------------------------------

    async def startup(self) -> None:
        """Run startup; raise :class:`LifespanStartupFailed` if it failed."""
        if self._mode == "off":
            return
        loop = asyncio.get_running_loop()
        scope = {
            "type": "lifespan",
            "pagi": {
                "version": "0.3",
                "spec_version": "0.3",
                "is_worker": True,
                "worker_num": self._worker_num,
            },
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        self._phase = "startup"
        self._reply = reply = loop.create_future()
        self._task = task = loop.create_task(self._main(scope))
        self._queue.put_nowait({"type": "lifespan.startup"})
        try:
            await asyncio.wait({reply, task}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        self._phase = ""
        if reply.done():
            etype, message = reply.result()
            if etype == "lifespan.startup.complete":
                self.supported = True
                logger.debug("lifespan startup complete")
                return
            raise LifespanStartupFailed(message or "(no message)")
        if self._mode == "on":
            if self._error is not None:
                raise LifespanStartupFailed(exc_summary(self._error))
            raise LifespanStartupFailed("the app returned without answering lifespan.startup")
        why = exc_summary(self._error) if self._error is not None else "returned without a reply"
        logger.info("lifespan not supported by the app (%s); continuing without it", why)

    async def shutdown(self) -> None:
        """Run shutdown if startup completed; never raises."""
        task = self._task
        if not self.supported or task is None:
            return
        if task.done():
            logger.warning("lifespan shutdown skipped: the app's lifespan task already ended")
            return
        loop = asyncio.get_running_loop()
        self._phase = "shutdown"
        self._reply = reply = loop.create_future()
        self._queue.put_nowait({"type": "lifespan.shutdown"})
        deadline = loop.time() + self._timeout
        await asyncio.wait(
            {reply, task}, timeout=self._timeout, return_when=asyncio.FIRST_COMPLETED
        )
        self._phase = ""
        if reply.done():
            etype, message = reply.result()
            if etype == "lifespan.shutdown.failed":
                logger.error("lifespan shutdown failed: %s", message or "(no message)")
            else:
                logger.debug("lifespan shutdown complete")
        elif task.done():
            if self._error is None:
                logger.warning("the app's lifespan task returned without answering shutdown")
        else:
            logger.warning("lifespan shutdown did not finish within %.1f s", self._timeout)
        if not task.done():
            # let the coroutine return after its reply; then stop waiting
            remaining = max(0.0, min(1.0, deadline - loop.time()))
            await asyncio.wait({task}, timeout=remaining)
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)

    def cancel(self) -> None:
        """Stop a startup that is still running (the worker is stopping)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
