"""The benchmark harness: ``bash bench/run.sh [options]`` (``python -m bench.run``).

Runs every selected workload against every selected server on 127.0.0.1 in
one process: for each repetition, for each workload, each server in turn
(the order rotated by one every repetition) is started fresh, probed, loaded,
measured and stopped. Writes ``<results>/<timestamp>.json`` (every run, the
statistics, the ratios, the machine and the versions), ``<timestamp>.md`` and
``latest.md``.

With ``--profile front|worker`` it instead runs one workload once against one
server under py-spy (see ``bench/pyspy.py``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench import charts, environment, report
from bench.servers import REPO, SERVERS, Running, Server, is_known, resolve
from bench.tls import TLSPair, throwaway_pair
from bench.workload import Config, Unsupported, Workload
from bench.workloads import WORKLOADS, WRK_FLAGS, select

DEFAULT_RESULTS = REPO / "bench" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/run.sh",
        description="pagi against its peers, same apps, same run (docs/performance.md).",
    )
    p.add_argument("--servers", default="all", help="comma list or 'all' (see --list)")
    p.add_argument(
        "--workloads",
        "--workload",
        dest="workloads",
        default="all",
        help="comma list of ids or 'all'; 8 = 8a,8b (see --list)",
    )
    p.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    p.add_argument("--duration", type=int, default=5, help="measured seconds per run (default 5)")
    p.add_argument(
        "--warmup", type=int, default=1, help="warm-up seconds before measuring (default 1)"
    )
    p.add_argument("--ws-conns", type=int, default=32)
    p.add_argument(
        "--h2-requests", type=int, default=200_000, help="requests of workload 10 (h2load -n)"
    )
    p.add_argument("--idle-conns", type=int, default=2000)
    p.add_argument("--sse-streams", type=int, default=2000)
    p.add_argument(
        "--settle",
        type=float,
        default=1.0,
        help="seconds to wait after opening connections before measuring",
    )
    p.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    p.add_argument(
        "--no-latest", action="store_true", help="do not overwrite latest.md (nor the charts)"
    )
    p.add_argument(
        "--charts-dir",
        type=Path,
        default=charts.DEFAULT_OUT,
        help="where the charts of the run go with latest.md (default: docs/charts)",
    )
    p.add_argument(
        "--tls",
        action="store_true",
        help="every server listens over TLS (a throwaway self-signed pair in a temp dir)",
    )
    p.add_argument("--list", action="store_true", help="list servers and workloads, then exit")
    p.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="only rewrite the Markdown of an earlier run's JSON (and latest.md)",
    )
    p.add_argument(
        "--profile",
        choices=("front", "worker"),
        help="run ONE workload under py-spy, attached to the main process or a worker",
    )
    p.add_argument("--profile-server", default="pagi-1w")
    p.add_argument("--native", action="store_true", help="py-spy --native (C frames too)")
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    return p.parse_args(argv)


def list_everything() -> None:
    print("servers:")
    for s in SERVERS.values():
        print(f"  {s.name:18s} {s.description}")
    print("workloads:")
    for w in WORKLOADS.values():
        print(f"  {w.id:3s} {w.name:20s} {w.title.format(**dataclasses.asdict(Config()))}")


def select_servers(spec: str) -> list[Server]:
    if spec == "all":
        return list(SERVERS.values())
    names = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if not is_known(n)]
    if unknown:
        raise SystemExit(f"unknown server(s) {unknown}; known: {', '.join(SERVERS)}")
    return [resolve(n) for n in names]


def prepare(servers: list[Server], workloads: list[Workload], need_pyspy: bool) -> bool:
    """Install what the selection needs; True when the peers' venv is in use."""
    if any(w.client == "wrk" for w in workloads):
        environment.ensure_tool("wrk", "wrk")
    if any(w.client == "h2load" for w in workloads):
        environment.ensure_tool("h2load", "nghttp2-client")
    peers = need_pyspy or any(s.peer for s in servers)
    if peers:
        environment.ensure_peers()
    environment.raise_fd_limit()
    return peers


