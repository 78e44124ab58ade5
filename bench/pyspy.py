"""Profile mode: one workload, one server, py-spy attached to one of its processes.

``bash bench/run.sh --profile front|worker --workload 1 [--profile-server pagi-1w]``

``front`` is the server's main process (pagi-front; for a peer, its only or
supervising process); ``worker`` is its first child process (a pagi worker,
or a uvicorn/hypercorn/granian worker). py-spy samples it for the whole
workload (warm-up included) and writes, in ``bench/results/``:

* ``profile-<stamp>-<server>-<role>-w<id>.txt`` — the collapsed stacks;
* ``... .svg`` — the flame graph drawn from them (``bench/flame.py``);
* ``... .md`` — the top-functions table and the workload's figures, which are
  slower than an unprofiled run's (py-spy pauses the process to sample it).
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import subprocess
import time
from pathlib import Path

import psutil

from bench import flame, report
from bench.servers import PEERS_VENV, REPO, SERVERS, Running
from bench.workload import Config
from bench.workloads import select

_ATTACH_TIMEOUT = 15.0


def main(args: argparse.Namespace) -> int:
    from bench.run import prepare

    if args.workloads == "all":
        raise SystemExit("--profile needs one workload: --workload ID (see --list)")
    workloads = select(args.workloads)
    if len(workloads) != 1:
        raise SystemExit("--profile runs exactly one workload")
    workload = workloads[0]
    if args.profile_server not in SERVERS:
        raise SystemExit(f"unknown server {args.profile_server!r}; known: {', '.join(SERVERS)}")
    server = SERVERS[args.profile_server]
    prepare([server], [workload], need_pyspy=True)
    config = Config(
        duration=args.duration,
        warmup=args.warmup,
        ws_conns=args.ws_conns,
        idle_conns=args.idle_conns,
        sse_streams=args.sse_streams,
        settle=args.settle,
    )
    results: Path = args.results_dir
    results.mkdir(parents=True, exist_ok=True)
    stem = f"profile-{time.strftime('%Y%m%d-%H%M%S')}-{server.name}-{args.profile}-w{workload.id}"
    raw, svg, md = (results / f"{stem}.{ext}" for ext in ("txt", "svg", "md"))
    spy_log = results / f"{stem}.py-spy.log"
    running = Running(server, workload.app, results / f"{stem}.server.log")
    spy: subprocess.Popen[bytes] | None = None
    try:
        running.wait_ready()
        target = _target(running, args.profile)
        argv = [
            str(PEERS_VENV / "bin" / "py-spy"),
            "record",
            "--pid",
            str(target),
            "--rate",
            str(args.rate),
            "--format",
            "raw",
            "--function",
            "--output",
            str(raw),
        ]
        if args.native:
            argv.append("--native")
        with open(spy_log, "wb") as log:
            spy = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        _wait_attached(spy, spy_log)
        metrics = workload.run(running, config)
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        spy.wait(60)
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
            spy.wait()
        running.stop()
    if not raw.exists():
        raise SystemExit(f"py-spy wrote nothing; see {spy_log}:\n{spy_log.read_text()[-2000:]}")
    title = f"{server.name} {args.profile} (pid {target}), workload {workload.id} {workload.name}"
    table, samples = flame.render(raw, svg, title)
    figures = ", ".join(
        f"{c.label} {report.fmt(metrics[c.key], c.unit)}"
        for c in workload.columns
        if c.key in metrics
    )
    md.write_text(
        f"# Profile: {title}\n\n"
        f"* Command: `bash bench/run.sh --profile {args.profile} --workload {workload.id} "
        f"--profile-server {server.name} --duration {config.duration}`\n"
        f"* Settings: {dataclasses.asdict(config)}; py-spy {args.rate} Hz"
        f"{', native frames' if args.native else ''}\n"
        f"* Figures while profiled (slower than unprofiled): {figures}\n"
        f"* Flame graph: `{svg.name}`; collapsed stacks: `{raw.name}`\n\n"
        f"## Top functions\n\n{table}"
    )
    print(md.read_text())
    print(f"bench: wrote {svg}, {md} ({samples} samples)")
    spy_log.unlink(missing_ok=True)
    running.log_path.unlink(missing_ok=True)
    return 0


def _target(running: Running, role: str) -> int:
    if role == "front":
        return running.pid
    children = running.descendants()
    if not children:
        raise SystemExit(f"{running.server.name} has no worker process; use --profile front")
    # The largest child is a worker (it imported the app), not a helper such as
    # multiprocessing's resource tracker.
    return int(max(children, key=_rss).pid)


def _rss(proc: psutil.Process) -> int:
    try:
        return int(proc.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


def _wait_attached(spy: subprocess.Popen[bytes], log: Path) -> None:
    """Return once py-spy reports it is sampling (its first output line)."""
    deadline = time.monotonic() + _ATTACH_TIMEOUT
    while time.monotonic() < deadline:
        if spy.poll() is not None:
            raise SystemExit(f"py-spy exited ({spy.returncode}): {log.read_text()[-2000:]}")
        if "Sampling" in log.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise SystemExit(f"py-spy did not start sampling in {_ATTACH_TIMEOUT} s")
