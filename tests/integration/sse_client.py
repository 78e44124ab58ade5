"""A raw-socket SSE client for the integration tests: exact bytes, chunk by chunk, timed.

Also the events tests/apps/sse_app.py sends on /wire (``WIRE_EVENTS``).
"""

from __future__ import annotations

import socket
import time

#: The events of /wire, each one body message, hence one chunk on the wire.
WIRE_EVENTS = [
    b"data: hello\n\n",
    b"event: multi\nid: 7\nretry: 1500\ndata: line1\ndata: line2\ndata: line3\ndata: line4\n\n",
    b"data:\n\n",
    b"id:\ndata: x\n\n",
    b"retry: 0\n\n",
    b": note\n\n",
    b": a\n: b\n\n",
    "data: ünïcödé ☃\n\n".encode(),
]


class ChunkedStream:
    """One request on its own connection; the response read incrementally.

    ``chunks()`` yields the payload of each chunk as it completes (chunked
    responses), with its arrival time; ``ended`` tells whether the terminating
    zero-size chunk arrived, ``closed`` whether the server closed or reset.
    """

    def __init__(
        self,
        port: int,
        target: str,
        *,
        method: str = "GET",
        accept: str | None = "text/event-stream",
        headers: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
        version: str = "1.1",
        rcvbuf: int | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        lines = [f"{method} {target} HTTP/{version}", "Host: test"]
        if accept is not None:
            lines.append(f"Accept: {accept}")
        lines += [f"{k}: {v}" for k, v in headers]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.sent_at = time.monotonic()
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        self.raw = b""  # everything received
        self._buf = b""
        self.head = b""
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.ended = False
        self.closed = False
        self.reset = False

    def _recv(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            self.closed = self.reset = True
            return False
        if not data:
            self.closed = True
            return False
        self.raw += data
        self._buf += data
        return True

    def read_head(self) -> int:
        while b"\r\n\r\n" not in self._buf:
            if not self._recv():
                raise AssertionError(f"connection ended before the head: {self.raw!r}")
        head, _, self._buf = self._buf.partition(b"\r\n\r\n")
        self.head = head + b"\r\n\r\n"
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = [
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines[1:])
        ]
        return self.status

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def chunk(self) -> tuple[float, bytes] | None:
        """The next chunk's ``(arrival time, payload)``; None at the end or a close."""
        if not self.head:
            self.read_head()
        while True:
            line_end = self._buf.find(b"\r\n")
            if line_end >= 0:
                size = int(self._buf[:line_end], 16)
                need = line_end + 2 + size + 2
                if len(self._buf) >= need:
                    payload = self._buf[line_end + 2 : line_end + 2 + size]
                    assert self._buf[need - 2 : need] == b"\r\n", self._buf[:need]
                    self._buf = self._buf[need:]
                    if size == 0:
                        self.ended = True
                        return None
                    return time.monotonic(), payload
            if not self._recv():
                return None

    def chunks(self) -> list[tuple[float, bytes]]:
        """Every remaining chunk until the terminator or the connection's end."""
        out = []
        while (item := self.chunk()) is not None:
            out.append(item)
        return out

    def body_until_close(self) -> bytes:
        """The rest of an unchunked (HTTP/1.0) body."""
        if not self.head:
            self.read_head()
        while self._recv():
            pass
        body, self._buf = self._buf, b""
        return body

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> ChunkedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def events_of(payloads: list[bytes]) -> list[dict[str, str]]:
    """Parse SSE text the way a browser does (enough for the tests)."""
    events: list[dict[str, str]] = []
    text = b"".join(payloads).decode()
    for block in text.split("\n\n"):
        if not block:
            continue
        event: dict[str, str] = {}
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            else:
                event[name] = value
        if data:
            event["data"] = "\n".join(data)
        if event:
            events.append(event)
    return events