def run_one(
    workload: Workload,
    server: Server,
    rep: int,
    config: Config,
    log_dir: Path,
    tls: TLSPair | None = None,
) -> dict[str, Any]:
    """Start ``server`` with the workload's app, run it, stop it; never raises."""
    log_path = log_dir / f"r{rep}-w{workload.id}-{server.name}.log"
    record: dict[str, Any] = {
        "workload": workload.id,
        "server": server.name,
        "rep": rep,
        "status": "error",
        "metrics": {},
        "note": None,
    }
    running: Running | None = None
    t0 = time.perf_counter()
    try:
        running = Running(server, workload.app, log_path, tls)
        record["argv"] = running.argv
        running.wait_ready()
        record["cold_start_s"] = running.cold_start_s
        record["metrics"] = workload.run(running, config)
        record["status"] = "ok"
    except Unsupported as exc:
        record["status"] = "unsupported"
        record["note"] = f"not supported yet: {exc}"
    except Exception as exc:  # a failed run is reported, the suite goes on
        record["note"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc(limit=5)
    finally:
        if running is not None:
            record["leftover_pids"] = running.stop()
            record["pids"] = sorted(running.pids_seen)
            if record["status"] == "error":
                record["log_tail"] = running.log_tail()
        record["wall_s"] = time.perf_counter() - t0
    return record


def _progress(i: int, total: int, record: dict[str, Any], workload: Workload) -> str:
    where = f"{workload.id} {workload.name} · {record['server']}"
    head = f"[{i}/{total}] rep {record['rep'] + 1} · {where}"
    if record["status"] != "ok":
        return f"{head}: {record['status']} — {record['note']}"
    shown = []
    for col in workload.columns[:3]:
        value = record["metrics"].get(col.key)
        if value is not None:
            shown.append(f"{col.label} {report.fmt(value, col.unit)}")
    return f"{head}: " + ", ".join(shown)


def benchmark(args: argparse.Namespace) -> Path:
    servers = select_servers(args.servers)
    try:
        workloads = select(args.workloads)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    config = Config(
        duration=args.duration,
        warmup=args.warmup,
        ws_conns=args.ws_conns,
        h2_requests=args.h2_requests,
        idle_conns=args.idle_conns,
        sse_streams=args.sse_streams,
        settle=args.settle,
        tls=args.tls,
    )
    peers = prepare(servers, workloads, need_pyspy=False)
    with tempfile.TemporaryDirectory(prefix="pagi-bench-tls-") as tmp:
        tls = throwaway_pair(Path(tmp)) if args.tls else None
        return _benchmark(args, servers, workloads, config, peers, tls)


def _benchmark(
    args: argparse.Namespace,
    servers: list[Server],
    workloads: list[Workload],
    config: Config,
    peers: bool,
    tls: TLSPair | None,
) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results_dir: Path = args.results_dir
    results_dir.mkdir(parents=True, exist_ok=True)
    log_dir = results_dir / f"{stamp}-logs"
    log_dir.mkdir()
    result: dict[str, Any] = {
        "schema": 1,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": environment.describe_machine(),
        "versions": environment.versions(peers),
        "config": {**dataclasses.asdict(config), "reps": args.reps},
        "servers_order": [s.name for s in servers],
        "servers": {s.name: {"description": s.description, "peer": s.peer} for s in servers},
        "workloads": {
            w.id: {
                "name": w.name,
                "title": w.title.format(**dataclasses.asdict(config)),
                "app": w.app,
                "client": w.client,
                "client_argv": w.client_argv(config),
                "headline": w.headline,
                "higher_is_better": w.higher_is_better,
            }
            for w in workloads
        },
        "wrk_flags": {wid: flags for wid, (flags, _) in WRK_FLAGS.items()},
        "runs": [],
    }
    total = args.reps * len(workloads) * len(servers)
    i = 0
    for rep in range(args.reps):
        shift = rep % len(servers)
        order = servers[shift:] + servers[:shift]
        for workload in workloads:
            for server in order:
                i += 1
                record = run_one(workload, server, rep, config, log_dir, tls)
                result["runs"].append(record)
                print(_progress(i, total, record, workload), flush=True)
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    result["loadavg_after"] = list(os.getloadavg())
    result["summary"] = report.summarize(result["runs"])
    result["ratios"] = report.ratios(result["summary"])
    json_path = results_dir / f"{stamp}.json"
    json_path.write_text(json.dumps(result, indent=1) + "\n")
    md = report.markdown(result)
    (results_dir / f"{stamp}.md").write_text(md)
    if not args.no_latest:
        (results_dir / "latest.md").write_text(md)
        print(charts.charts_or_reason(result, args.charts_dir), flush=True)
    if all(r["status"] != "error" for r in result["runs"]):
        shutil.rmtree(log_dir, ignore_errors=True)
    else:
        print(f"bench: some runs failed; server logs kept in {log_dir}", flush=True)
    print(md)
    print(f"bench: wrote {json_path}", flush=True)
    return json_path


def render(json_path: Path, latest: bool, charts_dir: Path) -> None:
    """Rewrite ``<stamp>.md`` (and ``latest.md`` and the charts) of an earlier run's JSON."""
    result = json.loads(json_path.read_text())
    md = report.markdown(result)
    json_path.with_suffix(".md").write_text(md)
    if latest:
        (json_path.parent / "latest.md").write_text(md)
        print(charts.charts_or_reason(result, charts_dir), flush=True)
    print(md)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        list_everything()
        return 0
    if args.render:
        render(args.render, latest=not args.no_latest, charts_dir=args.charts_dir)
        return 0
    if args.profile:
        from bench import pyspy

        return pyspy.main(args)
    benchmark(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
