"""An accepted WebSocket: frames both ways, the closing handshake, failure, pings.

A :class:`WSChannel` exists from the app's accept on, one per
:class:`~.ws_stream.WSStream` (which keeps the scope: the link, the
handshake, the answers before the accept). The channel speaks RFC 6455 with
the client through the stream's writer; the same on HTTP/1.1 and inside an
HTTP/2 stream (RFC 8441). Its ``state`` (written only here) moves forward::

    OPEN      messages flow both ways
    FAILING   the client broke the protocol; what preceded it is being
              delivered and answered before the close frame goes out
    CLOSING   our close frame is out; waiting for the client's (--ws-close-timeout)
    DONE      the connection is closing or closed

Invariants:

* No data frame follows our close frame.
* A violation (1002/1007/1009) stops reading at once, waits (at most
  --ws-close-timeout) until the app has consumed every complete message that
  preceded it, then :data:`FAIL_GRACE` more for its replies, then sends the
  close frame and half-closes. Queue overflow (1008) fails at once.
* At most one timer is armed (failure grace or close), plus the pings' own;
  entering DONE cancels both.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from pagi.protocol import reasons

from ..websocket.codec import WSCodec
from ..websocket.keepalive import Keepalive
from .ws_phase import CLOSING, DONE, FAILING, OPEN

if TYPE_CHECKING:
    from .ws_stream import WSStream

logger = logging.getLogger("pagi.front")

#: After a violation, how long the app gets to answer the messages that
#: preceded it (once it has consumed them) before the close frame goes out.
FAIL_GRACE = 0.05


#: The close reason sent with 1012.
SERVICE_RESTART = "service restart"


class WSChannel:
    """The RFC 6455 connection of one accepted WebSocket stream."""

    __slots__ = ("_fail", "_timer", "close_code", "codec", "state", "stream")

    def __init__(self, stream: WSStream, codec: WSCodec) -> None:
        self.stream = stream
        self.codec = codec
        self.state = OPEN
        self.close_code = 1006  # the code that ended the connection (access log)
        self._fail: tuple[int, str] | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def failing(self) -> bool:
        return self._fail is not None

    def wants_pause(self) -> bool:
        """Whether the client's input should be paused now."""
        state = self.state
        if state == OPEN:
            return self.stream.input.backed_up()
        return state == FAILING

    # --- what the app does -----------------------------------------------------------

    def send_message(self, data: str | bytes, more: bool) -> bool:
        """Write a message piece (False: the channel no longer sends data)."""
        if self.state == OPEN or self.state == FAILING:
            self.stream.writer.send(self.codec.message(data, more))
            return True
        return False

    def app_close(self, code: int, reason: str) -> None:
        if self.state == OPEN:
            self.start_closing(code, reason)
        elif self.state == FAILING:
            self.fail_now()

    def scope_ended(self, code: int) -> None:
        """The app returned (or its worker went away): close with ``code``
        (1012 says why: RFC 6455's registry, a restarting service)."""
        self.app_close(code, SERVICE_RESTART if code == 1012 else "")

    def credited(self) -> None:
        """The worker granted window: go on reading, or check a failure's progress."""
        if self.state == FAILING:
            self.check_fail()
        elif self.state == OPEN:
            flow = self.stream.input.flow
            if flow is not None and not flow.blocked:
                self.stream.input.resume()

    def shutdown(self) -> None:
        if self.state == OPEN:
            self.stream.disconnect(1006, reasons.SERVER_SHUTDOWN)
            self.start_closing(1001, "")

    # --- closing ---------------------------------------------------------------------

    def start_closing(self, code: int, reason: str) -> None:
        """Send our close frame and wait for the client's (at most --ws-close-timeout)."""
        if self.state >= CLOSING:
            return
        if self._fail is None:
            self.close_code = code
        self.state = CLOSING
        stream = self.stream
        stream.pings.stop()
        stream.writer.send(self.codec.close(code, reason))
        self._cancel_timer()
        config = stream.conn.ctx.config
        self._timer = stream.conn.loop.call_later(config.ws_close_timeout, self._close_expired)
        if self._fail is None:
            stream.input.await_close_reply()  # bytes left undecoded while the window was full
        stream.input.update_reading()

    def client_closed(self, code: int, reason: str) -> None:
        """The client started the closing handshake: answer it and close."""
        self.close_code = code
        self.stream.writer.send(self.codec.close(code))
        self.stream.disconnect(code, reason)
        self.finish()

    def close_reply(self, code: int, reason: str) -> None:
        """The client's close frame answering ours: the handshake is complete."""
        if self._fail is None:
            self.close_code = code
            self.stream.disconnect(code, reason)
        self.finish()

    def gone(self) -> None:
        """The connection ended without a closing handshake."""
        if self._fail is None:
            self.close_code = 1006
        self.finish()

    def _close_expired(self) -> None:
        self._timer = None
        if self.state == CLOSING:
            logger.debug("%s did not answer our close frame in time", self.stream.conn.peer)
            self.stream.disconnect(1006, reasons.CLIENT_TIMEOUT)
            self.abort()

    def finish(self) -> None:
        """Close the connection after what was written."""
        self._enter_done()
        self.stream.writer.close()

    def abort(self) -> None:
        self._enter_done()
        self.stream.writer.abort()

    def _enter_done(self) -> None:
        if self.state != DONE:
            self.stream.channel_ended(self.close_code)
        self.state = DONE
        self._cancel_timer()
        self.stream.pings.stop()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- failing the connection ----------------------------------------------------------

    def protocol_failure(self, code: int, reason: str) -> None:
        """The client broke the protocol (``code`` 1002/1007/1008/1009)."""
        if self._fail is not None:
            return
        stream = self.stream
        logger.info("%s WebSocket failed: %d %s", stream.conn.peer, code, reason)
        self._fail = (code, reason)
        self.close_code = code
        self.state = FAILING
        stream.pings.stop()
        flow = stream.input.flow
        assert flow is not None
        flow.drop_partial()
        stream.input.update_reading()
        link = stream.link
        if code == 1008 or link is None:
            self.fail_now()
            return
        self._cancel_timer()
        config = stream.conn.ctx.config
        self._timer = stream.conn.loop.call_later(config.ws_close_timeout, self.fail_now)
        if not flow.all_consumed:
            # The worker returns credit in batches; we need it per message now.
            link.ws_return_credit(stream.sid)
        self.check_fail()

    def check_fail(self) -> None:
        """While FAILING: once the app consumed what preceded the violation, allow
        it :data:`FAIL_GRACE` to answer, then fail."""
        flow = self.stream.input.flow
        if self.state == FAILING and flow is not None and flow.all_consumed:
            self._cancel_timer()
            self._timer = self.stream.conn.loop.call_later(FAIL_GRACE, self.fail_now)

    def fail_now(self) -> None:
        self._timer = None
        if self.state != FAILING or self._fail is None:
            return
        code, reason = self._fail
        self.stream.disconnect(code, reason)
        self.start_closing(code, "")
        # Half-close: the client reads our close frame, answers, and closes;
        # nothing it sends now is read (the codec is out of step after a
        # framing error), so its close frame is not awaited.
        if not self.stream.writer.half_close():
            self.abort()

    # --- pings -------------------------------------------------------------------------

    def new_keepalive(self) -> Keepalive:
        loop = self.stream.conn.loop
        return Keepalive(loop, self._send_ping, self._keepalive_timeout, self._is_reading)

    def _send_ping(self, payload: bytes) -> None:
        if self.state == OPEN:
            self.stream.writer.send(self.codec.ping(payload))

    def _is_reading(self) -> bool:
        return not self.stream.writer.input_paused

    def pong(self) -> None:
        self.stream.pings.pong()

    def _keepalive_timeout(self) -> None:
        if self.state != OPEN:
            return
        logger.info("%s WebSocket keepalive timeout: no pong", self.stream.conn.peer)
        self.close_code = 1006
        self.stream.disconnect(1006, reasons.KEEPALIVE_TIMEOUT, defer=False)
        self.abort()
