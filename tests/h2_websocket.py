"""A WebSocket over HTTP/2 for tests (RFC 8441): an extended CONNECT on an h2 client.

Frames are built by ``ws_raw.frame`` (masked, or broken on purpose) and sent
as DATA; the server's frames are parsed from the stream's DATA.
"""

from __future__ import annotations

import ssl
import struct

import h2.events
from h2_client import H2Client
from ws_raw import CLOSE, Frame, close_payload, frame


class H2WS:
    """One WebSocket on its own HTTP/2 stream of ``client``."""

    def __init__(
        self,
        client: H2Client,
        path: str = "/echo",
        *,
        protocols: str | None = None,
        extensions: str | None = None,
        version: str = "13",
        scheme: str = "http",
    ) -> None:
        self.client = client
        if not client.conn.remote_settings.enable_connect_protocol:
            client.events(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))
        headers = [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", scheme),
            (":path", path),
            (":authority", client.authority),
            ("sec-websocket-version", version),
        ]
        if protocols:
            headers.append(("sec-websocket-protocol", protocols))
        if extensions:
            headers.append(("sec-websocket-extensions", extensions))
        self.sid = sid = client.conn.get_next_available_stream_id()
        client.conn.send_headers(sid, headers)
        client.flush()
        record = client._record(sid)
        client.events(lambda e: bool(record.headers) or record.ended)
        self.headers = record.headers
        self.status = int(record.headers.get(b":status", b"0"))
        self.buf = b""

    def send(self, data: bytes, end: bool = False) -> None:
        self.client.send_body(self.sid, data, end)

    def send_frame(self, opcode: int, payload: bytes = b"", **kw: object) -> None:
        self.send(frame(opcode, payload, **kw))  # type: ignore[arg-type]

    def close(self, code: int = 1000) -> None:
        self.send_frame(CLOSE, close_payload(code))

    def _take(self) -> bytes:
        record = self.client._record(self.sid)
        data = bytes(record.body)
        record.body.clear()
        return data

    def recv_frame(self) -> Frame:
        """The server's next frame (raises EOFError once the stream has ended)."""
        while True:
            self.buf += self._take()
            parsed = _parse(self.buf)
            if parsed is not None:
                result, used = parsed
                self.buf = self.buf[used:]
                return result
            record = self.client._record(self.sid)
            if record.ended:
                raise EOFError(f"stream ended; left {self.buf!r}")
            self.client.events(lambda e: getattr(e, "stream_id", None) == self.sid)

    @property
    def ended(self) -> bool:
        return self.client._record(self.sid).ended


def _parse(buf: bytes) -> tuple[Frame, int] | None:
    if len(buf) < 2:
        return None
    first, second = buf[0], buf[1]
    n = second & 0x7F
    pos = 2
    if n == 126:
        if len(buf) < 4:
            return None
        n = struct.unpack("!H", buf[2:4])[0]
        pos = 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n = struct.unpack("!Q", buf[2:10])[0]
        pos = 10
    if len(buf) < pos + n:
        return None
    payload = buf[pos : pos + n]
    return Frame(bool(first & 0x80), (first >> 4) & 0x7, first & 0x0F, payload), pos + n


_ = ssl
