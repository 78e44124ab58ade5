"""A real pagi-front process, and fake workers speaking the protocol codec.

Covers what the front does on its worker socket (handshake, REJECT, dropping
a malformed peer, refusing to start twice on one socket dir, removing a stale
socket) and its process life (exit statuses, signals, cleanup).
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_worker import FakeWorker
from harness import REPO, Front, Processes
from pagi.protocol import PROTOCOL_VERSION, Event, Kind
from pagi.protocol import messages as m


def front_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pagi.frontend", *args]


def test_worker_socket_modes_and_handshake(procs: Processes) -> None:
    front = procs.front(wait_workers=0)
    assert stat.S_IMODE(os.stat(procs.socket_dir).st_mode) == 0o750
    path = procs.socket_dir / "workers.sock"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    front.wait_for_log(rf"accepting workers on unix:{path}")

    w1, w2 = FakeWorker(path), FakeWorker(path, "fake #2")
    welcome = w1.hello()
    offer = welcome[3].pop("channels")  # the node is random per front
    assert offer == {"node": offer["node"], "capacity": 100, "backend": "front"}
    assert welcome == [
        Kind.WELCOME,
        0,
        PROTOCOL_VERSION,
        {
            "window": 256 * 1024,
            "worker_id": 1,
            "max_frame_size": 16 << 20,
            "ws_max_size": 16 << 20,
            "ws_max_queue": 16 << 20,
            "body_ring": 2 << 20,
        },
    ]
    assert w2.hello()[3]["worker_id"] == 2
    front.wait_for_log(rf"worker fake #1 pid {os.getpid()} joined")
    front.wait_for_log(r"worker fake #2 pid \d+ joined")
    w1.send(m.ping(77))
    assert w1.recv() == [Kind.PONG, 0, 77]
    w1.close()
    front.wait_for_log(r"worker fake #1 left")
    w2.close()


def test_version_mismatch_is_rejected_clearly(procs: Processes) -> None:
    front = procs.front(wait_workers=0)
    w = FakeWorker(procs.socket_dir / "workers.sock")
    reply = w.hello(version=PROTOCOL_VERSION + 1)
    assert reply == [
        Kind.REJECT,
        0,
        f"protocol version {PROTOCOL_VERSION + 1} not supported; "
        f"this front speaks {PROTOCOL_VERSION} "
        "(run pagi-front and pagi-worker from the same release)",
    ]
    assert w.at_eof()
    front.wait_for_log(
        rf"rejected worker fake #1 .*protocol version {PROTOCOL_VERSION + 1} not supported"
    )


def test_malformed_peer_is_dropped_and_others_carry_on(procs: Processes) -> None:
    front = procs.front(wait_workers=0)
    path = procs.socket_dir / "workers.sock"
    good = FakeWorker(path, "good #1")
    good.hello()
    bad = FakeWorker(path, "bad #2")
    bad.hello()
    bad.sock.sendall(struct.pack(">I", 3) + b"\xc1\xc1\xc1")
    assert bad.at_eof()
    front.wait_for_log(r"dropping worker bad #2: undecodable msgpack")
    # An event for a scope never opened is a violation too.
    bad2 = FakeWorker(path, "bad #3")
    bad2.hello()
    bad2.send(m.event(5, Event.HTTP_RESPONSE_BODY, b"x", False))
    assert bad2.at_eof()
    front.wait_for_log(r"dropping worker bad #3: HTTP_RESPONSE_BODY for scope 5, which was never")
    # A peer that is not a worker at all.
    intruder = socket.socket(socket.AF_UNIX)
    intruder.connect(str(path))
    intruder.sendall(b"GET / HTTP/1.1\r\n\r\n")
    intruder.settimeout(5)
    assert intruder.recv(10) == b""
    intruder.close()
    front.wait_for_log(r"dropping worker #4: frame of \d+ bytes exceeds the maximum")
    good.send(m.ping(1))
    assert good.recv() == [Kind.PONG, 0, 1]
    assert front.popen.poll() is None


def test_second_front_on_the_same_socket_dir_exits_1(procs: Processes) -> None:
    procs.front(wait_workers=0)
    second = procs.front(wait=False)
    assert second.wait(10) == 1
    assert "another pagi-front is already running" in second.logs()
    assert "listening on" not in second.logs()


def test_stale_worker_socket_is_replaced(procs: Processes) -> None:
    procs.socket_dir.mkdir(mode=0o700)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(procs.socket_dir / "workers.sock"))
    stale.close()
    front = procs.front(wait_workers=0)
    # An existing socket dir keeps its mode.
    assert stat.S_IMODE(os.stat(procs.socket_dir).st_mode) == 0o700
    w = FakeWorker(procs.socket_dir / "workers.sock")
    assert w.hello()[0] == Kind.WELCOME
    assert front.popen.poll() is None


def test_sigterm_stops_cleanly_and_removes_sockets(procs: Processes, tmp_path: Path) -> None:
    uds = tmp_path / "client.sock"
    front = procs.front("--uds", str(uds), wait_workers=0)
    front.wait_for_log(rf"listening on unix:{uds}")
    assert stat.S_IMODE(os.stat(uds).st_mode) == 0o666
    w = FakeWorker(procs.socket_dir / "workers.sock")
    w.hello()
    front.wait_for_log("joined")
    front.signal(signal.SIGTERM)
    assert front.wait(10) == 0
    assert w.at_eof()
    assert not (procs.socket_dir / "workers.sock").exists()
    assert not uds.exists()
    assert "stopped (exit status 0)" in front.logs()


def test_graceful_timeout_then_abort(procs: Processes) -> None:
    front = procs.front("--graceful-timeout", "0.5", wait_workers=0)
    w = FakeWorker(procs.socket_dir / "workers.sock")
    w.hello()
    front.wait_for_log("joined")
    client = socket.create_connection(("127.0.0.1", front.port), timeout=5)
    client.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    opened = w.recv()
    assert opened[0] == Kind.OPEN
    sid = opened[1]
    started = time.monotonic()
    front.signal(signal.SIGTERM)
    # The request is in progress: the front waits, then cuts it and tells the worker.
    msg = w.recv()
    while msg[0] != Kind.CLOSE:
        msg = w.recv()
    assert msg == [Kind.CLOSE, sid, "server_shutdown"]
    assert time.monotonic() - started >= 0.4
    assert front.wait(10) == 0
    assert w.at_eof()
    client.close()


def test_second_signal_stops_at_once(procs: Processes) -> None:
    front = procs.front("--graceful-timeout", "60", wait_workers=0)
    w = FakeWorker(procs.socket_dir / "workers.sock")
    w.hello()
    front.wait_for_log("joined")
    client = socket.create_connection(("127.0.0.1", front.port), timeout=5)
    client.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    assert w.recv()[0] == Kind.OPEN
    front.signal(signal.SIGTERM)
    front.wait_for_log("SIGTERM received: shutting down")
    time.sleep(0.2)
    assert front.popen.poll() is None  # still draining
    front.signal(signal.SIGINT)
    assert front.wait(5) == 1
    assert "SIGINT received again: stopping now" in front.logs()
    client.close()


def test_bad_bind_exits_2() -> None:
    proc = subprocess.run(
        front_cmd("--bind", "localhost"), capture_output=True, text=True, timeout=20, cwd=REPO
    )
    assert proc.returncode == 2
    assert "bad bind address 'localhost': expected HOST:PORT" in proc.stderr


def test_env_var_bind_list_is_validated() -> None:
    proc = subprocess.run(
        front_cmd(),
        capture_output=True,
        text=True,
        timeout=20,
        cwd=REPO,
        env={**os.environ, "PAGI_BIND": "127.0.0.1:0 [::1]:x"},
    )
    assert proc.returncode == 2
    assert "port 'x' is not a number" in proc.stderr


def test_port_in_use_exits_1(procs: Processes) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        front = procs.front("--bind", f"127.0.0.1:{port}", wait=False)
        assert front.wait(10) == 1
        assert f"cannot listen on 127.0.0.1:{port}" in front.logs()
        # It did not leave its worker socket behind.
        assert not (procs.socket_dir / "workers.sock").exists()
    finally:
        blocker.close()


def test_several_listeners_are_all_logged(procs: Processes) -> None:
    front: Front = procs.front("--bind", "127.0.0.1:0", wait_workers=0)
    log = front.wait_for_log(r"listening on http://127\.0\.0\.1:(\d+)", count=2)
    second = int(log.group(1))
    assert second != front.port
    with socket.create_connection(("127.0.0.1", second), timeout=5):
        pass


def test_no_worker_means_503_after_the_wait_timeout(procs: Processes) -> None:
    front = procs.front("--worker-wait-timeout", "0.3", wait_workers=0)
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(100).startswith(b"HTTP/1.1 503")


def test_worker_joining_while_a_request_waits_serves_it(procs: Processes) -> None:
    front = procs.front("--worker-wait-timeout", "10", wait_workers=0)
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as client:
        client.sendall(b"GET /waited HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        w = FakeWorker(procs.socket_dir / "workers.sock")
        w.hello()
        opened = w.recv()
        assert opened[0] == Kind.OPEN and opened[6] == b"/waited"
        sid = opened[1]
        w.send(
            m.event(sid, Event.HTTP_RESPONSE_START, 200, [[b"content-length", b"2"]], False),
            m.event(sid, Event.HTTP_RESPONSE_BODY, b"ok", False),
            m.end(sid, 0, True, ""),
        )
        assert client.recv(1000).startswith(b"HTTP/1.1 200")


def test_worker_death_mid_request_gives_502(procs: Processes) -> None:
    front = procs.front(wait_workers=0)
    w = FakeWorker(procs.socket_dir / "workers.sock")
    w.hello()
    front.wait_for_log("joined")
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert w.recv()[0] == Kind.OPEN
        w.close()
        assert client.recv(100).startswith(b"HTTP/1.1 502")
    front.wait_for_log("worker fake #1 left")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_idle_front_stops_fast_on_signal(procs: Processes, sig: int) -> None:
    # Nothing to drain: it must not sit out the grace period. The bound is a
    # third of it, so a loaded machine cannot fail the test, and a front that
    # waited would.
    front = procs.front("--graceful-timeout", "30", wait_workers=0)
    started = time.monotonic()
    front.signal(sig)
    assert front.wait(40) == 0
    assert time.monotonic() - started < 10


def test_inherited_fd_is_served(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    fd = listener.fileno()
    log = tmp_path / "front.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            front_cmd("--fd", str(fd), "--socket-dir", str(tmp_path / "s")),
            pass_fds=[fd],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    listener.close()
    try:
        deadline = time.monotonic() + 10
        while f"listening on http://127.0.0.1:{port}" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        assert "127.0.0.1:8000" not in log.read_text()  # no default bind with --fd
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
