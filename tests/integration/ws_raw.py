"""A tiny raw WebSocket client for tests: hand-built (masked) frames, blocking socket.

It lets a test send exactly the bytes a broken or hostile client would
(reserved bits, bad opcodes, oversized control frames, invalid UTF-8 split
across fragments, compressed bombs) and read back exactly what the server
wrote, frame by frame, including whether the TCP connection was closed.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
import zlib
from dataclasses import dataclass

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
) -> bytes:
    """A client frame: ``rsv`` is the 3 RSV bits (4 = RSV1), masked with ``mask``
    (random by default)."""
    key = os.urandom(4) if mask is None else mask
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if n < 126:
        head = bytes([first, 0x80 | n])
    elif n < 65536:
        head = bytes([first, 0x80 | 126]) + struct.pack("!H", n)
    else:
        head = bytes([first, 0x80 | 127]) + struct.pack("!Q", n)
    masked = (
        bytes(b ^ key[i & 3] for i, b in enumerate(payload)) if n < 4096 else _mask(payload, key)
    )
    return head + key + masked


def _mask(payload: bytes, key: bytes) -> bytes:
    repeat = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeat, "big")).to_bytes(
        len(payload), "big"
    )


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


def deflate(data: bytes) -> bytes:
    """A permessage-deflate message payload (no context takeover)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        assert self.opcode == CLOSE
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def text(self) -> str:
        return self.payload.decode()


class RawWS:
    """A WebSocket client connection built from raw bytes (127.0.0.1 only)."""

    def __init__(
        self,
        port: int,
        path: str = "/echo",
        *,
        extensions: str | None = None,
        protocols: str | None = None,
        extra: str = "",
        version: str = "13",
        key: str | None = None,
        expect: int | None = 101,
        timeout: float = 5.0,
    ) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            f"Sec-WebSocket-Version: {version}",
        ]
        if extensions:
            lines.append(f"Sec-WebSocket-Extensions: {extensions}")
        if protocols:
            lines.append(f"Sec-WebSocket-Protocol: {protocols}")
        request = "\r\n".join(lines) + "\r\n" + extra + "\r\n"
        self.sock.sendall(request.encode())
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                self.headers[name.strip().lower()] = value.strip()
        if expect is not None:
            assert self.status == expect, (self.status, head, self.buf)

    # --- I/O --------------------------------------------------------------------

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed before {marker!r}: {self.buf!r}")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise EOFError("connection closed mid-frame")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def body(self) -> bytes:
        """The rest of an HTTP response body (until the server closes)."""
        data = self.buf
        self.buf = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, opcode: int, payload: bytes = b"", **kw: object) -> None:
        self.sock.sendall(frame(opcode, payload, **kw))  # type: ignore[arg-type]

    def recv(self, timeout: float = 5.0) -> Frame | None:
        """The next frame from the server; None if it closed the connection."""
        self.sock.settimeout(timeout)
        try:
            first, second = self._read_exact(2)
        except EOFError:
            return None
        except ConnectionResetError:
            return None
        assert not second & 0x80, "server frames must not be masked"
        n = second & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8))[0]
        payload = self._read_exact(n)
        return Frame(bool(first & 0x80), (first >> 4) & 7, first & 0x0F, payload)

    def recv_message(self, timeout: float = 5.0) -> Frame | None:
        """The next whole data message (its fragments joined; control frames
        in between are skipped), as one frame; None if the server closed."""
        first = self.recv(timeout)
        while first is not None and first.opcode in (PING, PONG):
            first = self.recv(timeout)
        if first is None or first.opcode == CLOSE or first.fin:
            return first
        parts = [first.payload]
        while True:
            more = self.recv(timeout)
            if more is None:
                return None
            if more.opcode in (PING, PONG):
                continue
            parts.append(more.payload)
            if more.fin:
                return Frame(True, first.rsv, first.opcode, b"".join(parts))

    def recv_close(self, timeout: float = 5.0) -> tuple[list[Frame], Frame | None]:
        """Frames up to and including the server's close frame: (before, close)."""
        before: list[Frame] = []
        deadline = time.monotonic() + timeout
        while True:
            got = self.recv(max(0.01, deadline - time.monotonic()))
            if got is None or got.opcode == CLOSE:
                return before, got
            before.append(got)

    def closed_by_server(self, timeout: float = 5.0) -> bool:
        """True once the server has closed (EOF or reset) within ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()
