"""``pagi-ctl top`` driven in a pseudo-terminal against a real front with two workers."""

from __future__ import annotations

import os
import re
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import pexpect
from harness import Processes

PAGI_CTL = str(Path(sys.executable).parent / "pagi-ctl")
SERVED = re.compile(rb"served (\d+)")
IN_FLIGHT = re.compile(rb"in-flight (\d+)")


def spawn_top(socket_dir: Path) -> pexpect.spawn:
    argv = ["--socket-dir", str(socket_dir), "top", "--interval", "0.2"]
    # the terminal's own size, not a COLUMNS/LINES the test runner may export
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return pexpect.spawn(PAGI_CTL, argv, dimensions=(40, 100), timeout=15, env=env)


def latest(child: pexpect.spawn, pattern: re.Pattern[bytes]) -> int:
    """The value the screen shows now for ``pattern`` (waits for the next redraw)."""
    child.expect(pattern)
    assert child.match is not None
    return int(child.match.group(1))


def wait_for(child: pexpect.spawn, pattern: re.Pattern[bytes], ok: object, what: str) -> int:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        value = latest(child, pattern)
        if ok(value):  # type: ignore[operator]
            return value
    raise AssertionError(f"top never showed {what}")


def test_top_shows_workers_and_live_counts_and_quits_on_q(procs: Processes) -> None:
    front = procs.front(app="ops_app:app", workers=2)
    pids = [w.group(1) for w in re.finditer(r"worker \S+ #\d+ pid (\d+) joined", front.logs())]
    assert len(pids) == 2
    child = spawn_top(procs.socket_dir)
    try:
        child.expect(rf"pagi-front pid {front.pid}".encode())
        for pid in pids:
            child.expect(pid.encode())  # a row per worker
        child.expect(b"workers: 2")
        assert latest(child, SERVED) == 0
        # Under load the counts move: requests served, then requests in flight.
        with httpx.Client() as client:
            for _ in range(40):
                assert client.get(front.url + "/").status_code == 200
        wait_for(child, SERVED, lambda n: n >= 40, "the 40 requests served")
        slow = [socket.create_connection(("127.0.0.1", front.port)) for _ in range(3)]
        try:
            for sock in slow:
                sock.sendall(b"GET /sleep?seconds=4 HTTP/1.1\r\nhost: x\r\n\r\n")
            wait_for(child, IN_FLIGHT, lambda n: n == 3, "3 requests in flight")
            child.expect(b"GET /sleep\\?seconds=4")  # the connections table
            # answered after 4 s: nothing in flight any more, 43 served
            wait_for(child, IN_FLIGHT, lambda n: n == 0, "in-flight back to 0")
            wait_for(child, SERVED, lambda n: n == 43, "43 requests served")
        finally:
            for sock in slow:
                sock.close()
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_top_quits_cleanly_on_ctrl_c(procs: Processes) -> None:
    # Ctrl-C at whatever moment of the loop it falls on (a redraw, a request
    # to the front, the wait): exit status 0, no traceback, the screen given back.
    procs.front(app="ops_app:app", workers=1)
    child = spawn_top(procs.socket_dir)
    try:
        child.expect(b"workers: 1")
        stop = threading.Timer(0.3, child.sendintr)
        stop.start()
        child.expect(pexpect.EOF)
        stop.join()
        child.wait()  # its own exit status (close() would hang up on a slow exit)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    assert b"Traceback" not in (child.before or b"")
    assert b"\x1b[?1049l" in (child.before or b""), "the alternate screen is left"


def test_top_without_a_front_exits_3_with_a_clear_line(tmp_path: Path) -> None:
    child = pexpect.spawn(PAGI_CTL, ["--socket-dir", str(tmp_path), "top"], timeout=15)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3
    assert b"no pagi-front answers on" in (child.before or b"")
