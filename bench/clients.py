"""Load clients the harness runs as a subprocess for what wrk cannot do.

``python -m bench.clients ws-echo --port P --conns 32 --size 64 --warmup W --duration D``
    WebSocket echo, closed loop: every connection sends one text message of
    ``size`` bytes, waits for its echo, sends the next. Prints one JSON line
    with the messages echoed during ``duration`` after ``warmup``.

``python -m bench.clients hold --kind http|ws|sse --port P --count N``
    (both take ``--tls``: connect over TLS, not verifying the certificate)
    Opens N connections (at most 64 handshakes in flight, so a server's small
    listen backlog is not the thing measured) and keeps them: ``http`` sends
    one keep-alive GET and reads the answer, ``ws`` completes the upgrade,
    ``sse`` sends ``GET /events`` with ``Accept: text/event-stream`` and counts
    the events that arrive. Prints ``{"event": "ready", ...}``, then obeys
    commands on stdin, one per line: ``mark`` restarts the event count,
    ``stop`` prints the connections still open and the events since the mark,
    and exits.

The clients speak raw HTTP/1.1 and RFC 6455 frames over asyncio protocols (on
uvloop when installed): a library client would spend more CPU per message than
the servers being measured, on a machine where client and server share cores.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import ssl
import sys
import time
from typing import Any, cast

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MASK = b"\x5a\xa5\x3c\xc3"
_CONNECT_CONCURRENCY = 64
_HANDSHAKE_TIMEOUT = 15.0


def _masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (FIN set, masked with a fixed key: servers must unmask any key)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    masked = bytes(b ^ _MASK[i & 3] for i, b in enumerate(payload))
    return head + _MASK + masked


class Counter:
    """Events counted across all connections of one client process."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


