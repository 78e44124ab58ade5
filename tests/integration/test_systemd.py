"""A real front under systemd's protocols: sd_notify and socket activation."""

from __future__ import annotations

import itertools
import re
import shutil
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from harness import APPS, PYTHON, Front, Processes


class NotifyReceiver:
    """A NOTIFY_SOCKET the test owns; records (time, lines) per datagram."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages: list[tuple[float, list[str]]] = []

    def collect(self, until: str, timeout: float = 10.0) -> list[str]:
        """Read datagrams until one contains the line ``until``; return it."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {until!r} within {timeout} s: {self.messages}")
            self.sock.settimeout(remaining)
            data = self.sock.recv(4096)
            lines = data.decode().split("\n")
            self.messages.append((time.monotonic(), lines))
            if until in lines:
                return lines

    def close(self) -> None:
        self.sock.close()


def test_ready_status_watchdog_and_stopping(procs: Processes, tmp_path: Path) -> None:
    rx = NotifyReceiver(tmp_path / "notify")
    try:
        env = {"NOTIFY_SOCKET": rx.path, "WATCHDOG_USEC": "400000"}  # ping every 0.2 s
        front = procs.front(app="ops_app:app", workers=2, env=env)
        ready = rx.collect("READY=1")
        status = next(line for line in ready if line.startswith("STATUS="))
        assert "worker(s) ready" in status
        # READY only once a worker is ready: the log already shows a join.
        assert "joined" in front.logs()
        # Watchdog pings keep coming at about half of WATCHDOG_USEC.
        start = time.monotonic()
        while time.monotonic() - start < 1.2:
            rx.collect("WATCHDOG=1", timeout=1.0)
        pings = [t for t, lines in rx.messages if "WATCHDOG=1" in lines and t >= start]
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert len(pings) >= 4, pings
        assert max(gaps) < 0.4, gaps  # never as late as WATCHDOG_USEC itself
        # Workers do not inherit the variables (they cannot notify for the front).
        reply = httpx.get(front.url + "/env?name=NOTIFY_SOCKET")
        assert reply.text == "unset"
        front.signal(signal.SIGTERM)
        stopping = rx.collect("STOPPING=1")
        assert any(line.startswith("STATUS=") for line in stopping)
        assert front.wait() == 0
    finally:
        rx.close()


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None, reason="needs systemd")
def test_socket_activation_with_named_socket(procs: Processes, tmp_path: Path) -> None:
    """systemd-socket-activate binds, waits for a client, then execs the front
    with LISTEN_FDS; the first client (queued before the front ran) is served."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    argv = [
        "systemd-socket-activate",
        "-l",
        f"127.0.0.1:{port}",
        "--fdname=web",
        PYTHON,
        "-m",
        "pagi.frontend",
        "--app",
        "ops_app:app",
        "--app-dir",
        str(APPS),
        "--socket-dir",
        str(procs.socket_dir),
    ]
    front = Front(argv, tmp_path / "activated.log")
    procs.started.append(front)
    front.wait_for_log("Listening on")
    reply = httpx.get(f"http://127.0.0.1:{port}/env?name=LISTEN_FDS", timeout=15)
    assert reply.status_code == 200
    assert reply.text == "unset"  # the worker did not inherit the variables
    front.wait_for_log(rf"listening on http://127\.0\.0\.1:{port} \(socket web\)")
    assert "listening on http://127.0.0.1:8000" not in front.logs()  # no default bind
    front.signal(signal.SIGTERM)
    assert front.wait() == 0


def test_reloading_then_ready_around_a_rolling_reload(procs: Processes, tmp_path: Path) -> None:
    from test_control_plane import ctl

    rx = NotifyReceiver(tmp_path / "notify")
    try:
        procs.front(app="ops_app:app", workers=1, env={"NOTIFY_SOCKET": rx.path})
        rx.collect("READY=1")
        ctl(procs.socket_dir, "reload")
        reloading = rx.collect("RELOADING=1")
        usec = next(line for line in reloading if line.startswith("MONOTONIC_USEC="))
        assert int(usec.partition("=")[2]) > 0
        ready = rx.collect("READY=1")
        assert any(re.match(r"STATUS=[12] worker\(s\) ready", line) for line in ready)
    finally:
        rx.close()
