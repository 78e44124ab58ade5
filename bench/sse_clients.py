"""SSE figures: memory and CPU per stream, and broadcast throughput against uvicorn.

    .venv/bin/python -m bench.sse_clients [--streams 2000] [--seconds 10] [--fanout 100]
                                          [--part streams|broadcast|both]

**streams**: ``pagi-front`` with one worker serves ``tick_app``, a native
PAGI app whose every ``sse`` stream sends one event per second (its own task,
``asyncio.sleep(1)``). ``--streams`` raw-socket clients (asyncio protocols on
uvloop, 127.0.0.1) connect and read; once all have their first event, the
front's and the worker's RSS and CPU are measured over ``--seconds``. RSS per
stream is (RSS with the streams - RSS before them) / streams.

**broadcast**: one producer task pushes small events through a bounded queue
(100) per subscriber to ``--fanout`` clients as fast as they are consumed.
The same ``broadcast_app`` runs on pagi (1 worker, native ``sse`` scope: each
event is one ``sse.send``) and on uvicorn (httptools, uvloop, from
``bench/.venv-peers``: an ordinary ASGI streaming response whose body the app
formats as ``data: ...\\n\\n``). Events delivered per second over
``--seconds`` (after a 2 s warm-up), and the servers' CPU.

Client and servers share the machine's cores; the client's own CPU is reported
so a saturated client can be told from a saturated server. The apps import
only the standard library, so uvicorn's venv can import this module too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PAGI_PYTHON = REPO / ".venv" / "bin" / "python"
PEERS_PYTHON = REPO / "bench" / ".venv-peers" / "bin" / "python"

# --- the apps (stdlib only) ---------------------------------------------------------------


async def _ok(send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        if message["type"] == "lifespan.shutdown":
            return


async def tick_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """One event per second per stream, each stream its own task."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "sse":
        await _ok(send)
        return
    connection = scope["pagi.connection"]
    await send({"type": "sse.start"})
    n = 0
    while connection.is_connected():
        n += 1
        await send({"type": "sse.send", "event": "tick", "id": str(n), "data": f"tick {n}"})
        await asyncio.sleep(1.0)


class _Hub:
    """One producer, a bounded queue per subscriber: nobody is skipped, the slowest paces."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[str]] = set()
        self.task: asyncio.Task[None] | None = None

    def subscribe(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=100)
        self.queues.add(queue)
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())
        return queue

    async def _run(self) -> None:
        seq = 0
        while True:
            if not self.queues:
                await asyncio.sleep(0.01)
                continue
            seq += 1
            payload = '{"seq": %d, "price": %.3f}' % (seq, 100 + (seq % 1000) / 100)  # noqa: UP031
            for queue in list(self.queues):
                if queue.full():
                    await queue.put(payload)
                else:
                    queue.put_nowait(payload)


_HUB = _Hub()


async def broadcast_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Native ``sse`` on pagi; a plain ASGI streaming response anywhere else."""
    kind = scope["type"]
    if kind == "lifespan":
        await _lifespan(receive, send)
        return
    if kind == "http" and scope["path"] != "/events":
        await _ok(send)
        return
    gone = asyncio.Event()

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] in ("http.disconnect", "sse.disconnect"):
                gone.set()
                return

    watcher = asyncio.ensure_future(watch())
    queue = _HUB.subscribe()
    try:
        if kind == "sse":
            await send({"type": "sse.start"})
            while not gone.is_set():
                await send({"type": "sse.send", "data": await queue.get()})
        else:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/event-stream"),
                        (b"cache-control", b"no-cache"),
                    ],
                }
            )
            while not gone.is_set():
                body = ("data: " + await queue.get() + "\n\n").encode()
                await send({"type": "http.response.body", "body": body, "more_body": True})
    finally:
        _HUB.queues.discard(queue)
        watcher.cancel()


# --- the clients ------------------------------------------------------------------------------


