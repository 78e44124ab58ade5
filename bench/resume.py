"""Issue 13's measurements: open event streams and WebSockets through one rolling reload.

    flock /work/bench.lock nice -n -20 .venv/bin/python -m bench.resume [--sse 2000] [--ws 2000]

An embedded front with 2 workers serves ``tests/apps/resume_apps.py``: ``sse_resume_app``
(each stream: one event every ``--interval`` seconds, counting on from
``Last-Event-ID``) and ``tests/apps/ws_move_app.py`` (a movable chat whose
replies count the connection's messages across moves). One asyncio client
opens ``--sse`` streams and ``--ws`` WebSockets (each WebSocket sends a
message every ``--interval`` seconds and checks its reply), then runs one
``pagi-ctl reload``. Printed:

* the reload's duration (``pagi-ctl reload`` until it reports done: the new
  workers are ready), and how long until every connection had been served
  by a new worker (``all_moved_after_s``);
* the longest gap between two events on one SSE stream, and between a
  WebSocket message and its reply, during the reload;
* the front's peak RSS during the move (and its RSS before);
* lost / duplicated / out-of-order events and replies (must be 0), and
  connections that ended (must be 0).

Real processes, the tests' harness; about a minute. Not part of the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from harness import PeakRSS, Processes  # noqa: E402


@dataclass
class Tally:
    """What one kind of connection saw."""

    events: int = 0
    lost: int = 0  # an id / count skipped
    duplicated: int = 0  # an id / count seen again or going back
    ended: int = 0  # connections that ended before the client closed them
    gaps: list[float] = field(default_factory=list)  # per connection: longest gap in the reload
    pids: dict[int, set[str]] = field(default_factory=dict)  # connection -> worker pids seen
    moved_at: list[float] = field(default_factory=list)  # when a connection saw a 2nd pid

    def count(self, conn: int, expected: int, got: int, pid: str) -> int:
        """Check ``got`` against ``expected``; returns the next expected value."""
        if got > expected:
            self.lost += got - expected
        elif got < expected:
            self.duplicated += 1
            return expected
        self.events += 1
        pids = self.pids.setdefault(conn, set())
        if pid not in pids:
            pids.add(pid)
            if len(pids) == 2:
                self.moved_at.append(time.monotonic())
        return got + 1


class Window:
    """Whether the reload is on (gaps are measured only then)."""

    def __init__(self) -> None:
        self.on = False


async def sse_stream(
    port: int, i: int, interval: float, tally: Tally, window: Window, stop: asyncio.Event
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /events?interval={interval} HTTP/1.1\r\nHost: b\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    expected = 1
    last = time.monotonic()
    longest = 0.0
    buf = b""
    try:
        while not stop.is_set():
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                tally.ended += 1
                return
            buf += (await reader.readexactly(size + 2))[:-2]
            while b"\n\n" in buf:
                event, buf = buf.split(b"\n\n", 1)
                fields = dict(line.split(b": ", 1) for line in event.split(b"\n") if b": " in line)
                if b"id" not in fields:
                    continue
                now = time.monotonic()
                if window.on:
                    longest = max(longest, now - last)
                last = now
                _n, pid, _attempt = fields[b"data"].decode().split()
                expected = tally.count(i, expected, int(fields[b"id"]), pid)
    except (asyncio.IncompleteReadError, ConnectionError):
        if not stop.is_set():
            tally.ended += 1
    finally:
        tally.gaps.append(longest)
        writer.close()


async def ws_client(
    port: int, i: int, interval: float, tally: Tally, window: Window, stop: asyncio.Event
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    expected = 1
    longest = 0.0
    try:
        async with connect(f"ws://127.0.0.1:{port}/chat", open_timeout=60) as ws:
            while not stop.is_set():
                sent = time.monotonic()
                await ws.send(f"m{expected}")
                reply = str(await ws.recv())
                if window.on:
                    longest = max(longest, time.monotonic() - sent)
                count, pid, _text = reply.split()
                expected = tally.count(i, expected, int(count), pid)
                await asyncio.sleep(interval)
    except ConnectionClosed:
        tally.ended += 1
    finally:
        tally.gaps.append(longest)


async def run(args: argparse.Namespace, procs: Processes) -> dict[str, object]:
    front = procs.front(app="resume_apps:app", workers=2)
    port = front.port
    sse, ws = Tally(), Tally()
    window = Window()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(sse_stream(port, i, args.interval, sse, window, stop))
        for i in range(args.sse)
    ]
    for i in range(args.ws):
        tasks.append(asyncio.create_task(ws_client(port, i, args.interval, ws, window, stop)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)  # do not flood the accept queue
    await asyncio.sleep(args.settle)
    ready = sse.events, ws.events
    rss = PeakRSS([front.popen.pid])
    rss_before = rss.baseline[0]
    window.on = True
    started = time.monotonic()
    ctl = Path(sys.executable).parent / "pagi-ctl"
    done = await asyncio.to_thread(
        subprocess.run,
        [str(ctl), "--socket-dir", str(procs.socket_dir), "reload"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    reload_time = time.monotonic() - started
    await asyncio.sleep(args.settle)
    window.on = False
    peak = rss.stop()[0] + rss_before
    stop.set()
    await asyncio.wait(tasks, timeout=30)
    moved_sse = sum(1 for pids in sse.pids.values() if len(pids) > 1)
    moved_ws = sum(1 for pids in ws.pids.values() if len(pids) > 1)
    last_move = max(sse.moved_at + ws.moved_at, default=started)
    return {
        "reload": done.stdout.strip(),
        "reload_seconds": round(reload_time, 2),
        "all_moved_after_s": round(last_move - started, 2),
        "events_before_reload": {"sse": ready[0], "ws": ready[1]},
        "sse": {
            "streams": args.sse,
            "moved": moved_sse,
            "events": sse.events,
            "lost": sse.lost,
            "duplicated": sse.duplicated,
            "ended": sse.ended,
            "longest_gap_s": round(max(sse.gaps, default=0.0), 3),
        },
        "ws": {
            "connections": args.ws,
            "moved": moved_ws,
            "replies": ws.events,
            "lost": ws.lost,
            "duplicated": ws.duplicated,
            "ended": ws.ended,
            "longest_reply_s": round(max(ws.gaps, default=0.0), 3),
        },
        "front_rss_mib": {
            "before": round(rss_before / 2**20, 1),
            "peak": round(peak / 2**20, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sse", type=int, default=2000)
    parser.add_argument("--ws", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between events")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before/after")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    procs = Processes(Path(tempfile.mkdtemp(prefix="pagi-resume-bench-")))
    try:
        print(json.dumps(asyncio.run(run(args, procs)), indent=2))
    finally:
        procs.cleanup()


if __name__ == "__main__":
    main()
