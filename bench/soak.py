"""Soak: many requests and WebSocket connections, then memory and descriptors.

``python -m bench.soak [--requests 1000000] [--websockets 100000] [--conns 16]``

Starts ``pagi-front --app bench.apps.websocket:app --workers 1`` (the same
command as the benchmark harness), warms it up (2 % of each load), records
the RSS and the open descriptors of the front and of the worker, then runs

* ``--requests`` keep-alive ``GET /`` requests over ``--conns`` connections
  (closed loop: each connection sends its next request when the previous
  answer is in), and
* ``--websockets`` WebSocket connections, ``--conns`` at a time, each opened
  (upgrade), one text message echoed, closed (close handshake, the server
  closes TCP),

waits until the front has no client connection left, and records both again.
Prints a table and one JSON line; exits 1 if a process grew by more than
``--max-growth`` (2 MiB) of RSS or kept more descriptors than at the start,
or if any request or WebSocket failed. ``tests/integration/test_soak.py``
runs a smaller one in the suite. The clients speak raw HTTP/1.1 and RFC 6455
over asyncio (uvloop), as in ``bench/clients.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, cast

import psutil

from bench.servers import SERVERS, Running

APP = "bench.apps.websocket:app"
MiB = 1 << 20
_MASK = b"\x5a\xa5\x3c\xc3"


def _masked(opcode: int, payload: bytes) -> bytes:
    masked = bytes(b ^ _MASK[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + _MASK + masked


_TEXT = _masked(0x1, b"soak")
_CLOSE = _masked(0x8, b"\x03\xe8")  # 1000


@dataclass
class Tally:
    left: int
    done: int = 0
    failed: list[str] = field(default_factory=list)


class _Requests(asyncio.Protocol):
    """One keep-alive connection sending GETs back to back while any are left."""

    def __init__(self, tally: Tally, port: int, finished: asyncio.Future[None]) -> None:
        self.tally = tally
        self.request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port
        self.finished = finished
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._next()

    def _next(self) -> None:
        assert self.transport is not None
        if self.tally.left <= 0:
            self.transport.close()
            return
        self.tally.left -= 1
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0 or len(self.buf) < end + 6:
                return
            if not self.buf.startswith(b"HTTP/1.1 200 "):
                self.tally.failed.append(self.buf[:60].decode("latin-1"))
            self.buf = self.buf[end + 6 :]  # the body is "ok"
            self.tally.done += 1
            self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.tally.left > 0 and not self.finished.done():
            self.tally.failed.append(f"connection lost: {exc}")
        if not self.finished.done():
            self.finished.set_result(None)


class _WebSocket(asyncio.Protocol):
    """Upgrade, one echo, close handshake; done when the server closes TCP."""

    def __init__(self, port: int, finished: asyncio.Future[str | None]) -> None:
        key = base64.b64encode(os.urandom(16))
        self.handshake = (
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
            % (port, key)
        )
        self.finished = finished
        self.buf = b""
        self.state = 0  # 0 handshake, 1 echo, 2 closing
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.handshake)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buf += data
        if self.state == 0:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buf.startswith(b"HTTP/1.1 101 "):
                self._fail(self.buf[:60].decode("latin-1"))
                return
            self.buf = self.buf[end + 4 :]
            self.state = 1
            self.transport.write(_TEXT)
        if self.state == 1 and len(self.buf) >= 6:
            if self.buf[:6] != b"\x81\x04soak":
                self._fail(f"bad echo {self.buf[:20]!r}")
                return
            self.buf = self.buf[6:]
            self.state = 2
            self.transport.write(_CLOSE)

    def _fail(self, why: str) -> None:
        if not self.finished.done():
            self.finished.set_result(why)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            ok = self.state == 2 and self.buf.startswith(b"\x88\x02\x03\xe8")
            self.finished.set_result(None if ok else f"closed in state {self.state}: {exc}")


async def run_requests(port: int, count: int, conns: int) -> Tally:
    loop = asyncio.get_running_loop()
    tally = Tally(count)
    waits = []
    for _ in range(min(conns, count)):
        finished: asyncio.Future[None] = loop.create_future()
        await loop.create_connection(partial(_Requests, tally, port, finished), "127.0.0.1", port)
        waits.append(finished)
    await asyncio.gather(*waits)
    return tally


async def run_websockets(port: int, count: int, conns: int) -> Tally:
    loop = asyncio.get_running_loop()
    tally = Tally(count)

    async def one_after_another(source: str) -> None:
        while tally.left > 0:
            tally.left -= 1
            finished: asyncio.Future[str | None] = loop.create_future()
            try:
                await loop.create_connection(
                    partial(_WebSocket, port, finished),
                    "127.0.0.1",
                    port,
                    local_addr=(source, 0),
                )
                problem = await asyncio.wait_for(finished, 30)
            except (OSError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem is None:
                tally.done += 1
            else:
                tally.failed.append(problem)

    # Several source addresses, so client ports are not the limit.
    await asyncio.gather(*(one_after_another(f"127.0.0.{1 + i % 8}") for i in range(conns)))
    return tally


def snapshot(running: Running) -> dict[str, dict[str, int]]:
    """RSS (bytes) and open descriptors of the front and its worker(s)."""
    out = {}
    for proc in running.tree():
        role = "front" if proc.pid == running.pid else f"worker {proc.pid}"
        with proc.oneshot():
            out[role] = {"rss": proc.memory_info().rss, "fds": proc.num_fds()}
    return out


def client_connections(running: Running) -> int:
    front = psutil.Process(running.pid)
    return sum(1 for c in front.net_connections("tcp") if c.status == psutil.CONN_ESTABLISHED)


def soak(requests: int, websockets: int, conns: int, max_growth: int) -> dict[str, Any]:
    import uvloop

    log_dir = Path(tempfile.mkdtemp(prefix="pagi-soak-"))
    log = log_dir / "server.log"
    running = Running(SERVERS["pagi-1w"], APP, log)
    try:
        running.wait_ready()
        started = time.monotonic()

        def load(n_requests: int, n_websockets: int) -> tuple[Tally, Tally]:
            async def both() -> tuple[Tally, Tally]:
                return (
                    await run_requests(running.port, n_requests, conns),
                    await run_websockets(running.port, n_websockets, conns),
                )

            return uvloop.run(both())

        load(max(1000, requests // 50), max(100, websockets // 50))  # warm-up
        _settle(running)
        before = snapshot(running)
        t0 = time.monotonic()
        http, ws = load(requests, websockets)
        elapsed = time.monotonic() - t0
        _settle(running)
        after = snapshot(running)
    finally:
        running.stop()
    report: dict[str, Any] = {
        "requests": requests,
        "requests_done": http.done,
        "websockets": websockets,
        "websockets_done": ws.done,
        "failures": (http.failed + ws.failed)[:10],
        "failure_count": len(http.failed) + len(ws.failed),
        "seconds": round(elapsed, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "before": before,
        "after": after,
    }
    growth = {role: after[role]["rss"] - before[role]["rss"] for role in before if role in after}
    extra_fds = {role: after[role]["fds"] - before[role]["fds"] for role in before if role in after}
    report["rss_growth"] = growth
    report["fd_growth"] = extra_fds
    report["ok"] = (
        report["failure_count"] == 0
        and set(before) == set(after)
        and all(g < max_growth for g in growth.values())
        and all(n <= 0 for n in extra_fds.values())
    )
    if report["ok"]:
        shutil.rmtree(log_dir, ignore_errors=True)
    else:
        report["server_log"] = str(log)  # kept for the post-mortem
    return report


def _settle(running: Running, timeout: float = 15.0) -> None:
    """Wait until the front holds no client connection (closes are lazy)."""
    deadline = time.monotonic() + timeout
    while client_connections(running) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--websockets", type=int, default=100_000)
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--max-growth", type=float, default=2.0, help="MiB per process")
    args = parser.parse_args(argv)
    report = soak(args.requests, args.websockets, args.conns, int(args.max_growth * MiB))
    print(f"{args.requests} requests, {args.websockets} WebSockets in {report['seconds']} s")
    for role, start in report["before"].items():
        end = report["after"].get(role, {"rss": 0, "fds": 0})
        print(
            f"  {role:<16} RSS {start['rss'] / MiB:7.1f} -> {end['rss'] / MiB:7.1f} MiB "
            f"({(end['rss'] - start['rss']) / MiB:+.2f})   fds {start['fds']} -> {end['fds']}"
        )
    if report["failure_count"]:
        print(f"  {report['failure_count']} failures, e.g. {report['failures'][:3]}")
    print(json.dumps(report), flush=True)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
