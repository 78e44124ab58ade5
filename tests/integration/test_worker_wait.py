"""A worker pointed at the wrong ``--socket-dir`` says so, after a few seconds.

Each case runs a real ``pagi-worker`` against a socket dir that cannot work and
checks the one WARNING that explains the wait (it comes after ~3 s and is not
repeated within the next minute); the last case shows the worker still joins
once the front appears.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from pathlib import Path

import httpx
from harness import APPS, PYTHON, Proc, Processes

STILL = r"WARNING worker#0\[\d+\] pagi\.worker: still waiting for pagi-front at {path} after \d s: "


def _worker(procs: Processes, socket_dir: Path, prefix: list[str] | None = None) -> Proc:
    argv = [*(prefix or []), PYTHON, "-m", "pagi.worker", "basic:app", "--app-dir", str(APPS)]
    argv += ["--socket-dir", str(socket_dir)]
    proc = Proc(argv, procs.tmp / f"worker-{len(procs.started)}.log")
    procs.started.append(proc)
    return proc


def _explained(worker: Proc, socket_dir: Path, reason: str) -> None:
    started = time.monotonic()
    path = re.escape(str(socket_dir / "workers.sock"))
    worker.wait_for_log(STILL.format(path=path) + reason, timeout=10)
    assert time.monotonic() - started > 1.5  # not at the first failed attempt
    time.sleep(1.5)
    assert worker.logs().count("still waiting for pagi-front") == 1, worker.logs()


def test_missing_socket_dir(procs: Processes) -> None:
    socket_dir = procs.socket_dir  # made by the front started below, not before
    assert not socket_dir.exists()
    worker = _worker(procs, socket_dir)
    _explained(
        worker,
        socket_dir,
        re.escape(f"the directory {socket_dir} does not exist: is pagi-front started, ")
        + r"and is this its --socket-dir \(PAGI_SOCKET_DIR\)\?",
    )
    # The wait goes on: a front that starts later is joined.
    front = procs.front(workers=0)
    front.wait_for_log(r"worker basic:app #0 pid \d+ joined")
    assert httpx.get(front.url + "/hello").text == "hello"


def test_socket_dir_without_workers_sock(procs: Processes) -> None:
    socket_dir = procs.tmp / "empty"
    socket_dir.mkdir()
    worker = _worker(procs, socket_dir)
    _explained(worker, socket_dir, re.escape(f"{socket_dir} holds no workers.sock"))


def test_stale_workers_sock(procs: Processes) -> None:
    socket_dir = procs.tmp / "stale"
    socket_dir.mkdir()
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(socket_dir / "workers.sock"))
    stale.close()  # the file stays; nobody listens
    worker = _worker(procs, socket_dir)
    _explained(worker, socket_dir, r".*workers\.sock exists but nothing accepts on it")


def test_permission_denied(procs: Processes) -> None:
    front = procs.front(workers=0)
    sock_path = procs.socket_dir / "workers.sock"
    os.chown(sock_path, 65534, 65534)
    os.chmod(sock_path, 0o600)
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is missing"
    # Root without CAP_DAC_OVERRIDE: the socket's mode applies to this worker.
    drop = [setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"]
    worker = _worker(procs, procs.socket_dir, prefix=drop)
    _explained(
        worker,
        procs.socket_dir,
        re.escape(f"permission denied on {sock_path} (uid 65534, gid 65534, mode 0600): ")
        + rf"this worker runs as uid {os.getuid()} gid {os.getgid()}; "
        + r"run it as the front's user or in its group",
    )
    assert "joined" not in front.logs()