class _Stream(asyncio.Protocol):
    """Counts events (blank lines) on one SSE connection."""

    def __init__(self, request: bytes, streams: list[_Stream]) -> None:
        self.request = request
        self.events = 0
        self.tail = b""
        self.open = False
        self.transport: asyncio.Transport | None = None
        streams.append(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.open = True
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.events += (self.tail + data).count(b"\n\n")
        self.tail = data[-1:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False


async def _connect(port: int, count: int, path: str) -> list[_Stream]:
    loop = asyncio.get_running_loop()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    streams: list[_Stream] = []
    pending: set[asyncio.Future[Any]] = set()
    for _ in range(count):
        pending.add(
            asyncio.ensure_future(
                loop.create_connection(lambda: _Stream(request, streams), "127.0.0.1", port)
            )
        )
        if len(pending) >= 100:  # at most 100 handshakes in flight
            _done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    if pending:
        await asyncio.wait(pending)
    return streams


def _close(streams: list[_Stream]) -> None:
    for stream in streams:
        if stream.transport is not None:
            stream.transport.abort()


# --- servers ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(100).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not become ready")


def _start(kind: str, app: str, port: int) -> subprocess.Popen[bytes]:
    if kind == "pagi":
        argv = [
            str(PAGI_PYTHON), "-m", "pagi.frontend", "--app", app, "--workers", "1",
            "--bind", f"127.0.0.1:{port}", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        # no --socket-dir: the front makes a private one and removes it at exit
    else:
        argv = [
            str(PEERS_PYTHON), "-m", "uvicorn", app, "--port", str(port), "--host", "127.0.0.1",
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level",
            "warning", "--workers", "1",
        ]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=REPO, start_new_session=True)
    _wait_ready(port, proc)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 15)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


def _tree(pid: int) -> list[Any]:
    import psutil

    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


# --- the two measurements -----------------------------------------------------------------------


async def measure_streams(count: int, seconds: float) -> dict[str, Any]:
    import psutil

    port = _free_port()
    proc = _start("pagi", "bench.sse_clients:tick_app", port)
    try:
        front, *workers = _tree(proc.pid)
        worker = workers[-1]  # the pagi-worker (python -m pagi.worker)
        time.sleep(0.5)
        base = {"front": front.memory_info().rss, "worker": worker.memory_info().rss}
        started = time.monotonic()
        streams = await _connect(port, count, "/events")
        while sum(1 for s in streams if s.events) < count and time.monotonic() - started < 60:
            await asyncio.sleep(0.1)
        connected_in = time.monotonic() - started
        ready = sum(1 for s in streams if s.events)
        me = psutil.Process()
        for p in (front, worker, me):
            p.cpu_percent(None)
        before = sum(s.events for s in streams)
        await asyncio.sleep(seconds)
        events = sum(s.events for s in streams) - before
        cpu = {"front": front.cpu_percent(None), "worker": worker.cpu_percent(None)}
        cpu["client"] = me.cpu_percent(None)
        rss = {"front": front.memory_info().rss, "worker": worker.memory_info().rss}
        still_open = sum(1 for s in streams if s.open)
        _close(streams)
    finally:
        _stop(proc)
    return {
        "streams": count,
        "streams_with_events": ready,
        "still_open": still_open,
        "connect_and_first_event_s": round(connected_in, 2),
        "seconds": seconds,
        "events_per_s": round(events / seconds, 1),
        "rss_before_mib": {k: round(v / 2**20, 1) for k, v in base.items()},
        "rss_with_streams_mib": {k: round(v / 2**20, 1) for k, v in rss.items()},
        "rss_per_stream_kib": {k: round((rss[k] - base[k]) / count / 1024, 2) for k in rss},
        "cpu_percent": cpu,
    }


async def measure_broadcast(kind: str, fanout: int, seconds: float) -> dict[str, Any]:
    import psutil

    port = _free_port()
    proc = _start(kind, "bench.sse_clients:broadcast_app", port)
    try:
        server = _tree(proc.pid)
        streams = await _connect(port, fanout, "/events")
        await asyncio.sleep(2.0)  # warm-up
        me = psutil.Process()
        for p in (*server, me):
            p.cpu_percent(None)
        before = sum(s.events for s in streams)
        await asyncio.sleep(seconds)
        events = sum(s.events for s in streams) - before
        by_process = [round(p.cpu_percent(None), 1) for p in server]
        cpu = round(sum(by_process), 1)
        client_cpu = me.cpu_percent(None)
        per_client = [s.events for s in streams]
        _close(streams)
    finally:
        _stop(proc)
    return {
        "server": kind,
        "clients": fanout,
        "events_per_s": round(events / seconds),
        "events_per_s_per_client": round(events / seconds / fanout, 1),
        "slowest_client_share": round(min(per_client) / max(max(per_client), 1), 3),
        "server_cpu_percent": cpu,
        "server_cpu_by_process": by_process,  # pagi: front, then worker
        "client_cpu_percent": client_cpu,
    }


def main() -> None:
    import argparse
    import resource

    parser = argparse.ArgumentParser(description="SSE benchmark (see the module docstring)")
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--fanout", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--part", choices=("streams", "broadcast", "both"), default="both")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 2 * args.streams + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    results: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    if args.part in ("streams", "both"):
        results["streams"] = run(measure_streams(args.streams, args.seconds))
        print(json.dumps(results["streams"]), flush=True)
    if args.part in ("broadcast", "both"):
        results["broadcast"] = []
        for kind in ("pagi", "uvicorn"):
            if kind == "uvicorn" and not PEERS_PYTHON.exists():
                print(f"skipping uvicorn: {PEERS_PYTHON} is missing", file=sys.stderr)
                continue
            result = run(measure_broadcast(kind, args.fanout, args.seconds))
            results["broadcast"].append(result)
            print(json.dumps(result), flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
