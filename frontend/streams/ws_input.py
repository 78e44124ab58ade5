"""The client's bytes on a WebSocket stream: decoding within the request window.

:class:`WSInput` belongs to one :class:`~.ws_stream.WSStream`. It holds the
client bytes not decoded yet, the RFC 6455 codec
(:class:`~..websocket.codec.WSCodec`, the same on HTTP/1.1 and inside HTTP/2
DATA frames) and the inbound flow towards the worker
(:class:`~..websocket.inbound.InboundFlow`). Control frames and violations go
back to the stream.

Invariants:

* Client bytes are decoded only as far as the worker's window allows (plus
  :data:`DECODE_SLACK` for frame headers); the rest waits undecoded in
  ``buf``, at most one read, since the stream pauses the input while the
  window is used up.
* Before the accept, at most :data:`PRE_ACCEPT_LIMIT` bytes are taken in
  (a client should wait for the accept); above that the input pauses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..websocket.codec import CLOSE, DATA, FAIL, PING, PONG
from ..websocket.inbound import InboundFlow
from .ws_phase import CLOSING, HANDSHAKE, OPEN

if TYPE_CHECKING:
    from .ws_channel import WSChannel
    from .ws_stream import WSStream

#: Client bytes accepted before the accept; above this the input pauses.
PRE_ACCEPT_LIMIT = 64 * 1024
#: Bytes beyond the worker's window handed to the codec at once (frame headers).
DECODE_SLACK = 64


class WSInput:
    """Undecoded client bytes, the codec and the inbound flow of one stream."""

    __slots__ = ("buf", "channel", "flow", "partial_forwarded", "stream")

    def __init__(self, stream: WSStream) -> None:
        self.stream = stream
        self.buf = bytearray()  # client bytes not decoded yet (early, or no window)
        self.channel: WSChannel | None = None  # from the accept on
        self.flow: InboundFlow | None = None  # from OPEN on
        #: the worker has pieces of a message whose last piece it has not got yet
        self.partial_forwarded = False

    def start(self, window: int, max_queue: int) -> None:
        """The scope is open: messages go to the worker within ``window``."""
        self.flow = InboundFlow(self._forward, window, max_queue)

    def accepted(self, channel: WSChannel) -> None:
        """The app accepted: decode frames for ``channel`` from now on."""
        self.channel = channel

    def has_pending(self) -> bool:
        flow = self.flow
        return flow is not None and flow.has_pending

    def backed_up(self) -> bool:
        """While open: undecoded bytes wait, or the worker's window is used up."""
        flow = self.flow
        return bool(self.buf) or (flow is not None and flow.blocked)

    def update_reading(self) -> None:
        """Pause the client's input exactly when the stream's phase calls for it:
        before the accept above :data:`PRE_ACCEPT_LIMIT`, after it as the
        channel wants (window used up, closing)."""
        channel = self.channel
        stream = self.stream
        if channel is not None:
            pause = channel.wants_pause()
        else:
            pause = stream.phase <= HANDSHAKE and len(self.buf) > PRE_ACCEPT_LIMIT
        writer = stream.writer
        if pause != writer.input_paused:
            if pause:
                writer.pause_input()
            else:
                writer.resume_input()

    def _forward(self, data: str | bytes, more: bool) -> None:
        self.partial_forwarded = more
        stream = self.stream
        link = stream.link
        if link is not None:
            link.send_ws_receive(stream.sid, data, more)

    def take(self, data: bytes) -> None:
        """Client bytes, whatever the stream's state."""
        channel = self.channel
        if channel is None:
            if self.stream.phase <= HANDSHAKE:  # early: kept for after the accept
                self.buf += data
                if len(self.buf) > PRE_ACCEPT_LIMIT:
                    self.update_reading()
        elif channel.state == OPEN:
            self.receive(data)
        elif channel.state == CLOSING:
            self.buf += data
            self.await_close_reply()
        # a denial, FAILING, DONE: the input is discarded

    def receive(self, data: bytes) -> None:
        """Client bytes while open: decode as much as the worker's window takes.

        Bytes are handed to the codec in slices of at most the window (plus
        :data:`DECODE_SLACK`), so without compression the decoded data never
        overshoots the window by more than that; the rest stays undecoded in
        ``buf`` (at most one read: the input pauses) until CREDIT.
        """
        flow = self.flow
        assert flow is not None
        if self.buf or flow.blocked:
            self.buf += data
            self.update_reading()
            return
        if len(data) <= flow.window:
            if self._decode(data):
                self._after_decode_data()
                stream = self.stream
                if self._open() and flow.blocked and not stream.writer.input_paused:
                    self.update_reading()
            return
        self.buf += data
        self.drain()

    def resume(self) -> None:
        """The window grew: decode what waits, or read again."""
        if self.buf:
            self.drain()
        elif self.stream.writer.input_paused:
            self.update_reading()

    def drain(self) -> None:
        """Decode what waits in ``buf`` while the window allows."""
        flow = self.flow
        assert flow is not None
        buf = self.buf
        while buf and not flow.blocked and self._open():
            take = flow.window + DECODE_SLACK
            piece = bytes(buf[:take])
            del buf[:take]
            if not self._decode(piece):
                return
            self._after_decode_data()
            if not self._open():
                return
        self.update_reading()

    def await_close_reply(self) -> None:
        """While closing: look for the client's close frame in what it sent
        (its data frames are dropped; a violation just ends the connection)."""
        channel = self.channel
        if channel is None or not self.buf:
            return
        data = bytes(self.buf)
        self.buf.clear()
        for event in channel.codec.receive(data):
            if event[0] == CLOSE:
                channel.close_reply(event[1], event[2])
                return
            if event[0] == FAIL:
                channel.finish()
                return

    def _decode(self, data: bytes) -> bool:
        """Feed ``data`` to the codec and act on its events; False if the
        stream left the open phase (close or violation)."""
        channel = self.channel
        flow = self.flow
        assert channel is not None and flow is not None
        codec = channel.codec
        for event in codec.receive(data):
            kind = event[0]
            if kind == DATA:
                flow.push(event[1], event[2])
            elif kind == PING:
                self.stream.writer.send(codec.pong(event[1]))
            elif kind == PONG:
                channel.pong()
            elif kind == CLOSE:
                flow.flush()
                self.buf.clear()
                channel.client_closed(event[1], event[2])
                return False
            else:  # FAIL
                self.buf.clear()
                channel.protocol_failure(event[1], event[2])
                return False
        return True

    def _after_decode_data(self) -> None:
        flow = self.flow
        assert flow is not None
        flow.flush()
        if flow.overflowed:
            self.buf.clear()
            assert self.channel is not None
            self.channel.protocol_failure(1008, "queue_overflow")

    def _open(self) -> bool:
        channel = self.channel
        return channel is not None and channel.state == OPEN
