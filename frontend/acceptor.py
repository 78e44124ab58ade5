"""Accepting connections from a loop reader callback on a listening socket.

Used by the sockets the front listens on for its own peers (``workers.sock``,
``control.sock``) rather than asyncio servers, so accepting can pause and
resume without closing the socket (the front hand-over pauses them while a
new front takes over). Each accepted socket goes to ``on_accept``; a failing
``accept()`` is logged once per call and retried on the next readiness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable

from .listeners import Listener, close_listeners

logger = logging.getLogger("pagi.front")


class Acceptor:
    def __init__(self, on_accept: Callable[[socket.socket], None], what: str, batch: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_accept = on_accept
        self._what = what
        self._batch = batch  # accepts per readiness callback
        self.listener: Listener | None = None

    def start(self, listener: Listener) -> None:
        self.listener = listener
        self.resume()

    def pause(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError, ValueError):
                self._loop.remove_reader(self.listener.sock.fileno())

    def resume(self) -> None:
        if self.listener is not None:
            self._loop.add_reader(self.listener.sock.fileno(), self._accept)

    def _accept(self) -> None:
        assert self.listener is not None
        for _ in range(self._batch):
            try:
                sock, _addr = self.listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                logger.warning("accepting a %s failed: %s", self._what, exc.strerror or exc)
                return
            self._on_accept(sock)

    def close(self) -> None:
        """Stop accepting and close the socket (removing its file if ours)."""
        self.pause()
        listener, self.listener = self.listener, None
        if listener is not None:
            close_listeners([listener])


async def cancel_and_wait(task: asyncio.Task[None] | None) -> None:
    """Cancel a helper task and wait until it is over."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
