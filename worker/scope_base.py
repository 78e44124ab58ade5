"""What every scope on the worker shares: running the app to END, and the receive plumbing.

:class:`ScopeBase` is the common base of :class:`~.http_scope.HTTPScope` (and
its subclass :class:`~.sse_scope.SSEScope`) and
:class:`~.websocket_scope.WebSocketScope`. A scope object lives from OPEN until
the app's coroutine ends and END is queued; the session feeds it and it writes
through the session's link, never touching a socket itself.

Invariants kept here (the subclasses keep their own state machines):

* :meth:`ScopeBase.run` never raises (``SystemExit``/``KeyboardInterrupt``
  still propagate) and queues exactly one END, after which the session forgets
  the scope. END's ``outcome`` is 0 when the app returned and 1 when it raised
  or was cancelled; its ``detail`` is ``""``, ``"cancelled"`` /
  ``"cancelled at shutdown"``, or the exception's first line (at most 1000
  characters). A raise or cancellation is logged here, once; what an app that
  *returned* left unfinished is logged by the subclass's :meth:`_app_ended`.
* ``gone`` becomes True once (the client side is gone) and never goes back;
  every ``send()`` after it is validated and then ignored (each subclass).
* ``_recv_allowed`` is how much more inbound data the front may send before it
  exceeds the window this side granted; :meth:`_grant` is how it grows again,
  and it never grows once ``gone``.
* Waiters in ``receive()`` are futures resolved (never cancelled) by
  :meth:`_wake_receivers`, which wakes all of them; a woken ``receive()``
  re-checks its state, so a spurious wake-up is harmless.

There is no ``__init__`` here: each subclass sets the attributes below in its
own, so opening a scope costs no extra call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pagi.protocol.kinds import CREDIT as _CREDIT
from pagi.protocol.kinds import END as _END

from .http_events import ClientDisconnected, InvalidEvent
from .loader import exc_summary

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from .backlog import TransportState
    from .connection_state import ConnectionState
    from .scope_session import ScopeSession

logger = logging.getLogger("pagi.worker")


#: Longest exception text that goes into END's ``detail``.
_MAX_DETAIL = 1000


def _caused_by_disconnect(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was raised while handling, a ClientDisconnected."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 16:
        if isinstance(current, ClientDisconnected):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


class ScopeBase:
    __slots__ = (
        "_open",
        "_recv_allowed",
        "_recv_waiters",
        "connection",
        "gone",
        "scope",
        "session",
        "sid",
        "transport",
    )

    session: ScopeSession
    sid: int
    _open: list[Any]  # the OPEN message, as received
    scope: dict[str, Any]  # what the app gets
    transport: TransportState
    connection: ConnectionState
    gone: bool  # the client side is gone: sends are no-ops
    _recv_allowed: int
    _recv_waiters: list[asyncio.Future[None]] | None

    # --- the app's side (each subclass) -------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        raise NotImplementedError

    async def send(self, event: MutableMapping[str, Any]) -> None:
        raise NotImplementedError

    # --- fed by the session (each subclass) -------------------------------------------

    def on_request_body(self, body: bytes, more: bool) -> None:
        """HTTP_REQUEST for this scope (a link violation where none is expected)."""
        raise NotImplementedError

    def on_credit(self, nbytes: int) -> None:
        """CREDIT: the front takes ``nbytes`` more of response data."""
        raise NotImplementedError

    def on_close(self, reason: str) -> None:
        """CLOSE, or the link to the front dropped: the client side is gone."""
        raise NotImplementedError

    # --- running the app --------------------------------------------------------------

    async def run(self) -> None:
        """Run the app on this scope, then queue END. Never raises (but
        propagates ``SystemExit``/``KeyboardInterrupt``)."""
        outcome = 0
        detail = ""
        try:
            await self.session.app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            outcome = 1
            detail = self._cancelled()
        except Exception as exc:
            outcome = 1
            detail = self._crashed(exc)
        self._finish(outcome, detail)

    def _finish(self, outcome: int, detail: str) -> None:
        """Settle the scope now that the app's coroutine is over, queue END and
        let the session forget the scope."""
        started = self._app_ended(outcome, detail)
        session = self.session
        session.link.send([_END, self.sid, outcome, started, detail])
        session.scope_ended(self)

    def _app_ended(self, outcome: int, detail: str = "") -> bool:
        """Bring the scope to its end state (``outcome`` 0: the app returned,
        so log what it left unfinished; 1: it raised or was cancelled, and
        ``detail`` says how: it becomes ``pagi.connection.disconnect_detail()``
        of an abnormal end) and
        return whether the app sent anything the front acted on (END's
        ``started``)."""
        raise NotImplementedError

    def _cancel_detail(self) -> str:
        return "cancelled at shutdown" if self.session.stopping else "cancelled"

    def _cancelled(self) -> str:
        """Log the app's cancellation; return END's ``detail`` for it."""
        detail = self._cancel_detail()
        logger.warning("%s: %s", self._describe(), detail)
        return detail

    def _crashed(self, exc: Exception) -> str:
        """Log the app's exception with its traceback; return END's ``detail``.

        An exception that the client's leaving caused — a ``send()`` raising
        :class:`~.http_events.ClientDisconnected` (ASGI apps), or anything
        raised while handling one, like Starlette's ``ClientDisconnect`` — is
        not an app error: one DEBUG line, no traceback (as uvicorn)."""
        detail = exc_summary(exc)[:_MAX_DETAIL]
        if self.gone and _caused_by_disconnect(exc):
            logger.debug("the app for %s stopped as its client left: %s", self._describe(), detail)
        else:
            logger.error("exception in the app for %s", self._describe(), exc_info=exc)
        return detail

    def _describe(self) -> str:
        """The request as log lines name it (``GET /path?q``, ``websocket /path``)."""
        raise NotImplementedError

    def _target(self) -> str:
        """The request target (raw path and query) as text, for logs."""
        raw: bytes = self._open[6]
        query: bytes = self._open[7]
        if query:
            raw = raw + b"?" + query
        return raw.decode("latin-1")

    # --- receive plumbing -------------------------------------------------------------

    def _grant(self, n: int) -> None:
        """Let the front send ``n`` more units of inbound data (CREDIT), unless
        the client side is gone."""
        if n > 0 and not self.gone:
            self._recv_allowed += n
            self.session.link.send([_CREDIT, self.sid, n])

    async def _wait_receive(self) -> None:
        """Wait until :meth:`_wake_receivers` runs (the caller re-checks its state)."""
        future: asyncio.Future[None] = self.session.loop.create_future()
        # The attribute is read into locals, never narrowed itself: mypy
        # would carry a narrowing to a list across the await (where
        # _wake_receivers() sets None), and the compiled build checks it.
        queued = self._recv_waiters
        if queued is None:
            self._recv_waiters = [future]
        else:
            queued.append(future)
        try:
            await future
        finally:
            waiters = self._recv_waiters
            if waiters is not None and future in waiters:
                waiters.remove(future)

    def _wake_receivers(self) -> None:
        waiters, self._recv_waiters = self._recv_waiters, None
        if waiters:
            for future in waiters:
                if not future.done():
                    future.set_result(None)

    # --- send plumbing ----------------------------------------------------------------

    def _check_frame_size(self, etype: str, frame: bytes) -> None:
        """Refuse an encoded event (with headers) larger than the front accepts."""
        limit = self.session.max_frame_size
        if len(frame) - 4 > limit:
            raise InvalidEvent(
                f"{etype}: the headers are too large ({len(frame) - 4} bytes encoded; "
                f"the link to the front allows {limit})"
            )
