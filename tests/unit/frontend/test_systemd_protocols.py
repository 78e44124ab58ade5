"""sd_notify datagrams and LISTEN_FDS parsing, against real sockets."""

from __future__ import annotations

import os
import re
import socket
import uuid
from pathlib import Path

import pytest
from pagi.frontend.sd_notify import Notifier, monotonic_usec, socket_address
from pagi.frontend.socket_activation import ActivatedSocket, ActivationError, listen_fds


def _receiver(address: str | bytes) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(2)
    return sock


def test_notify_path_socket_and_variables_are_taken(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    rx = _receiver(path)
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000", "OTHER": "x"}
    notifier = Notifier.from_environ(env)
    assert env == {"OTHER": "x"}  # spawned workers cannot notify for the front
    assert notifier.enabled and notifier.watchdog_interval == 1.5
    notifier.ready("2 worker(s) ready")
    assert rx.recv(4096) == b"READY=1\nSTATUS=2 worker(s) ready"
    before = monotonic_usec()
    notifier.reloading("reloading workers")
    lines = rx.recv(4096).decode().split("\n")
    assert lines[0] == "RELOADING=1"
    assert lines[1].startswith("MONOTONIC_USEC=")
    assert before <= int(lines[1].partition("=")[2]) <= monotonic_usec()
    assert lines[2] == "STATUS=reloading workers"
    notifier.stopping()
    assert rx.recv(4096).startswith(b"STOPPING=1\n")
    notifier.watchdog()
    assert rx.recv(4096) == b"WATCHDOG=1"
    notifier.close()
    rx.close()


def test_notify_abstract_namespace() -> None:
    name = f"pagi-test-{uuid.uuid4().hex}"
    assert socket_address("@" + name) == b"\0" + name.encode()
    rx = _receiver(b"\0" + name.encode())
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": "@" + name})
    notifier.status("hello")
    assert rx.recv(4096) == b"STATUS=hello"
    rx.close()


def test_notify_without_socket_is_a_no_op() -> None:
    notifier = Notifier.from_environ({})
    assert not notifier.enabled and notifier.watchdog_interval is None
    assert notifier.send("READY=1") is False


def test_notify_to_a_missing_socket_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert notifier.send("READY=1") is False
    assert notifier.send("READY=1") is False
    assert len([r for r in caplog.records if "cannot notify systemd" in r.message]) == 1


@pytest.mark.parametrize(
    ("pid", "expected"),
    [(None, 0.5), ("self", 0.5), ("1", None)],
)
def test_watchdog_interval_only_for_this_pid(pid: str | None, expected: float | None) -> None:
    env = {"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "1000000"}
    if pid is not None:
        env["WATCHDOG_PID"] = str(os.getpid()) if pid == "self" else pid
    assert Notifier.from_environ(env).watchdog_interval == expected


def test_listen_fds_named_and_unnamed() -> None:
    me = str(os.getpid())
    env = {"LISTEN_PID": me, "LISTEN_FDS": "2", "LISTEN_FDNAMES": "web:admin"}
    assert listen_fds(env) == [ActivatedSocket(3, "web"), ActivatedSocket(4, "admin")]
    assert env == {}
    assert listen_fds({"LISTEN_PID": me, "LISTEN_FDS": "1"}) == [ActivatedSocket(3, "unknown")]


def test_listen_fds_for_another_process_are_left_alone() -> None:
    env = {"LISTEN_PID": "1", "LISTEN_FDS": "1"}
    assert listen_fds(env) == []
    assert env == {}  # but not passed on to workers either
    assert listen_fds({}) == []


@pytest.mark.parametrize(
    ("count", "names", "message"),
    [("x", None, "LISTEN_FDS='x' is not a number"), ("2", "a", "names 1 socket(s)")],
)
def test_listen_fds_inconsistent(count: str, names: str | None, message: str) -> None:
    env = {"LISTEN_PID": str(os.getpid()), "LISTEN_FDS": count}
    if names is not None:
        env["LISTEN_FDNAMES"] = names
    with pytest.raises(ActivationError, match=re.escape(message)):
        listen_fds(env)
