"""One websocket scope on the worker: the app's ``receive``/``send`` and their state.

A :class:`WebSocketScope` lives from OPEN (``type: "websocket"``) until the
app's coroutine finishes and END is queued. The session feeds it (WS_RECEIVE,
WS_DISCONNECT, CREDIT, CLOSE); it writes through the session's link.

Handshake (``_state``): CONNECTING -> OPEN (``websocket.accept``) -> CLOSED
(``websocket.close``), or CONNECTING -> CLOSED (an ASGI app's close before
accept: the front answers 403), or CONNECTING -> DENYING (a refusal start:
``http.response.start`` for PAGI apps, ``websocket.http.response.start`` for
ASGI apps) -> CLOSED (the refusal's final body). Never back. A denial ends
the connection on the worker's side at once (``websocket.disconnect`` 1006,
reason ``""``), since no websocket ever existed.

Inbound messages (front -> app) wait in the scope's
:class:`~.websocket_inbox.Inbox` (the window, the credit owed, the message
being assembled; its invariants are there) until ``receive()`` takes them.

Outbound data (app -> front): WS_SEND (and a denial body's HTTP_RESPONSE_BODY)
goes through the scope's :class:`~.websocket_outbox.Outbox` (response window,
frame size, whole messages in order). ``websocket.close`` goes out at once:
anything still queued is dropped, and a message cut short leaves the front with
a final WS_SEND piece that never comes (the front discards it or ends it with
the close frame). After close every ``send`` is validated and then ignored; once
the client side is gone too, except that ASGI apps get
:class:`~.events.ClientDisconnected` (an ``OSError``, ASGI 2.4).

What differs between PAGI and ASGI apps (the worker's ``Interface``; the
event tables in docs/worker.md): how a handshake is refused
(``http.response.*`` / ``websocket.http.response.*``), whether a close before
accept denies it (ASGI: 403) or fails the send (PAGI), and who closes a
connection the app leaves open (PAGI: the worker, 1011; ASGI: the front,
1000).

``pagi.connection`` *starts* with accept or a refusal start and ends
*cleanly* when a refusal or the closing handshake completes, *abnormally*
otherwise: a drop (1006, the front's reason), a connection the front failed
(``reasons.WS_FAILURES``), CLOSE, a lost link, ``abort()``, or an app that
ended with the connection open or undecided (docs/worker.md).
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from pagi.protocol import Event, LinkError, encode, reasons
from pagi.protocol import messages as m
from pagi.protocol.kinds import EVENT as _EVENT
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as _HTTP_BODY
from pagi.protocol.kinds import HTTP_RESPONSE_START as _HTTP_START
from pagi.protocol.kinds import WS_ACCEPT as _WS_ACCEPT
from pagi.protocol.kinds import WS_CLOSE as _WS_CLOSE
from pagi.protocol.kinds import WS_DISCONNECT as _WS_DISCONNECT
from pagi.protocol.kinds import WS_KEEPALIVE as _WS_KEEPALIVE
from pagi.protocol.kinds import WS_MOVE as _WS_MOVE
from pagi.protocol.kinds import WS_RECEIVE as _WS_RECEIVE
from pagi.protocol.kinds import WS_RESUMABLE as _WS_RESUMABLE
from pagi.protocol.kinds import WS_RESUME_STATE as _WS_RESUME_STATE
from pagi.protocol.kinds import WS_RETURN_CREDIT as _WS_RETURN_CREDIT
from pagi.protocol.kinds import WS_SEND as _WS_SEND
from pagi.protocol.resume import MOVED_CODE, MOVED_REASON, STATE_EVENT

from . import websocket_events as wse
from .backlog import TransportState
from .connection_state import ConnectionState
from .event_order import CLOSED, CONNECTING, DENYING, OPEN, websocket_order_error
from .http_events import UnexpectedEvent, client_disconnected, event_type
from .resume import accepts_move, check_state
from .scope import build_websocket_scope
from .scope_base import ScopeBase
from .websocket_inbox import Inbox
from .websocket_outbox import Outbox

if TYPE_CHECKING:
    from .scope_session import ScopeSession

logger = logging.getLogger("pagi.worker")

#: Disconnect code and reason the app sees after it denied the handshake.
DENIED_CODE = 1006
DENIED_REASON = ""


class WebSocketScope(ScopeBase):
    __slots__ = (
        "_accepted",
        "_close_code",
        "_close_reason",
        "_connect_delivered",
        "_inbox",
        "_movable",
        "_move_asked",
        "_outbox",
        "_refuse_body",
        "_refuse_start",
        "_started",
        "_state",
    )

    def __init__(self, session: ScopeSession, msg: list[Any]) -> None:
        self.session = session
        self.sid = msg[1]
        self._open = msg
        self.transport = TransportState()
        self.connection = ConnectionState(session.loop, self._app_aborted)
        self.scope = build_websocket_scope(msg, session, self.connection, self.transport)
        prefix = session.interface.ws_refusal_prefix
        self._refuse_start = prefix + "start"
        self._refuse_body = prefix + "body"
        self._state = CONNECTING
        self._accepted = False
        self._started = False  # accept, close or a denial start went to the front
        self._connect_delivered = False
        # inbound
        self._recv_allowed = session.request_window
        self._recv_waiters = None
        self._inbox = Inbox(session.request_window)
        # outbound
        self._outbox = Outbox(session, self.sid, self.transport)
        # the end
        self.gone = False  # the client side is gone: sends are no-ops
        self._movable = False  # accepted with "pagi.resume": True (docs/resume.md)
        self._move_asked = False  # WS_MOVE: disconnect 1012 "moved" after the held messages
        self._close_code = 1006
        self._close_reason = ""

    # --- the end of the app (see ScopeBase.run) ----------------------------------------

    def _app_ended(self, outcome: int, detail: str = "") -> bool:
        state = self._state
        if not outcome and not self.gone:
            if state == CONNECTING:
                logger.error("the app returned without accepting or closing %s", self._describe())
            elif state == DENYING:
                logger.error(
                    "the app returned before completing the denial response for %s",
                    self._describe(),
                )
            elif state == OPEN and self.session.interface.ws_return_closes_1011:
                # PAGI 0.6: an accepted connection the app leaves open is an
                # error: close it with 1011 now (the front would say 1000)
                logger.error(
                    "the app returned without closing %s: closing it with 1011", self._describe()
                )
                self.session.link.send([_EVENT, self.sid, _WS_CLOSE, 1011, ""])
                self._set_gone(1011, reasons.SERVER_ERROR)
        # what the front will do now: close 1000 (returned) or 1011 (raised)
        if outcome:
            self.connection._set_disconnected(reasons.SERVER_ERROR, detail or None)
            self._set_gone(1011, reasons.SERVER_ERROR)
        elif state == OPEN and not self.gone:
            self.connection._set_complete()  # an ASGI app left it open: the front closes 1000
            self.connection._set_closed()
            self._set_gone(1000, "")
        else:
            self._set_gone(1000, reasons.SERVER_ERROR)
        return self._started

    def _describe(self) -> str:
        return f"websocket {self._target()}"

    # --- fed by the session -------------------------------------------------------

    def on_request_body(self, body: bytes, more: bool) -> None:
        raise LinkError(f"scope {self.sid}: HTTP_REQUEST on a websocket scope")

    def on_ws_event(self, msg: list[Any]) -> None:
        """WS_RECEIVE, WS_DISCONNECT or WS_RETURN_CREDIT (any other event code is
        a violation)."""
        code = msg[2]
        if code == _WS_RECEIVE:
            self._inbox.take(self, msg[3], msg[4])
        elif code == _WS_DISCONNECT:
            self._disconnected(msg[3], msg[4])
        elif code == _WS_MOVE:
            self._move_asked = True
            self._wake_receivers()
        elif code == _WS_RETURN_CREDIT:
            self._inbox.return_all(self)
        else:
            raise LinkError(f"scope {self.sid}: {Event(code).name} on a websocket scope")

    def on_credit(self, nbytes: int) -> None:
        self.transport._credited(nbytes)
        self._outbox.credit(nbytes)

    def on_close(self, reason: str) -> None:
        """CLOSE, or the link to the front dropped: an abnormal end (1006)."""
        self._set_gone(1006, reason)

    def _disconnected(self, code: int, reason: str) -> None:
        """WS_DISCONNECT: the connection is over; a closing handshake that
        completed is a clean end, a drop or a failed connection is not."""
        if self.gone:
            return
        failure = reasons.WS_FAILURES.get(code)
        if code == 1006:
            self.connection._set_disconnected(reason or reasons.CLIENT_CLOSED)
        elif failure is not None and failure[0] == reason:
            self.connection._set_disconnected(failure[1], reason)
        else:
            self.connection._set_complete()
            self.connection._set_closed()
        self._set_gone(code, reason)

    def _app_aborted(self, detail: str | None) -> None:
        """``pagi.connection.abort(detail)``: the front drops the connection
        (no close frame: 1006 for the client)."""
        if self.gone:
            return
        self.session.link.send(m.abort(self.sid, detail or ""))
        self._set_gone(1006, reasons.APP_ABORT)

    def _moved(self) -> None:
        """WS_MOVE, once the app took every message it held: it hears 1012
        ``moved`` and its later sends are dropped; what it sent before still
        goes out (the outbox is kept), and so does a state token."""
        self.connection._set_disconnected(reasons.SERVER_SHUTDOWN)
        self.gone = True
        self._close_code = MOVED_CODE
        self._close_reason = MOVED_REASON

    def _set_gone(self, code: int, reason: str) -> None:
        """The connection is over for the app (``websocket.disconnect`` with
        ``code``/``reason`` from now on). Ends ``pagi.connection`` abnormally
        with ``reason`` unless it has ended already."""
        if self.gone:
            return
        self.connection._set_disconnected(reason or reasons.SERVER_ERROR)
        self.gone = True
        self._close_code = code
        self._close_reason = reason
        self._inbox.drop_partial()
        self._outbox.drop()
        self._wake_receivers()

    # --- receive ---------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        if not self._connect_delivered:
            self._connect_delivered = True
            return {"type": "websocket.connect"}
        inbox = self._inbox
        messages = inbox.messages
        while True:
            if messages:
                data, uncredited = messages.popleft()
                owed = inbox.owed + uncredited
                if owed >= inbox.batch:
                    inbox.owed = 0
                    self._grant(owed)
                else:
                    inbox.owed = owed
                if type(data) is str:
                    return {"type": "websocket.receive", "bytes": None, "text": data}
                return {"type": "websocket.receive", "bytes": data, "text": None}
            if self._move_asked and not self.gone:
                self._moved()
            if self.gone:
                return {
                    "type": "websocket.disconnect",
                    "code": self._close_code,
                    "reason": self._close_reason,
                }
            if inbox.partial_uncredited:
                n = inbox.partial_uncredited + inbox.owed
                inbox.partial_uncredited = inbox.owed = 0
                self._grant(n)
            await self._wait_receive()

    # --- send --------------------------------------------------------------------

    async def send(self, event: MutableMapping[str, Any]) -> None:
        etype = event_type(event)
        if etype == wse.SEND:
            data = wse.check_send(event)
            if self.gone or self._state == CLOSED:
                return self._ignored(etype)
            if self._state != OPEN:
                raise self._order_error(etype)
            await self._outbox.send(_WS_SEND, data, False)
        elif etype == wse.ACCEPT:
            subprotocol, headers = wse.check_accept(event)
            movable = accepts_move(etype, event, self.scope)
            if self.gone or self._state == CLOSED:
                return self._ignored(etype)
            if self._state != CONNECTING:
                raise self._order_error(etype)
            frame = encode([_EVENT, self.sid, _WS_ACCEPT, subprotocol, headers])
            self._check_frame_size(etype, frame)
            self.session.link.send_frame(frame)
            self._state = OPEN
            self._accepted = True
            self._started = True
            self.connection._set_started()
            if movable:
                self._movable = True
                self.session.link.send([_EVENT, self.sid, _WS_RESUMABLE])
        elif etype == wse.CLOSE:
            code, reason = wse.check_close(event)
            if self.gone or self._state == CLOSED:
                return self._ignored(etype)
            if self._state == DENYING:
                raise self._order_error(etype)
            denial = self._state == CONNECTING
            if denial and not self.session.interface.close_before_accept_denies:
                raise UnexpectedEvent(
                    f"{etype}: the connection has not been accepted; a PAGI app refuses a "
                    f"handshake with {wse.PAGI_REFUSE_START} (status >= 300) and "
                    f"{wse.PAGI_REFUSE_BODY}"
                )
            self._state = CLOSED
            self._started = True
            self._outbox.drop()
            self.session.link.send([_EVENT, self.sid, _WS_CLOSE, code, reason])
            if denial:
                self.connection._set_started()
                self._refused()
        elif etype == wse.KEEPALIVE:
            interval, timeout = wse.check_keepalive(event)
            if self.gone or self._state == CLOSED:
                return self._ignored(etype)
            if self._state != OPEN:
                raise self._order_error(etype)
            self.session.link.send([_EVENT, self.sid, _WS_KEEPALIVE, interval, timeout])
        elif etype == self._refuse_start:
            low = 300 if etype == wse.PAGI_REFUSE_START else 200
            status, headers = wse.check_http_start(event, etype, low)
            if self.gone or self._state == CLOSED:
                return self._ignored(etype)
            if self._state != CONNECTING:
                raise self._order_error(etype)
            frame = encode([_EVENT, self.sid, _HTTP_START, status, headers, False])
            self._check_frame_size(etype, frame)
            self.session.link.send_frame(frame)
            self._state = DENYING
            self._started = True
            self.connection._set_started()
        elif etype == self._refuse_body:
            body, more = wse.check_http_body(event, etype)
            if self.gone or self._state == CLOSED:
                return self._ignored(etype)
            if self._state != DENYING:
                raise self._order_error(etype)
            if not more:
                self._state = CLOSED  # claim the end now: later sends are no-ops
            elif not body:
                return
            await self._outbox.send(_HTTP_BODY, body, more)
            if not more:
                self._refused()
        elif etype == STATE_EVENT:
            state = check_state(event)
            if self._state == CLOSED:
                return self._ignored(etype)
            if not self._movable:
                raise UnexpectedEvent(
                    f"{etype}: the connection was not accepted with 'pagi.resume': True"
                )
            self.session.link.send([_EVENT, self.sid, _WS_RESUME_STATE, state])
        else:
            raise wse.unknown_type(etype, self.session.interface.ws_refusal_prefix)

    def _refused(self) -> None:
        """The handshake was refused (a complete refusal response, or an ASGI
        close before accept): a clean end; the app hears 1006."""
        self.connection._set_complete()
        self.connection._set_closed()
        self._set_gone(DENIED_CODE, DENIED_REASON)

    def _ignored(self, etype: str) -> None:
        """A valid send after the end: nothing, except for an ASGI app whose
        client is gone (ASGI 2.4: an ``OSError``)."""
        if self.gone and self._state != CLOSED and self.session.interface.raise_after_disconnect:
            raise client_disconnected(etype, self.connection.disconnect_reason())

    def _order_error(self, etype: str) -> UnexpectedEvent:
        return websocket_order_error(etype, self._state, self._refuse_start, self._refuse_body)
