"""A real ``redis-server`` for the tests of the Redis channel backend.

:func:`start_redis` runs one on a free 127.0.0.1 port with its files in a
temp dir (no persistence), through :class:`~harness.Processes`, so it is
killed with the test's other processes. A machine without ``redis-server``
fails the test with the command that installs it (never a skip).
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import pytest
from harness import Proc, Processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_redis(procs: Processes, workdir: Path, port: int | None = None) -> tuple[Proc, str]:
    """A running redis-server and its URL (``redis://127.0.0.1:PORT/0``)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed; the Redis channel tests need a real one "
            "(Debian: apt-get install -y redis-server; .ci/run installs it)"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    argv = [
        binary,
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(workdir),
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
    ]  # fmt: skip
    proc = procs.spawn("redis", argv)
    proc.wait_for_log(r"Ready to accept connections", timeout=10)
    deadline = time.monotonic() + 5
    while True:  # the log line comes just before the listener answers
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"
