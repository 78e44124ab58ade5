"""One websocket scope on the worker: the app's ``receive``/``send`` and their state.

A :class:`WebSocketScope` lives from OPEN (``type: "websocket"``) until the
app's coroutine finishes and END is queued. The session feeds it (WS_RECEIVE,
WS_DISCONNECT, CREDIT, CLOSE); it writes through the session's link.

Handshake (``_state``): CONNECTING -> OPEN (``websocket.accept``) -> CLOSED
(``websocket.close``), or CONNECTING -> CLOSED (close before accept: the front
answers 403), or CONNECTING -> DENYING (``websocket.http.response.start``) ->
CLOSED (the final ``websocket.http.response.body``). Never back. A denial ends
the connection on the worker's side at once (``websocket.disconnect`` 1006,
reason ``""``), since no websocket ever existed.

Inbound messages (front -> app), invariants:

* the front may send at most ``_recv_allowed`` more code points/bytes of
  message data (HELLO window, then every CREDIT); more is a link violation, as
  is WS_RECEIVE before the app accepted, or pieces of one message mixing text
  and binary;
* a message's pieces become *owed* credit when the app *takes* them: a
  complete message when ``receive()`` returns it; pieces of an incomplete
  message as soon as the app is waiting in ``receive()`` with nothing complete
  queued ahead of it (otherwise a message larger than the window could never
  complete). So the worker holds at most one window of data the app has not
  asked for, plus the one message being assembled for a waiting app (bounded
  by the front's maximum message size);
* owed credit goes back in one CREDIT once it reaches ``_credit_batch`` (a
  quarter of the window), or all of it together with the pieces of a message
  the app is waiting for. No deadlock: when the app waits with nothing queued,
  the front can send all but the owed credit (less than a quarter), and what
  it has already sent either completes a message (which wakes the app) or is
  a piece of one (which returns everything owed). A stream of small messages
  costs one CREDIT per quarter window instead of one per message. After
  WS_RETURN_CREDIT (the front failing the connection waits to learn what the
  app has taken) everything owed is credited at once, and every message from
  then on as it is taken;
* after the client side is gone (WS_DISCONNECT, CLOSE, link lost, or a
  denial) complete messages already queued are delivered first, the incomplete
  one is dropped, then ``websocket.disconnect`` is returned on every call.

Outbound data (app -> front): WS_SEND (and a denial body's HTTP_RESPONSE_BODY)
is limited by the response window ``_available`` (WELCOME window, plus CREDITs,
minus what was sent) and by the link's frame size; text is split between code
points (a piece of ``k`` code points is at most ``4k`` bytes of UTF-8). A
message that does not fit at once joins the ``_out`` queue, which CREDITs pump
in order; its ``send()`` returns when its last piece is queued on the link.
Pieces of two messages never interleave. A cancelled ``send()`` drops its
message if none of it went out, and otherwise lets it finish (so the stream of
pieces stays well formed). ``websocket.close`` goes out at once: anything still
queued is dropped, and a message cut short leaves the front with a final
WS_SEND piece that never comes (the front discards it or ends it with the
close frame). After close, and once the client side is gone, every ``send`` is
validated and then ignored.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, cast

from pagi.protocol import Event, LinkError, encode, reasons
from pagi.protocol.kinds import EVENT as _EVENT
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as _HTTP_BODY
from pagi.protocol.kinds import HTTP_RESPONSE_START as _HTTP_START
from pagi.protocol.kinds import WS_ACCEPT as _WS_ACCEPT
from pagi.protocol.kinds import WS_CLOSE as _WS_CLOSE
from pagi.protocol.kinds import WS_DISCONNECT as _WS_DISCONNECT
from pagi.protocol.kinds import WS_KEEPALIVE as _WS_KEEPALIVE
from pagi.protocol.kinds import WS_RECEIVE as _WS_RECEIVE
from pagi.protocol.kinds import WS_RETURN_CREDIT as _WS_RETURN_CREDIT
from pagi.protocol.kinds import WS_SEND as _WS_SEND

from . import websocket_events as wse
from .backlog import TransportState
from .http_events import UnexpectedEvent, event_type
from .scope import build_websocket_scope
from .scope_base import ScopeBase

if TYPE_CHECKING:
    from .session import Session

logger = logging.getLogger("pagi.worker")


# handshake states
CONNECTING = 0  # nothing decisive sent yet
DENYING = 1  # a denial response started; its body follows
OPEN = 2  # accepted
CLOSED = 3  # the app closed (after accept, or as a denial) or the denial is complete

#: Disconnect code and reason the app sees after it denied the handshake.
DENIED_CODE = 1006
DENIED_REASON = ""

Data = str | bytes


class _Outgoing:
    """One message (or denial body) waiting for response window."""

    __slots__ = ("code", "data", "done", "future", "more", "pos")

    def __init__(self, code: int, data: Data, more: bool) -> None:
        self.code = code
        self.data = data
        self.more = more  # ``more`` of its last piece (always False for WS_SEND)
        self.pos = 0  # code points/bytes already sent
        self.done = False  # fully sent, or dropped
        self.future: asyncio.Future[None] | None = None

    def finish(self) -> None:
        self.done = True
        future = self.future
        if future is not None and not future.done():
            future.set_result(None)


class WebSocketScope(ScopeBase):
    __slots__ = (
        "_accepted",
        "_available",
        "_close_code",
        "_close_reason",
        "_connect_delivered",
        "_credit_batch",
        "_messages",
        "_out",
        "_owed",
        "_partial",
        "_partial_uncredited",
        "_started",
        "_state",
    )

    def __init__(self, session: Session, msg: list[Any]) -> None:
        self.session = session
        self.sid = msg[1]
        self._open = msg
        self.transport = TransportState()
        self.scope = build_websocket_scope(msg, session.root_path, session.state, self.transport)
        self._state = CONNECTING
        self._accepted = False
        self._started = False  # accept, close or a denial start went to the front
        self._connect_delivered = False
        # inbound
        self._recv_allowed = session.request_window
        self._credit_batch = max(1, session.request_window // 4)
        self._owed = 0  # taken by the app, not yet credited back
        self._messages: collections.deque[tuple[Data, int]] | None = None
        self._partial: list[Data] | None = None
        self._partial_uncredited = 0
        self._recv_waiters = None
        # outbound
        self._available = session.response_window
        self._out: collections.deque[_Outgoing] | None = None
        # the end
        self.gone = False  # the client side is gone: sends are no-ops
        self._close_code = 1006
        self._close_reason = ""

    # --- the end of the app (see ScopeBase.run) ----------------------------------------

    def _app_ended(self, outcome: int) -> bool:
        if not outcome and not self.gone:
            if self._state == CONNECTING:
                logger.error("the app returned without accepting or closing %s", self._describe())
            elif self._state == DENYING:
                logger.error(
                    "the app returned before completing the denial response for %s",
                    self._describe(),
                )
        # what the front will do now: close 1000 (returned) or 1011 (raised)
        if outcome:
            self._set_gone(1011, reasons.SERVER_ERROR)
        else:
            self._set_gone(1000, "")
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
            self._on_receive(msg[3], msg[4])
        elif code == _WS_DISCONNECT:
            self._set_gone(msg[3], msg[4])
        elif code == _WS_RETURN_CREDIT:
            # The front waits to learn what the app has taken: credit at once,
            # now and for every message from here on.
            self._credit_batch = 1
            owed = self._owed
            self._owed = 0
            self._grant(owed)
        else:
            raise LinkError(f"scope {self.sid}: {Event(code).name} on a websocket scope")

    def on_credit(self, nbytes: int) -> None:
        self._available += nbytes
        self.transport._credited(nbytes)
        if self._out:
            self._pump()

    def on_close(self, reason: str) -> None:
        """CLOSE, or the link to the front dropped: an abnormal end (1006)."""
        self._set_gone(1006, reason)

    def _on_receive(self, data: Data, more: bool) -> None:
        if self.gone:
            return
        if not self._accepted:
            raise LinkError(f"scope {self.sid}: WS_RECEIVE before the app accepted the connection")
        n = len(data)
        if n > self._recv_allowed:
            raise LinkError(
                f"scope {self.sid}: {n} bytes of websocket message exceed the window "
                f"({self._recv_allowed} left)"
            )
        self._recv_allowed -= n
        partial = self._partial
        if partial is None:
            if not more:  # a whole message in one piece: the common case
                self._queue_message(data, n)
                return
            self._partial = [data]
        else:
            if type(data) is not type(partial[0]):
                raise LinkError(f"scope {self.sid}: a websocket message mixes text and binary")
            partial.append(data)
            if not more:
                self._partial = None
                if type(data) is str:
                    whole: Data = "".join(cast("list[str]", partial))
                else:
                    whole = b"".join(cast("list[bytes]", partial))
                uncredited = self._partial_uncredited + n
                self._partial_uncredited = 0
                self._queue_message(whole, uncredited)
                return
        if self._recv_waiters and not self._messages:
            # The app is waiting for this very message: pull the rest.
            self._grant(n + self._owed)
            self._owed = 0
        else:
            self._partial_uncredited += n

    def _queue_message(self, data: Data, uncredited: int) -> None:
        if self._messages is None:
            self._messages = collections.deque()
        self._messages.append((data, uncredited))
        self._wake_receivers()

    def _set_gone(self, code: int, reason: str) -> None:
        if self.gone:
            return
        self.gone = True
        self._close_code = code
        self._close_reason = reason
        self._partial = None
        self._partial_uncredited = 0
        self._drop_outgoing()
        self._wake_receivers()

    # --- receive ---------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        if not self._connect_delivered:
            self._connect_delivered = True
            return {"type": "websocket.connect"}
        while True:
            messages = self._messages
            if messages:
                data, uncredited = messages.popleft()
                owed = self._owed + uncredited
                if owed >= self._credit_batch:
                    self._owed = 0
                    self._grant(owed)
                else:
                    self._owed = owed
                if type(data) is str:
                    return {"type": "websocket.receive", "bytes": None, "text": data}
                return {"type": "websocket.receive", "bytes": data, "text": None}
            if self.gone:
                return {
                    "type": "websocket.disconnect",
                    "code": self._close_code,
                    "reason": self._close_reason,
                }
            if self._partial_uncredited:
                n = self._partial_uncredited + self._owed
                self._partial_uncredited = self._owed = 0
                self._grant(n)
            await self._wait_receive()

    # --- send --------------------------------------------------------------------

    async def send(self, event: MutableMapping[str, Any]) -> None:
        etype = event_type(event)
        if etype == wse.SEND:
            data = wse.check_send(event)
            if self.gone or self._state == CLOSED:
                return
            if self._state != OPEN:
                raise self._state_error(etype)
            await self._send_data(_WS_SEND, data, False)
        elif etype == wse.ACCEPT:
            subprotocol, headers = wse.check_accept(event)
            if self.gone or self._state == CLOSED:
                return
            if self._state != CONNECTING:
                raise self._state_error(etype)
            frame = encode([_EVENT, self.sid, _WS_ACCEPT, subprotocol, headers])
            self._check_frame_size(etype, frame)
            self.session.link.send_frame(frame)
            self._state = OPEN
            self._accepted = True
            self._started = True
        elif etype == wse.CLOSE:
            code, reason = wse.check_close(event)
            if self.gone or self._state == CLOSED:
                return
            if self._state == DENYING:
                raise self._state_error(etype)
            denial = self._state == CONNECTING
            self._state = CLOSED
            self._started = True
            self._drop_outgoing()
            self.session.link.send([_EVENT, self.sid, _WS_CLOSE, code, reason])
            if denial:
                self._set_gone(DENIED_CODE, DENIED_REASON)
        elif etype == wse.KEEPALIVE:
            interval, timeout = wse.check_keepalive(event)
            if self.gone or self._state == CLOSED:
                return
            if self._state != OPEN:
                raise self._state_error(etype)
            self.session.link.send([_EVENT, self.sid, _WS_KEEPALIVE, interval, timeout])
        elif etype == wse.HTTP_START:
            status, headers = wse.check_http_start(event)
            if self.gone or self._state == CLOSED:
                return
            if self._state != CONNECTING:
                raise self._state_error(etype)
            frame = encode([_EVENT, self.sid, _HTTP_START, status, headers, False])
            self._check_frame_size(etype, frame)
            self.session.link.send_frame(frame)
            self._state = DENYING
            self._started = True
        elif etype == wse.HTTP_BODY:
            body, more = wse.check_http_body(event)
            if self.gone or self._state == CLOSED:
                return
            if self._state != DENYING:
                raise self._state_error(etype)
            if not more:
                self._state = CLOSED  # claim the end now: later sends are no-ops
            elif not body:
                return
            await self._send_data(_HTTP_BODY, body, more)
            if not more:
                self._set_gone(DENIED_CODE, DENIED_REASON)
        else:
            raise wse.unknown_type(etype)

    async def _send_data(self, code: int, data: Data, more: bool) -> None:
        """Send one message (or denial body) within the window, waiting for
        CREDIT as needed; returns once its last piece is queued on the link,
        or it was dropped (close, client gone)."""
        n = len(data)
        out = self._out
        if not out and n <= self._available and n <= self._piece_limit(data):
            self._available -= n
            self.session.link.send([_EVENT, self.sid, code, data, more])
            if n:
                self.transport._sent(n)
            return
        entry = _Outgoing(code, data, more)
        if out is None:
            out = self._out = collections.deque()
        out.append(entry)
        self._pump()
        if entry.done:
            return
        entry.future = self.session.loop.create_future()
        try:
            await entry.future
        except asyncio.CancelledError:
            # nothing of it went out yet: forget it; else it must finish
            queue = self._out
            if entry.pos == 0 and not entry.done and queue is not None and entry in queue:
                queue.remove(entry)
            raise

    def _piece_limit(self, data: Data) -> int:
        limit = self.session.max_body_piece
        return limit if type(data) is bytes else limit // 4

    def _pump(self) -> None:
        """Send queued pieces while there is window, in order."""
        out = self._out
        link = self.session.link
        while out:
            entry = out[0]
            data = entry.data
            n = len(data)
            pos = entry.pos
            limit = self._piece_limit(data)
            while True:
                take = min(n - pos, self._available, limit)
                if take <= 0 and pos < n:
                    entry.pos = pos
                    return
                end = pos + take
                if pos == 0 and end == n:
                    piece: object = data
                elif isinstance(data, str):
                    piece = data[pos:end]
                else:
                    piece = memoryview(data)[pos:end]
                self._available -= take
                last = end >= n
                link.send([_EVENT, self.sid, entry.code, piece, entry.more if last else True])
                if take:
                    self.transport._sent(take)
                pos = end
                if last:
                    break
            entry.pos = pos
            out.popleft()
            entry.finish()

    def _drop_outgoing(self) -> None:
        out, self._out = self._out, None
        if out:
            for entry in out:
                entry.finish()

    def _state_error(self, etype: str) -> UnexpectedEvent:
        state = self._state
        if state == DENYING:
            if etype == wse.HTTP_START:
                return UnexpectedEvent(f"{etype}: the denial response has already started")
            return UnexpectedEvent(
                f"{etype}: a denial response has started; only {wse.HTTP_BODY} may follow"
            )
        if state == OPEN:
            if etype == wse.ACCEPT:
                return UnexpectedEvent(f"{etype}: the connection has already been accepted")
            return UnexpectedEvent(
                f"{etype}: the connection has already been accepted; a denial response is "
                f"only possible before {wse.ACCEPT}"
            )
        # CONNECTING
        if etype == wse.HTTP_BODY:
            return UnexpectedEvent(f"{etype}: {wse.HTTP_START} has not been sent")
        return UnexpectedEvent(
            f"{etype}: the connection has not been accepted yet (send {wse.ACCEPT} first)"
        )
