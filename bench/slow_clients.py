"""Slow and hostile clients next to normal traffic: ``python -m bench.slow_clients``.

Starts ``pagi-front --app bench.apps.websocket:app --workers 1`` and, for
``--duration`` seconds (15), runs at the same time

* ``--slowloris`` connections (200) that send a request head one byte every
  2 s and never finish it (the front must answer 408 after
  ``--header-timeout``, 10 s);
* ``--tricklers`` WebSocket connections (50) that send a frame header
  declaring 32 MiB (over the default ``--ws-max-size`` 16M) and then trickle
  its payload (the front must close them with 1009 at once);
* ``--conns`` (8) keep-alive clients sending ``GET /`` in a closed loop,
  whose latencies are recorded.

Prints the normal traffic's throughput and p50/p99/max latency, how many slow
clients got their 408 (and after how long), how many tricklers got 1009, and
one JSON line. Exits 1 if a slow client was not refused.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.servers import SERVERS, Running

APP = "bench.apps.websocket:app"


async def slowloris(port: int, started: float, results: list[float | None]) -> None:
    head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"y" * 200
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        results.append(None)
        return
    answered: float | None = None
    try:
        for byte in head:
            writer.write(bytes([byte]))
            try:
                data = await asyncio.wait_for(reader.read(100), 2.0)
            except TimeoutError:
                continue
            if data.startswith(b"HTTP/1.1 408"):
                answered = time.monotonic() - started
            break
    except OSError:
        pass
    finally:
        writer.close()
    results.append(answered)


async def trickler(port: int, results: list[float | None]) -> None:
    key = base64.b64encode(os.urandom(16))
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        results.append(None)
        return
    writer.write(
        b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    try:
        await reader.readuntil(b"\r\n\r\n")
        sent = time.monotonic()
        writer.write(bytes([0x82, 0xFF]) + (32 << 20).to_bytes(8, "big") + b"\0\0\0\0")
        close = await asyncio.wait_for(reader.read(4), 10)
        ok = close[:1] == b"\x88" and close[2:4] == (1009).to_bytes(2, "big")
        results.append(time.monotonic() - sent if ok else None)
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        results.append(None)
    finally:
        writer.close()


async def normal(port: int, until: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    while time.monotonic() < until:
        t0 = time.perf_counter()
        writer.write(request)
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(2)  # "ok"
        latencies.append(time.perf_counter() - t0)
    writer.close()


async def scenario(port: int, args: argparse.Namespace) -> dict[str, object]:
    started = time.monotonic()
    slow: list[float | None] = []
    tricks: list[float | None] = []
    latencies: list[float] = []
    until = started + args.duration
    tasks = [asyncio.ensure_future(slowloris(port, started, slow)) for _ in range(args.slowloris)]
    tasks += [asyncio.ensure_future(trickler(port, tricks)) for _ in range(args.tricklers)]
    tasks += [asyncio.ensure_future(normal(port, until, latencies)) for _ in range(args.conns)]
    await asyncio.gather(*tasks)
    latencies.sort()
    answered = [t for t in slow if t is not None]
    refused = [t for t in tricks if t is not None]

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 2)

    return {
        "requests": len(latencies),
        "req_per_s": round(len(latencies) / args.duration),
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 2),
        "slowloris": args.slowloris,
        "slowloris_408": len(answered),
        "slowloris_408_after_s": [round(min(answered), 1), round(max(answered), 1)]
        if answered
        else None,
        "tricklers": args.tricklers,
        "tricklers_1009": len(refused),
        "trickler_1009_max_ms": round(max(refused) * 1000, 1) if refused else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_clients")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--slowloris", type=int, default=200)
    parser.add_argument("--tricklers", type=int, default=50)
    parser.add_argument("--conns", type=int, default=8)
    args = parser.parse_args(argv)
    import uvloop

    log = Path(tempfile.mkdtemp(prefix="pagi-slow-")) / "server.log"
    running = Running(SERVERS["pagi-1w"], APP, log)
    try:
        running.wait_ready()
        report = uvloop.run(scenario(running.port, args))
    finally:
        running.stop()
    print(
        f"normal traffic: {report['requests']} requests ({report['req_per_s']}/s), "
        f"p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms, max {report['max_ms']} ms\n"
        f"slowloris: {report['slowloris_408']}/{report['slowloris']} got 408 "
        f"(after {report['slowloris_408_after_s']} s)\n"
        f"tricklers: {report['tricklers_1009']}/{report['tricklers']} closed 1009 "
        f"(at most {report['trickler_1009_max_ms']} ms after their header)"
    )
    print(json.dumps(report), flush=True)
    ok = report["slowloris_408"] == args.slowloris and report["tricklers_1009"] == args.tricklers
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
