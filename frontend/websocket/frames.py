"""The client's frames on an open WebSocket, and failing it for a violation.

:class:`WSClientFrames` (between :class:`~.ws_answers.WSAnswers` and
:class:`~.websocket.WebSocketConnection`) decodes what the client sends while
OPEN and answers control frames; the data goes to the worker through the
request window (:class:`~.ws_inbound.InboundFlow`).

Invariants:

* Client bytes are decoded only as far as the window allows (plus
  :data:`DECODE_SLACK` for frame headers); the rest waits undecoded in
  ``_input``, at most one socket read, since reading pauses while the window
  is used up.
* A violation (1002/1007/1009) stops reading at once, waits (at most
  --ws-close-timeout) until the app has consumed every complete message
  that preceded it, then :data:`FAIL_GRACE` more for its replies, then sends
  the close frame and half-closes. Queue overflow (1008) fails at once.
"""

from __future__ import annotations

import logging

from .answers import WSAnswers
from .codec import CLOSE, DATA, PING, PONG
from .lifetime import FAILING, OPEN

logger = logging.getLogger("pagi.front")

#: After a violation, how long the app gets to answer the messages that
#: preceded it (once it has consumed them) before the close frame goes out.
FAIL_GRACE = 0.05
#: Bytes beyond the worker's window handed to the codec at once (frame headers).
DECODE_SLACK = 64


class WSClientFrames(WSAnswers):
    """Decoding the client's frames within the window; protocol failures."""

    __slots__ = ()

    def _receive(self, data: bytes) -> None:
        """Client bytes while OPEN: decode as much as the worker's window takes.

        Bytes are handed to the codec in slices of at most the window (plus
        :data:`DECODE_SLACK`), so without compression the decoded data never
        overshoots the window by more than that; the rest stays undecoded in
        ``_input`` (at most one socket read: reading pauses) until CREDIT.
        """
        flow = self._flow
        assert flow is not None
        if self._input or flow.blocked:
            self._input += data
            self._update_reading()
            return
        if len(data) <= flow.window:
            if self._decode(data):
                self._after_decode()
            return
        self._input += data
        self._drain_input()

    def _drain_input(self) -> None:
        """Decode what waits in ``_input`` while the window allows."""
        flow = self._flow
        assert flow is not None
        buf = self._input
        while buf and not flow.blocked and self._phase == OPEN:
            take = flow.window + DECODE_SLACK
            piece = bytes(buf[:take])
            del buf[:take]
            if not self._decode(piece):
                return
            self._after_decode_data()
            if self._phase != OPEN:
                return
        self._update_reading()

    def _decode(self, data: bytes) -> bool:
        """Feed ``data`` to the codec and act on its events; False if the
        connection left the OPEN phase (close or violation)."""
        codec = self._codec
        flow = self._flow
        assert codec is not None and flow is not None
        for event in codec.receive(data):
            kind = event[0]
            if kind == DATA:
                flow.push(event[1], event[2])
            elif kind == PING:
                self._write(codec.pong(event[1]))
            elif kind == PONG:
                if self._keepalive is not None:
                    self._keepalive.pong()
            elif kind == CLOSE:
                flow.flush()
                self._input.clear()
                self._client_closed(event[1], event[2])
                return False
            else:  # FAIL
                self._input.clear()
                self._protocol_failure(event[1], event[2])
                return False
        return True

    def _after_decode_data(self) -> None:
        flow = self._flow
        assert flow is not None
        flow.flush()
        if flow.overflowed:
            self._input.clear()
            self._protocol_failure(1008, "queue_overflow")

    def _after_decode(self) -> None:
        self._after_decode_data()
        if self._phase == OPEN and self._flow.blocked and not self._read_paused:  # type: ignore[union-attr]
            self._update_reading()

    def _client_closed(self, code: int, reason: str) -> None:
        """The client started the closing handshake: answer it and close."""
        self._close_code = code
        codec = self._codec
        assert codec is not None
        self._write(codec.close(code))
        self._disconnect(code, reason)
        self._finish()

    def _protocol_failure(self, code: int, reason: str) -> None:
        if self._fail is not None:
            return
        logger.info("%s WebSocket failed: %d %s", self.peer, code, reason)
        self._fail = (code, reason)
        self._close_code = code
        self._phase = FAILING
        if self._keepalive is not None:
            self._keepalive.stop()
        flow = self._flow
        assert flow is not None
        flow.drop_partial()
        self._update_reading()
        if code == 1008 or not self._scope_live:
            self._fail_now()
            return
        self._cancel_timer()
        self._timer = self.loop.call_later(self.config.ws_close_timeout, self._fail_now)
        if not flow.all_consumed and self._link is not None:
            # The worker returns credit in batches; we need it per message now.
            self._link.ws_return_credit(self._sid)
        self._check_fail()

    def _check_fail(self) -> None:
        """While FAILING: once the app consumed what preceded the violation, allow
        it :data:`FAIL_GRACE` to answer, then fail."""
        flow = self._flow
        if self._phase == FAILING and flow is not None and flow.all_consumed:
            self._cancel_timer()
            self._timer = self.loop.call_later(FAIL_GRACE, self._fail_now)

    def _fail_now(self) -> None:
        self._timer = None
        if self._phase != FAILING or self._fail is None:
            return
        code, reason = self._fail
        self._disconnect(code, reason)
        self._start_closing(code, "")
        transport = self._transport
        # Half-close: the client reads our close frame, answers, and closes;
        # nothing it sends now is read (the codec is out of step after a
        # framing error), so its close frame is not awaited.
        if transport.can_write_eof() and not transport.is_closing():
            try:
                transport.write_eof()
            except (OSError, RuntimeError):
                self._abort()
