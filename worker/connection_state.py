"""``scope["pagi.connection"]``: what an http scope's app can know about its client.

Life of one object (one per http scope):

* it starts *connected*, response not started, not complete;
* the response *starts* when ``http.response.start`` goes to the front and is
  *complete* when the final body (or the trailers, when announced) does;
* it *ends* exactly once, either cleanly (the response completed: the
  ``on_complete`` callbacks run) or abnormally (the client side went away, the
  link to the front dropped, or the app finished without completing the
  response: the ``on_disconnect`` callbacks run with the reason). Exactly one
  of the two callback lists ever runs.

On an abnormal end the order is fixed: ``is_connected()`` turns false, then
``disconnect_reason()`` is set, then every ``disconnect_future()`` resolves,
then the ``on_disconnect`` callbacks run in registration order, and only then
does the scope queue ``http.disconnect`` for ``receive()``.

A client that goes away *after* a clean end still turns ``is_connected()``
false, sets the reason and resolves the futures, but runs no callbacks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .callbacks import invoke


class ConnectionState:
    __slots__ = (
        "_complete",
        "_connected",
        "_ended",
        "_futures",
        "_on_complete",
        "_on_disconnect",
        "_reason",
        "_started",
    )

    def __init__(self) -> None:
        self._connected = True
        self._reason: str | None = None
        self._started = False
        self._complete = False
        self._ended = False  # a callback list has run (or is moot)
        self._on_disconnect: list[Callable[[str], object]] | None = None
        self._on_complete: list[Callable[[], object]] | None = None
        self._futures: list[asyncio.Future[str]] | None = None

    # --- the application's API ---------------------------------------------

    def is_connected(self) -> bool:
        """False once the client side is known to be gone."""
        return self._connected

    def disconnect_reason(self) -> str | None:
        """``None`` while connected, else a standard PAGI reason (or ``x-...``)."""
        return self._reason

    def response_started(self) -> bool:
        return self._started

    def response_complete(self) -> bool:
        return self._complete

    def on_disconnect(self, callback: Callable[[str], object]) -> None:
        """Run ``callback(reason)`` on an abnormal end; at once if it already
        happened; never if the scope ended cleanly."""
        if self._ended:
            if not self._complete and self._reason is not None:
                invoke(callback, self._reason)
            return
        if self._on_disconnect is None:
            self._on_disconnect = []
        self._on_disconnect.append(callback)

    def on_complete(self, callback: Callable[[], object]) -> None:
        """Run ``callback()`` when the response completes; at once if it already
        did; never if the scope ends abnormally."""
        if self._ended:
            if self._complete:
                invoke(callback)
            return
        if self._on_complete is None:
            self._on_complete = []
        self._on_complete.append(callback)

    def disconnect_future(self) -> asyncio.Future[str]:
        """A new future resolved with the reason when the client side goes away.

        Each call returns its own future, so cancelling one (say, as the loser
        of ``asyncio.wait``) affects no other. It stays pending if the response
        completes and the client never goes away while the scope lives.
        """
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        if self._reason is not None:
            future.set_result(self._reason)
        else:
            if self._futures is None:
                self._futures = []
            self._futures.append(future)
        return future

    # --- the server's side (called by the scope) -------------------------------

    def _set_started(self) -> None:
        self._started = True

    def _set_complete(self) -> None:
        """The response completed: a clean end (unless already ended)."""
        self._complete = True
        if self._ended:
            return
        self._ended = True
        callbacks, self._on_complete, self._on_disconnect = self._on_complete, None, None
        if callbacks:
            for callback in callbacks:
                invoke(callback)

    def _set_disconnected(self, reason: str) -> bool:
        """The client side is gone. Returns False if it already was."""
        if not self._connected:
            return False
        self._connected = False
        self._reason = reason
        futures, self._futures = self._futures, None
        if futures:
            for future in futures:
                if not future.done():
                    future.set_result(reason)
        if not self._ended:
            self._ended = True
            callbacks, self._on_disconnect, self._on_complete = self._on_disconnect, None, None
            if callbacks:
                for callback in callbacks:
                    invoke(callback, reason)
        return True