class Conn(asyncio.Protocol):
    """One client connection; ``ready`` resolves when its handshake is done.

    Invariant: ``ready`` is resolved exactly once — with None when the
    response head (and, for ``http``, its body) arrived as expected, or with
    an exception naming what the server did instead.
    """

    def __init__(self, kind: str, port: int, counter: Counter, echo: bytes | None) -> None:
        self.kind = kind
        self.port = port
        self.counter = counter
        self.echo = echo  # ws-echo: the frame to send after every received message
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.ready.add_done_callback(_retrieve)  # a late failure nobody awaits is not "lost"
        self.open = False
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._head_done = False
        self._body_left = 0
        self._ws_key = b""
        self._tail = b""

    # -- asyncio.Protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.open = True
        host = f"127.0.0.1:{self.port}".encode()
        if self.kind == "ws":
            self._ws_key = base64.b64encode(os.urandom(16))
            request = (
                b"GET / HTTP/1.1\r\nHost: " + host + b"\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: " + self._ws_key + b"\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
        elif self.kind == "sse":
            request = (
                b"GET /events HTTP/1.1\r\nHost: " + host + b"\r\n"
                b"Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
            )
        else:
            request = b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
        self.transport.write(request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self._resolve(ConnectionError(f"closed by server before the handshake ({exc})"))

    def data_received(self, data: bytes) -> None:
        if self._head_done:
            self._on_payload(data)
            return
        self._buf += data
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buf[:end]).decode("latin-1")
        rest = bytes(self._buf[end + 4 :])
        self._buf.clear()
        self._head_done = True
        error = self._check_head(head)
        if error is not None:
            self._resolve(error)
            if self.transport is not None:
                self.transport.close()
            return
        if self.kind != "http":
            self._resolve(None)
        if rest:
            self._on_payload(rest)
        elif self.kind == "http" and self._body_left == 0:
            self._resolve(None)

    # -- helpers ----------------------------------------------------------
    def _resolve(self, error: Exception | None) -> None:
        if self.ready.done():
            return
        if error is None:
            self.ready.set_result(None)
        else:
            self.ready.set_exception(error)

    def _check_head(self, head: str) -> Exception | None:
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if self.kind == "ws":
            if status != 101:
                return HandshakeRefused(lines[0])
            want = base64.b64encode(hashlib.sha1(self._ws_key + _WS_GUID).digest()).decode()
            if headers.get("sec-websocket-accept") != want:
                return HandshakeRefused("bad Sec-WebSocket-Accept")
            return None
        if status != 200:
            return HandshakeRefused(lines[0])
        if self.kind == "http":
            self._body_left = int(headers.get("content-length", "0"))
        return None

    def _on_payload(self, data: bytes) -> None:
        if self.kind == "http":
            self._body_left -= len(data)
            if self._body_left <= 0:
                self._resolve(None)
        elif self.kind == "sse":
            chunk = self._tail + data
            self.counter.n += chunk.count(b"data:")
            self._tail = data[-4:]
        else:
            self._buf += data
            self._parse_frames()

    def _parse_frames(self) -> None:
        buf = self._buf
        while len(buf) >= 2:
            length = buf[1] & 0x7F
            pos = 2
            if length == 126:
                if len(buf) < 4:
                    return
                length = int.from_bytes(buf[2:4], "big")
                pos = 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length = int.from_bytes(buf[2:10], "big")
                pos = 10
            if buf[1] & 0x80:
                pos += 4  # a masked server frame is a protocol error; tolerate it
            if len(buf) < pos + length:
                return
            opcode = buf[0] & 0x0F
            payload = bytes(buf[pos : pos + length])
            del buf[: pos + length]
            self._on_frame(opcode, payload)

    def _on_frame(self, opcode: int, payload: bytes) -> None:
        transport = self.transport
        assert transport is not None
        if opcode in (0x1, 0x2, 0x0):
            self.counter.n += 1
            if self.echo is not None:
                transport.write(self.echo)
        elif opcode == 0x9:
            transport.write(_masked_frame(0xA, payload))
        elif opcode == 0x8:
            transport.write(_masked_frame(0x8, payload[:2]))
            transport.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


class HandshakeRefused(Exception):
    """The server answered, but not with 101 (ws) or 200 (http, sse)."""


async def _open_many(
    kind: str,
    port: int,
    count: int,
    counter: Counter,
    echo: bytes | None,
    tls: ssl.SSLContext | None = None,
) -> tuple[list[Conn], list[str]]:
    loop = asyncio.get_running_loop()
    hostname = None if tls is None else "127.0.0.1"
    gate = asyncio.Semaphore(_CONNECT_CONCURRENCY)
    errors: list[str] = []

    async def one() -> Conn | None:
        async with gate:
            proto: Conn | None = None
            try:
                _, conn = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: Conn(kind, port, counter, echo),
                        "127.0.0.1",
                        port,
                        ssl=tls,
                        server_hostname=hostname,
                    ),
                    _HANDSHAKE_TIMEOUT,
                )
                proto = conn
                await asyncio.wait_for(asyncio.shield(conn.ready), _HANDSHAKE_TIMEOUT)
            except (OSError, TimeoutError, HandshakeRefused, ssl.SSLError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                if proto is not None:
                    proto.close()
                return None
            return proto

    results = await asyncio.gather(*(one() for _ in range(count)))
    return [c for c in results if c is not None], errors


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def ws_echo(
    port: int,
    conns: int,
    size: int,
    warmup: float,
    duration: float,
    tls: ssl.SSLContext | None = None,
) -> None:
    counter = Counter()
    frame = _masked_frame(0x1, b"m" * size)
    opened, errors = await _open_many("ws", port, conns, counter, frame, tls)
    if not opened:
        _emit(
            {"ok": False, "error": errors[0] if errors else "no connection", "errors": len(errors)}
        )
        return
    for conn in opened:
        assert conn.transport is not None
        conn.transport.write(frame)
    await asyncio.sleep(warmup)
    start_n, start_t = counter.n, time.perf_counter()
    await asyncio.sleep(duration)
    n, seconds = counter.n - start_n, time.perf_counter() - start_t
    still_open = sum(c.open for c in opened)
    for conn in opened:
        conn.close()
    _emit(
        {
            "ok": True,
            "messages": n,
            "seconds": seconds,
            "messages_per_s": n / seconds,
            "connections": len(opened),
            "open_at_end": still_open,
            "errors": len(errors),
            "first_error": errors[0] if errors else None,
        }
    )


async def hold(kind: str, port: int, count: int, tls: ssl.SSLContext | None = None) -> None:
    counter = Counter()
    t0 = time.perf_counter()
    opened, errors = await _open_many(kind, port, count, counter, None, tls)
    _emit(
        {
            "event": "ready",
            "open": len(opened),
            "failed": len(errors),
            "first_error": errors[0] if errors else None,
            "seconds": time.perf_counter() - t0,
        }
    )
    loop = asyncio.get_running_loop()
    mark_n, mark_t = counter.n, time.perf_counter()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        command = line.strip()
        if command == "mark":
            mark_n, mark_t = counter.n, time.perf_counter()
            _emit({"event": "marked"})
        elif command in ("stop", ""):
            _emit(
                {
                    "event": "stopped",
                    "open": sum(c.open for c in opened),
                    "events": counter.n - mark_n,
                    "seconds": time.perf_counter() - mark_t,
                }
            )
            for conn in opened:
                conn.close()
            return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.clients")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_echo = sub.add_parser("ws-echo")
    p_echo.add_argument("--port", type=int, required=True)
    p_echo.add_argument("--conns", type=int, default=32)
    p_echo.add_argument("--size", type=int, default=64)
    p_echo.add_argument("--warmup", type=float, default=1.0)
    p_echo.add_argument("--duration", type=float, default=5.0)
    p_hold = sub.add_parser("hold")
    p_hold.add_argument("--kind", choices=("http", "ws", "sse"), required=True)
    p_hold.add_argument("--port", type=int, required=True)
    p_hold.add_argument("--count", type=int, default=2000)
    for p in (p_echo, p_hold):
        p.add_argument("--tls", action="store_true", help="connect over TLS (no verification)")
    args = parser.parse_args(argv)
    tls = None
    if args.tls:
        from bench.tls import client_context

        tls = client_context(["http/1.1"])
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if args.cmd == "ws-echo":
        asyncio.run(ws_echo(args.port, args.conns, args.size, args.warmup, args.duration, tls))
    else:
        asyncio.run(hold(args.kind, args.port, args.count, tls))


if __name__ == "__main__":
    main()
