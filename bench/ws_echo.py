"""WebSocket figures for issue 3: echo round trips/s and memory per idle WebSocket.

    .venv/bin/python -m bench.ws_echo                      # both parts, defaults below
    .venv/bin/python -m bench.ws_echo --part echo --duration 10 --reps 3
    .venv/bin/python -m bench.ws_echo --part idle --idle 2000

*echo*: 32 connections (``--conns``), each in a closed loop sending a 64-byte
text message (``--size``) and waiting for its echo, for 10 s (``--duration``)
after a 2 s warm-up, against the same echo app (``bench/apps/websocket.py``)
on: pagi (front + 1 worker), uvicorn ``--ws wsproto`` and uvicorn ``--ws
websockets`` (uvloop + httptools), one after the other in the same run, each
``--reps`` times; prints the median round trips/s and pagi's ratio to each.
The load client is ``bench/clients.py ws-echo`` (raw frames on uvloop, one
process).

*idle*: pagi with 2,000 (``--idle``) open, idle WebSockets held by
``bench/clients.py hold --kind ws``; prints the RSS growth per connection of
the front, of the worker, and of both (uvicorn for comparison).

Uses the suite's machinery (``bench/servers.py``, ``bench/python_clients.py``,
``bench/environment.py``: the pinned peers in ``bench/.venv-peers`` are
installed on first use, the open-files limit is raised). Prints JSON lines
and a summary; writes nothing else.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.environment import ensure_peers, raise_fd_limit
from bench.process_meters import tree_memory
from bench.python_clients import HeldConnections, ws_echo
from bench.servers import PEERS_VENV, SERVERS, Running, Server
from bench.workload import Config

APP = "bench.apps.websocket:app"
KiB = 1024


def _uvicorn_ws(ws: str) -> Server:
    def argv(app: str, port: int) -> list[str]:
        return [
            str(PEERS_VENV / "bin" / "uvicorn"),
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--ws",
            ws,
            "--ws-ping-interval",
            "0",
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    return Server(f"uvicorn-{ws}", f"uvicorn, uvloop + httptools, --ws {ws}", argv, True)


def servers() -> list[Server]:
    return [SERVERS["pagi-1w"], _uvicorn_ws("wsproto"), _uvicorn_ws("websockets")]


def _start(server: Server, logs: Path) -> Running:
    running = Running(server, APP, logs / f"{server.name}-{time.monotonic_ns()}.log")
    running.wait_ready()
    return running


def echo(args: argparse.Namespace, logs: Path) -> dict[str, float]:
    config = Config(
        duration=args.duration, warmup=args.warmup, ws_conns=args.conns, ws_size=args.size
    )
    rates: dict[str, list[float]] = {s.name: [] for s in servers()}
    for rep in range(args.reps):
        for server in servers():
            running = _start(server, logs)
            try:
                result = ws_echo(running, config)
            finally:
                running.stop()
            rates[server.name].append(result["messages_per_s"])
            print(json.dumps({"part": "echo", "rep": rep, "server": server.name, **result}))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(
        f"\necho: {args.conns} connections, {args.size}-byte text, {args.duration} s, "
        f"median of {args.reps}"
    )
    pagi = medians["pagi-1w"]
    for name, value in medians.items():
        ratio = "" if name == "pagi-1w" else f"   pagi / {name} = {pagi / value:.2f}"
        print(f"  {name:<20} {value:>10,.0f} round trips/s{ratio}")
    return medians


def idle(args: argparse.Namespace, logs: Path) -> list[dict[str, Any]]:
    rows = []
    for server in (SERVERS["pagi-1w"], _uvicorn_ws("wsproto"), _uvicorn_ws("websockets")):
        running = _start(server, logs)
        try:
            time.sleep(1.0)
            procs = running.tree()
            before = [tree_memory([p])["rss"] for p in procs]
            held = HeldConnections("ws", running.port, args.idle)
            try:
                time.sleep(2.0)
                procs_after = running.tree()
                after = [tree_memory([p])["rss"] for p in procs_after]
                result = held.stop()
            except BaseException:
                held.proc.kill()
                held.close()
                raise
        finally:
            running.stop()
        n = max(int(result["open"]), 1)
        row: dict[str, Any] = {
            "part": "idle",
            "server": server.name,
            "open": result["open"],
            "kib_per_conn_total": (sum(after) - sum(before)) / n / KiB,
        }
        if server.is_pagi and len(before) >= 2 and len(after) >= 2:
            row["kib_per_conn_front"] = (after[0] - before[0]) / n / KiB
            row["kib_per_conn_worker"] = (sum(after[1:]) - sum(before[1:])) / n / KiB
            row["front_rss_mib"] = after[0] / KiB / KiB
            row["worker_rss_mib"] = sum(after[1:]) / KiB / KiB
        print(json.dumps(row))
        rows.append(row)
    print(f"\nidle: {args.idle} open WebSockets, RSS growth per connection")
    for row in rows:
        extra = ""
        if "kib_per_conn_front" in row:
            extra = (
                f"  (front {row['kib_per_conn_front']:.1f} KiB, "
                f"worker {row['kib_per_conn_worker']:.1f} KiB)"
            )
        print(f"  {row['server']:<20} {row['kib_per_conn_total']:>6.1f} KiB{extra}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="WebSocket echo and idle-memory figures")
    parser.add_argument("--part", choices=["echo", "idle", "both"], default="both")
    parser.add_argument("--conns", type=int, default=32)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--idle", type=int, default=2000)
    args = parser.parse_args()
    ensure_peers()
    raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="ws-bench-") as tmp:
        logs = Path(tmp)
        if args.part in ("echo", "both"):
            echo(args, logs)
        if args.part in ("idle", "both"):
            idle(args, logs)


if __name__ == "__main__":
    main()
