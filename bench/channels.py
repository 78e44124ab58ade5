"""Channel fan-out figures for issue 17: group messages to 1,000 subscribers over 2 workers.

    .venv/bin/python -m bench.channels                  # defaults below, all three backends
    .venv/bin/python -m bench.channels --subs 200 --burst 50 --backends front

For each backend, ``pagi-front --workers 2`` serves a fan-out app; 1,000
WebSocket subscribers (``--subs``; the pool spreads them over both workers)
join one group, and one publisher WebSocket sends group messages:

* ``front``: ``bench/apps/channels_pagi.py`` on pagi's channel layer, the
  front as the broker (``--channels front``);
* ``redis``: the same app, ``--channels redis://...`` (a private
  ``redis-server`` on a free port);
* ``django``: ``bench/apps/channels_django.py``, Django Channels consumers on
  ``channels_redis`` (``RedisChannelLayer``, capacity 1000) — the usual way
  to fan out across workers today — on the same redis-server and the same
  pagi-front.

Two phases per backend, each message stamped with the client's clock:

* *burst*: ``--burst`` messages sent at once; **messages/s** is the number of
  group messages fully delivered (to every subscriber) per second, from the
  first send to the last delivery;
* *paced*: ``--rate`` messages/s for ``--seconds``; **p50/p99** delivery
  latency over every (message, subscriber) pair.

Every channel queues up to 1,000 messages, so no backend drops any (a lost
delivery is reported). The client is one asyncio process (websockets on
uvloop): its own cost is in every figure alike. Prints one JSON line per
backend and a summary with the ratios; writes nothing else. Run it as
``flock /work/bench.lock nice -n -20 .venv/bin/python -m bench.channels``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.environment import raise_fd_limit

REPO = Path(__file__).resolve().parent.parent
APPS = {"front": "bench.apps.channels_pagi:app", "redis": "bench.apps.channels_pagi:app"}
DJANGO_APP = "bench.apps.channels_django:application"
_LISTEN = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_log(
    path: Path, rx: re.Pattern[str], proc: subprocess.Popen[bytes], count: int = 1
) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        found = rx.findall(text)
        if len(found) >= count:
            return str(found[count - 1])
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(
        f"{path.name}: no {rx.pattern!r}:\n{path.read_text(errors='replace')[-2000:]}"
    )


class Redis:
    """A private redis-server on a free port, in a temp dir."""

    def __init__(self, tmp: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is missing (Debian: apt-get install -y redis-server)")
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        log = tmp / "redis.log"
        argv = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(tmp)]
        argv += ["--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        _wait_log(log, re.compile(r"Ready to accept connections"), self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Front:
    def __init__(self, tmp: Path, backend: str, redis: Redis | None) -> None:
        env = dict(os.environ)
        argv = [sys.executable, "-m", "pagi.frontend", "--app"]
        if backend == "django":
            assert redis is not None
            argv.append(DJANGO_APP)
            env["PAGI_BENCH_LAYER"] = "channels_redis.core.RedisChannelLayer"
            env["PAGI_BENCH_REDIS"] = redis.url
        else:
            argv.append(APPS[backend])
        argv += ["--workers", "2", "--app-dir", str(REPO), "--bind", "127.0.0.1:0"]
        argv += ["--socket-dir", str(tmp / f"sock-{backend}"), "--no-access-log"]
        argv += ["--channel-capacity", "1000", "--ws-ping-interval", "0"]
        if backend == "redis":
            assert redis is not None
            argv += ["--channels", redis.url]
        log = tmp / f"front-{backend}.log"
        self.proc = subprocess.Popen(
            argv, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        self.port = int(_wait_log(log, _LISTEN, self.proc))
        _wait_log(log, re.compile(r"worker .* joined"), self.proc, count=2)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class Subscribers:
    """``n`` WebSocket subscribers recording, per message, each delivery latency."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.delivered: dict[int, int] = {}
        self.last_delivery = 0.0
        self.conns: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def connect(self, port: int, n: int) -> None:
        from websockets.asyncio.client import connect

        url = f"ws://127.0.0.1:{port}/sub"
        for start in range(0, n, 100):
            batch = [
                connect(url, open_timeout=30, ping_interval=None)
                for _ in range(start, min(n, start + 100))
            ]
            self.conns += await asyncio.gather(*batch)
        self.tasks = [asyncio.create_task(self._read(ws)) for ws in self.conns]

    async def _read(self, ws: Any) -> None:
        async for text in ws:
            now = time.perf_counter()
            seq, sent = text.split(" ")
            key = int(seq)
            self.delivered[key] = self.delivered.get(key, 0) + 1
            if key >= 0:
                self.latencies.append(now - float(sent))
            self.last_delivery = now

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.conns), return_exceptions=True)


