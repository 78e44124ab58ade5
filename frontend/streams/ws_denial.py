"""The app's HTTP response refusing a WebSocket handshake (``websocket.http.response``).

A :class:`WSDenial` exists from the response's start on, one per
:class:`~.ws_stream.WSStream` that the app denies (the stream is then
``DENYING``) and writes it through the stream's methods: the head, the body
(``write_body``, credited back as it is written), the access line and the
end. It holds the head until the first body piece, so that a head and a body from the
same batch of the link leave in one write; a head with no body in its batch
goes out alone at the end of that loop iteration, so a streaming client sees
it promptly. The head goes to the writer exactly once (or never, when the
stream ended first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .access_record import log_ws
from .ws_ending import DENIED, head_refused
from .ws_phase import DENYING

if TYPE_CHECKING:
    from .interfaces import Headers
    from .ws_stream import WSStream


class WSDenial:
    """The status and head of the app's denial, until the head is written."""

    __slots__ = ("headers", "status", "stream")

    def __init__(self, stream: WSStream, status: int, headers: Headers) -> None:
        self.stream = stream
        self.status = status
        self.headers: Headers | None = headers  # None once the head went to the writer
        stream.conn.loop.call_soon(self._flush_head)

    def head_out(self, length: int | None, final: bool) -> bool:
        """The head is written (now, for a body of ``length`` bytes if known,
        ``final`` if nothing follows, or earlier). False: the writer refused
        it and the stream answered in its place."""
        headers = self.headers
        if headers is None:
            return True
        self.headers = None
        stream = self.stream
        refused = stream.writer.respond(self.status, headers, False, length, final)
        if refused is None:
            return True
        head_refused(stream, refused)
        return False

    def body(self, body: bytes, more: bool) -> None:
        """A piece of the denial's body (``more``: not the last)."""
        stream = self.stream
        if not self.head_out(None if more else len(body), not more):
            return
        stream.write_body(body, not more)
        if not more:
            log_ws(stream, self.status, None)
            stream.disconnect(1006, DENIED)
            stream.end_http()
        elif body:
            stream.written(len(body))

    def _flush_head(self) -> None:
        stream = self.stream
        if stream.phase == DENYING and self.headers is not None and self.head_out(None, False):
            stream.writer.flush()
