"""CPU-cost mode: what each process spends per request, and how long it waits for a core.

``python -m bench.cpu_cost --servers pagi-1w,uvicorn-httptools --workload 1 --conns 64``

For every repetition and server (alternating, each started fresh) the load
runs for ``--warmup + --measure + 1`` seconds; over the middle ``--measure``
seconds the scheduler's own counters of every process of the server *and of
the load generator* are read twice from ``/proc/PID/task/*/schedstat``: time
spent on a CPU (exact, unlike the tick counts of ``/proc/PID/stat``; see
``servers.tree_cpu_seconds``) and time spent runnable but waiting for one.
Printed per process: cores used, CPU µs per request (or echoed message) and
run-queue wait in ms per second.

It answers the questions the throughput tables cannot: which process is the
bottleneck, what the load generator is left with, and whether requests wait
for a core rather than for the server. Workloads: ``1`` (wrk, keep-alive
hello, ``--conns`` connections) and ``6`` (WebSocket echo, 64-byte text).
Like everything in ``bench/``, it measures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

import psutil

from bench.process_meters import schedstat_ns
from bench.python_clients import client_cmd
from bench.run import prepare
from bench.servers import REPO, Running, Server, is_known, resolve
from bench.workloads import WORKLOADS
from bench.wrk_client import wrk_argv, wrk_report

#: The workloads this mode can drive (their app is the suite's).
_WORKLOADS = ("1", "6")


def _load_argv(workload: str, port: int, conns: int, seconds: int) -> list[str]:
    if workload == "1":
        return wrk_argv(["-t1", f"-c{conns}"], "report.lua", seconds, port)
    return client_cmd(
        "ws-echo",
        *("--port", str(port), "--conns", str(conns), "--size", "64"),
        *("--warmup", "0", "--duration", str(seconds)),
    )


def _rate(workload: str, output: str) -> float:
    """Requests (or messages) per second over the whole load run."""
    if workload == "1":
        report = wrk_report(output)
        if report is not None:
            return float(report["requests"]) / (report["duration_us"] / 1e6)
    else:
        for line in output.splitlines():
            if line.startswith("{"):
                return float(json.loads(line)["messages_per_s"])
    raise RuntimeError(f"load generator reported nothing: {output[-500:]}")


def measure(
    server: Server, workload: str, conns: int, warmup: float, seconds: float, log: Path
) -> dict[str, dict[str, float]]:
    """One run: per process name (``front``, ``worker1``..., ``load``), its figures."""
    running = Running(server, WORKLOADS[workload].app, log)
    try:
        running.wait_ready()
        total = int(warmup + seconds + 1.5)
        out: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed below
        load = subprocess.Popen(
            _load_argv(workload, running.port, conns, total),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        time.sleep(warmup)
        procs = running.tree()
        names = ["front" if i == 0 else f"worker{i}" for i in range(len(procs))]
        pids = [p.pid for p in procs] + [load.pid]
        names.append("load")
        before = [schedstat_ns(pid) or (0, 0) for pid in pids]
        time.sleep(seconds)
        after = [schedstat_ns(pid) or (0, 0) for pid in pids]
        load.wait(total + 60)
        out.seek(0)
        rate = _rate(workload, out.read())
        out.close()
    finally:
        running.stop()
    result: dict[str, dict[str, float]] = {"all": {"rate": rate}}
    for name, (run0, wait0), (run1, wait1) in zip(names, before, after, strict=True):
        cpu = (run1 - run0) / 1e9 / seconds  # cores
        result[name] = {
            "cores": cpu,
            "us_per": cpu / rate * 1e6 if rate else 0.0,
            "wait_ms_per_s": (wait1 - wait0) / 1e6 / seconds,
        }
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.cpu_cost", description=__doc__)
    p.add_argument("--servers", default="pagi-1w,uvicorn-httptools")
    p.add_argument("--workload", choices=_WORKLOADS, default="1")
    p.add_argument("--conns", type=int, default=64)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--warmup", type=float, default=1.5)
    p.add_argument("--measure", type=float, default=3.0)
    args = p.parse_args(argv)
    names = args.servers.split(",")
    unknown = [n for n in names if not is_known(n)]
    if unknown:
        raise SystemExit(f"bench: unknown servers: {', '.join(unknown)}")
    servers = [resolve(n) for n in names]
    prepare(servers, [WORKLOADS[args.workload]], need_pyspy=False)
    runs: dict[str, list[dict[str, dict[str, float]]]] = {s.name: [] for s in servers}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            order = servers[rep % len(servers) :] + servers[: rep % len(servers)]
            for server in order:
                fig = measure(
                    server,
                    args.workload,
                    args.conns,
                    args.warmup,
                    args.measure,
                    Path(tmp) / f"{server.name}.log",
                )
                runs[server.name].append(fig)
                print(f"rep {rep + 1} · {server.name}: {_line(fig)}", flush=True)
    unit = "request" if args.workload == "1" else "message"
    print(f"\nmedians of {args.reps}; µs of CPU per {unit}, run-queue wait in ms per s")
    for name, figs in runs.items():
        print(f"{name:24s} {_line(_median(figs))}")
    print(f"({psutil.cpu_count()} CPUs; 'load' is the load generator)")
    return 0


def _median(figs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for proc in figs[0]:
        keys = figs[0][proc]
        out[proc] = {k: statistics.median(f[proc][k] for f in figs if proc in f) for k in keys}
    return out


def _line(fig: dict[str, dict[str, float]]) -> str:
    parts = [f"{fig['all']['rate']:,.0f}/s"]
    for proc, v in fig.items():
        if proc == "all":
            continue
        parts.append(
            f"{proc} {v['cores']:.2f} cores {v['us_per']:.1f} µs wait {v['wait_ms_per_s']:.0f}"
        )
    return " | ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