async def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def measure(port: int, args: argparse.Namespace) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    subs = Subscribers()
    await subs.connect(port, args.subs)
    pub = await connect(f"ws://127.0.0.1:{port}/pub", ping_interval=None)
    try:
        # warm-up: until every subscriber has joined (a message reaches all of them)
        warm = -1
        while True:
            await pub.send(f"{warm} {time.perf_counter()}")
            try:
                await _until(lambda w=warm: subs.delivered.get(w, 0) >= args.subs, 2.0, "warm-up")
                break
            except RuntimeError:
                warm -= 1
                if warm < -15:
                    raise
        await asyncio.sleep(0.5)
        # burst
        subs.latencies.clear()
        first = time.perf_counter()
        for seq in range(args.burst):
            await pub.send(f"{seq} {time.perf_counter()}")
        expected = args.burst * args.subs
        await _until(lambda: sum(subs.delivered.get(s, 0) for s in range(args.burst)) >= expected,
                     120, "the burst")  # fmt: skip
        burst_seconds = subs.last_delivery - first
        # paced
        await asyncio.sleep(0.5)
        subs.latencies.clear()
        base = 1_000_000
        count = int(args.rate * args.seconds)
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await pub.send(f"{base + i} {time.perf_counter()}")
        keys = range(base, base + count)
        try:
            await _until(lambda: sum(subs.delivered.get(k, 0) for k in keys) >= count * args.subs,
                         60, "the paced phase")  # fmt: skip
        except RuntimeError:
            pass
        got = sum(subs.delivered.get(k, 0) for k in keys)
        lat = sorted(subs.latencies)
        return {
            "messages_per_s": round(args.burst / burst_seconds, 1),
            "deliveries_per_s": round(expected / burst_seconds),
            "p50_ms": round(1000 * lat[len(lat) // 2], 2) if lat else None,
            "p99_ms": round(1000 * lat[int(len(lat) * 0.99)], 2) if lat else None,
            "paced_lost": count * args.subs - got,
        }
    finally:
        await pub.close()
        await subs.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subs", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--backends", default="front,redis,django")
    args = parser.parse_args()
    raise_fd_limit()
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="pagi-bench-channels-") as tmp_name:
        tmp = Path(tmp_name)
        backends = args.backends.split(",")
        redis = Redis(tmp) if {"redis", "django"} & set(backends) else None
        try:
            for backend in backends:
                front = Front(tmp, backend, redis)
                try:
                    result = asyncio.run(measure(front.port, args))
                finally:
                    front.stop()
                result = {"backend": backend, "subs": args.subs, "workers": 2, **result}
                print(json.dumps(result), flush=True)
                results[backend] = result
        finally:
            if redis is not None:
                redis.stop()
    print()
    print(f"{'backend':8} {'msgs/s':>9} {'deliveries/s':>13} {'p50 ms':>8} {'p99 ms':>8}")
    for name, r in results.items():
        row = f"{name:8} {r['messages_per_s']:9} {r['deliveries_per_s']:13}"
        print(f"{row} {r['p50_ms']!s:>8} {r['p99_ms']!s:>8}")
    if "front" in results and "django" in results:
        ratio = results["front"]["messages_per_s"] / results["django"]["messages_per_s"]
        print(f"front / django+channels_redis throughput: {ratio:.1f}x")


if __name__ == "__main__":
    main()
