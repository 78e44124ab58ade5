"""``scope["pagi.connection"]``: what an app can know about its client (PAGI Www 0.6).

One object per http, sse and websocket scope. Its life:

* it starts *connected*, response not started, not complete;
* the response *starts* when its first decisive event goes to the front
  (``http.response.start``, ``sse.start``, ``websocket.accept`` or a
  refusal) and is *complete* when its last one does (the final body or the
  trailers; for a websocket, a closing handshake that finished);
* it *ends* exactly once, either cleanly (the response completed: the
  ``on_complete`` callbacks run) or abnormally (the client side went away, the
  link to the front dropped, the app finished without completing the response,
  or the app called :meth:`abort`: the ``on_disconnect`` callbacks run with
  ``(reason, detail)``). Exactly one of the two callback lists ever runs.

On an abnormal end the order is fixed: ``is_connected()`` turns false, then
``disconnect_reason()``/``disconnect_detail()`` are set, then every
``disconnect_future()`` resolves, then the ``on_disconnect`` callbacks run in
registration order, and only then does the scope's ``receive()`` return its
disconnect event.

Callbacks are never run inside the code that detects the end (which may be the
app's own ``send()``/``receive()``, or :meth:`abort`): they are scheduled on the
event loop (``call_soon``) at that moment, so they run right after, in order,
before any task woken by the end. One registered after the end runs the same
way, once, if its kind of end happened.

A client that goes away *after* a clean end still turns ``is_connected()``
false, sets the reason and resolves the futures, but runs no callbacks.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable

from pagi.protocol import reasons

from .callbacks import invoke

DisconnectCallback = Callable[..., object]


def _takes_detail(callback: DisconnectCallback) -> bool:
    """Whether ``callback`` accepts ``(reason, detail)`` (PAGI 0.6); callbacks
    written for the one-argument form of earlier versions get ``(reason)``."""
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(None, None)
    except TypeError:
        return False
    return True


class ConnectionState:
    __slots__ = (
        "_complete",
        "_connected",
        "_detail",
        "_ended",
        "_futures",
        "_loop",
        "_on_abort",
        "_on_complete",
        "_on_disconnect",
        "_reason",
        "_started",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None = None,
        on_abort: Callable[[str | None], None] | None = None,
    ) -> None:
        self._loop = loop  # None: the running loop, looked up when first needed
        self._on_abort = on_abort  # the scope's reaction to abort() (tell the front)
        self._connected = True
        self._reason: str | None = None
        self._detail: str | None = None
        self._started = False
        self._complete = False
        self._ended = False  # a callback list has run (or is moot)
        self._on_disconnect: list[tuple[DisconnectCallback, bool]] | None = None
        self._on_complete: list[Callable[[], object]] | None = None
        self._futures: list[asyncio.Future[str]] | None = None

    # --- the application's API ---------------------------------------------

    def is_connected(self) -> bool:
        """False once the client side is known to be gone."""
        return self._connected

    def disconnect_reason(self) -> str | None:
        """``None`` while connected or after a clean end, else a standard PAGI
        reason (``client_closed``, ``app_abort``, ... or ``x-...``)."""
        return self._reason

    def disconnect_detail(self) -> str | None:
        """Free text about an abnormal end, when there is any (the app's
        ``abort(detail)``, the exception that ended the app), else ``None``."""
        return self._detail

    def response_started(self) -> bool:
        return self._started

    def response_complete(self) -> bool:
        return self._complete

    def on_disconnect(self, callback: DisconnectCallback) -> None:
        """Run ``callback(reason, detail)`` on an abnormal end (soon, if it
        already happened); never if the scope ended cleanly."""
        entry = (callback, _takes_detail(callback))
        if self._ended:
            if not self._complete and self._reason is not None:
                loop = self._get_loop()
                loop.call_soon(self._run_disconnect, [entry], self._reason, self._detail)
            return
        if self._on_disconnect is None:
            self._on_disconnect = []
        self._on_disconnect.append(entry)

    def on_complete(self, callback: Callable[[], object]) -> None:
        """Run ``callback()`` when the response completes (soon, if it already
        did); never if the scope ends abnormally."""
        if self._ended:
            if self._complete:
                self._get_loop().call_soon(self._run_complete, [callback])
            return
        if self._on_complete is None:
            self._on_complete = []
        self._on_complete.append(callback)

    def disconnect_future(self) -> asyncio.Future[str]:
        """A new future resolved with the reason when the scope ends abnormally.

        Each call returns its own future, so cancelling one (say, as the loser
        of ``asyncio.wait``) affects no other. It stays pending if the response
        completes and the client never goes away while the scope lives.
        """
        future: asyncio.Future[str] = self._get_loop().create_future()
        if self._reason is not None:
            future.set_result(self._reason)
        else:
            if self._futures is None:
                self._futures = []
            self._futures.append(future)
        return future

    def abort(self, detail: object = None) -> None:
        """End the scope abnormally now, with reason ``app_abort`` and
        ``detail`` (a str or None): the server drops the client's connection
        (HTTP/1.1 closes it; a response cut short is never completed).
        Synchronous and idempotent; does nothing once the scope has ended
        either way. ``detail`` is typed ``object`` because the app calls
        this: a wrong type gets this method's TypeError naming the argument,
        in the compiled build too (which would check a ``str | None``
        declaration with a generic message)."""
        if detail is not None and not isinstance(detail, str):
            raise TypeError(f"abort(): 'detail' must be a str or None, got {type(detail).__name__}")
        if self._ended or not self._connected:
            return
        on_abort = self._on_abort
        self._set_disconnected(reasons.APP_ABORT, detail)
        if on_abort is not None:
            on_abort(detail)

    # --- the server's side (called by the scope) -------------------------------

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        return loop

    def _set_started(self) -> None:
        self._started = True

    def _set_complete(self) -> None:
        """The response completed: a clean end (unless already ended)."""
        self._complete = True
        if self._ended:
            return
        self._ended = True
        self._on_abort = None  # see _set_disconnected
        callbacks, self._on_complete, self._on_disconnect = self._on_complete, None, None
        if callbacks:
            self._get_loop().call_soon(self._run_complete, callbacks)

    def _set_closed(self) -> None:
        """After a clean end, the connection itself is over too (a websocket
        whose closing handshake finished): ``is_connected()`` turns false, with
        no reason."""
        self._connected = False

    def _set_disconnected(self, reason: str, detail: str | None = None) -> bool:
        """The client side is gone. Returns False if it already was."""
        if not self._connected:
            return False
        self._connected = False
        self._reason = reason
        if not self._ended:
            self._detail = detail
        futures, self._futures = self._futures, None
        if futures:
            for future in futures:
                if not future.done():
                    future.set_result(reason)
        if not self._ended:
            self._ended = True
            # abort() does nothing from now on: let go of the scope's callback,
            # which refers back to the scope (scope -> state -> scope would be
            # a reference cycle per request, left to the garbage collector)
            self._on_abort = None
            callbacks, self._on_disconnect, self._on_complete = self._on_disconnect, None, None
            if callbacks:
                self._get_loop().call_soon(self._run_disconnect, callbacks, reason, detail)
        return True

    @staticmethod
    def _run_disconnect(
        callbacks: list[tuple[DisconnectCallback, bool]], reason: str, detail: str | None
    ) -> None:
        for callback, takes_detail in callbacks:
            if takes_detail:
                invoke(callback, reason, detail)
            else:
                invoke(callback, reason)

    @staticmethod
    def _run_complete(callbacks: list[Callable[[], object]]) -> None:
        for callback in callbacks:
            invoke(callback)
