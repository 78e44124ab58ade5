"""Issue 12's measurements: failures during rolling reloads and front restarts.

    .venv/bin/python -m bench.operations [--rounds 10]

* **reloads**: an embedded front with 2 workers under keep-alive and
  new-connection load (tests/load.py); the app's code changes on disk before
  each ``pagi-ctl reload``; prints failed/total requests and the time from
  ``reload`` to all-new workers (min / median / max).
* **front restarts**: a held listening socket (what systemd's
  ``pagi-front.socket`` does), 2 split-layout workers, the front stopped and
  started again each round under the same load; prints failed/total requests,
  of which refused connections.

Real processes, the tests' load generator and harness; a few seconds per
round. Not part of the suite.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "integration"))

from harness import APPS, PYTHON, Front, Processes  # noqa: E402
from load import LoadGenerator, LoadReport  # noqa: E402


def _ctl(socket_dir: Path, *args: str) -> str:
    ctl = Path(sys.executable).parent / "pagi-ctl"
    done = subprocess.run(
        [str(ctl), "--socket-dir", str(socket_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def _summary(report: LoadReport) -> str:
    refused = sum("ConnectionRefused" in f for f in report.failures)
    return f"{len(report.failures)} failed of {report.total} requests ({refused} refused)"


def reloads(rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="pagi-ops-bench-"))
    procs = Processes(tmp)
    try:
        app_dir = tmp / "app"
        app_dir.mkdir()
        app = app_dir / "opsv.py"
        shutil.copy(APPS / "ops_app.py", app)
        front = procs.front(
            "--app", "opsv:app", "--workers", "2", "--app-dir", str(app_dir),
            wait_workers=2,
            env={"PYTHONDONTWRITEBYTECODE": "1"},
        )  # fmt: skip
        load = LoadGenerator(front.port, "/version").start()
        times = []
        try:
            load.wait_for(200)
            for n in range(rounds):
                text = app.read_text()
                app.write_text(text.replace('VERSION = "v1"', 'VERSION = "v1"  # ' + str(n)))
                started = time.monotonic()
                out = _ctl(procs.socket_dir, "reload")
                times.append(time.monotonic() - started)
                assert "done" in out, out
                load.wait_for(100)
            report = load.stop()
        finally:
            load.stop()
        print(f"{rounds} rolling reloads under load: {_summary(report)}")
        print(
            f"reload -> all-new workers: min {min(times):.2f} s, "
            f"median {statistics.median(times):.2f} s, max {max(times):.2f} s"
        )
    finally:
        procs.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def restarts(rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="pagi-ops-bench-"))
    procs = Processes(tmp)
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1024)
    port = holder.getsockname()[1]
    fd = holder.fileno()
    launcher = (
        "import os, sys\n"
        f"if {fd} != 3:\n"
        f"    os.dup2({fd}, 3)\n"
        f"    os.close({fd})\n"
        "os.set_inheritable(3, True)\n"
        "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1')\n"
        "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
    )
    argv = [PYTHON, "-c", launcher, "-m", "pagi.frontend", "--socket-dir", str(procs.socket_dir)]

    def start(n: int) -> Front:
        front = Front(argv, tmp / f"front-{n}.log", pass_fds=(fd,))
        procs.started.append(front)
        front.wait_for_log(rf"listening on http://127\.0\.0\.1:{port}")
        return front

    try:
        front = start(0)
        procs.worker("ops_app:app", "--worker-num", "1")
        procs.worker("ops_app:app", "--worker-num", "2")
        front.wait_for_log(r"worker .* joined", count=2)
        load = LoadGenerator(port, "/").start()
        try:
            load.wait_for(200)
            for n in range(1, rounds + 1):
                front.signal(signal.SIGTERM)
                front.wait(30)
                front = start(n)
                front.wait_for_log(r"worker .* joined", count=2, timeout=30)
                load.wait_for(100)
            report = load.stop()
        finally:
            load.stop()
        print(f"{rounds} front restarts under load (held socket): {_summary(report)}")
    finally:
        procs.cleanup()
        holder.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    reloads(args.rounds)
    restarts(args.rounds)


if __name__ == "__main__":
    main()
