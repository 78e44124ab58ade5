"""Embedded-mode supervision: worker command lines, exit descriptions, no orphans."""

from __future__ import annotations

import os
import signal
import sys

import psutil
from harness import Processes
from pagi.frontend.config import FrontConfig
from pagi.frontend.supervisor import describe_exit, worker_argv
from pagi.protocol.log_config import LogConfig


def test_worker_argv_forwards_the_embedded_options() -> None:
    config = FrontConfig(
        app="pkg.mod:app",
        socket_dir="/tmp/x",
        app_dir="/srv/app",
        factory=True,
        lifespan="off",
        sse_scope="on",
        root_path="/api",
        log_level="debug",
        graceful_timeout=2.5,
        use_colors=True,
        log_config=LogConfig("logging.json", dict_config={"version": 1}),
    )
    assert worker_argv(config, 3) == [
        sys.executable, "-m", "pagi.worker", "pkg.mod:app",
        "--socket-dir", "/tmp/x", "--worker-num", "3", "--lifespan", "off",
        "--sse-scope", "on", "--root-path", "/api", "--log-level", "debug",
        "--graceful-timeout", "2.5",
        "--app-dir", "/srv/app", "--factory",
        "--use-colors", "--log-config", os.path.abspath("logging.json"),
    ]  # fmt: skip


def test_worker_argv_leaves_out_unset_options() -> None:
    argv = worker_argv(FrontConfig(app="a:b", socket_dir="/s"), 1)
    assert "--app-dir" not in argv and "--factory" not in argv and "--log-config" not in argv
    assert "--no-use-colors" in argv


def test_describe_exit() -> None:
    assert describe_exit(0) == "exited with status 0"
    assert describe_exit(1) == "exited with status 1"
    assert describe_exit(-9) == "was killed by SIGKILL"
    assert describe_exit(-15) == "was killed by SIGTERM"


def test_workers_do_not_outlive_a_killed_front(procs: Processes) -> None:
    front = procs.front(app="basic:app", workers=2)
    workers = psutil.Process(front.pid).children()
    assert len(workers) == 2
    for worker in workers:
        # Own session: a signal to the front's process group does not reach them.
        assert os.getsid(worker.pid) == worker.pid
    os.kill(front.pid, signal.SIGKILL)
    front.wait(5)
    _gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive


def test_crashed_worker_is_respawned_and_logged(procs: Processes) -> None:
    front = procs.front(app="basic:app", workers=1)
    (worker,) = psutil.Process(front.pid).children()
    os.kill(worker.pid, signal.SIGKILL)
    front.wait_for_log(rf"worker #1 pid {worker.pid} was killed by SIGKILL; restarting in 0.5 s")
    front.wait_for_log(r"started worker #1 pid \d+", count=2)
    front.wait_for_log(r"worker basic:app #1 pid \d+ joined", count=2)
