"""The response credit window of one scope (worker -> front direction).

``available`` is how many more response body bytes the worker may send on the
scope: the front's WELCOME window, plus every CREDIT, minus what was sent. It
never goes negative: senders take at most ``available`` and otherwise
:meth:`SendWindow.wait`.

Waiting is resolved, never cancelled, by the server: a CREDIT wakes every
waiter, and so does :meth:`SendWindow.close` (the client side is gone), after
which ``closed`` is true and senders stop sending.

(The request direction needs no waiting on this side: its bookkeeping is an
integer kept by the scope itself, see :mod:`.scope_base`.)
"""

from __future__ import annotations

import asyncio


class SendWindow:
    __slots__ = ("_loop", "_waiters", "available", "closed")

    def __init__(self, initial: int, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self.available = initial
        self.closed = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def take(self, wanted: int) -> int:
        """Reserve up to ``wanted`` bytes of window; return how many (maybe 0)."""
        n = wanted if wanted <= self.available else self.available
        self.available -= n
        return n

    def grant(self, nbytes: int) -> None:
        self.available += nbytes
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    async def wait(self, need: int = 1) -> None:
        """Return once ``available >= need`` or the window is closed (at once
        if that holds already). A CREDIT that leaves less than ``need`` keeps
        the caller waiting for the next one."""
        while self.available < need and not self.closed:
            loop = self._loop or asyncio.get_running_loop()
            future: asyncio.Future[None] = loop.create_future()
            self._add_waiter(future)
            try:
                await future
            finally:
                if self._waiters is not None and future in self._waiters:
                    self._waiters.remove(future)

    def _add_waiter(self, future: asyncio.Future[None]) -> None:
        # Not inlined into wait(): narrowing ``self._waiters`` to a list there
        # would outlive the ``await`` (which _wake() ends by setting it to
        # None), and mypyc turns that narrowing into a runtime type check.
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(future)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, None
        if waiters:
            for future in waiters:
                if not future.done():
                    future.set_result(None)
