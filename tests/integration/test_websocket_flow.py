"""WebSocket flow control and failures, with real processes.

* A client flooding an app that does not read is held back by TCP: neither
  the front's nor the worker's memory grows with what the client pushes.
* An app that reads slowly still gets every message (the window regrows).
* A client that does not read makes the app's ``send`` wait.
* The worker dying closes the socket with 1011; the front shutting down
  closes it with 1001 and tells the app 1006 ``server_shutdown``; a draining
  worker keeps its open sockets until they end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest
from harness import Front, PeakRSS, Processes
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from ws_raw import BINARY, CLOSE, TEXT, RawWS, close_payload, frame
from ws_recorded import events, wait_event

MiB = 1024 * 1024
ALLOWED_GROWTH = 16 * MiB


def worker_pid(front: Front, n: int = 1) -> int:
    match = front.wait_for_log(rf"worker \S+ #{n} pid (\d+) joined")
    return int(match.group(1))


def flood(sock: socket.socket, data: bytes, limit: int, stall: float) -> int:
    """Send ``data`` repeatedly until ``limit`` bytes or a send blocks ``stall`` s."""
    sock.settimeout(stall)
    sent = 0
    try:
        while sent < limit:
            sent += sock.send(data)
    except TimeoutError:
        pass
    return sent


def test_flooding_a_non_reading_app_does_not_grow_memory(procs: Processes) -> None:
    front = procs.front(app="ws_e2e_app:app")
    peak = PeakRSS([front.pid, worker_pid(front)])
    ws = RawWS(front.port, "/noread")
    sent = flood(ws.sock, frame(BINARY, b"f" * 65536) * 16, 256 * MiB, stall=1.0)
    growth = peak.stop()
    # what got out of the client sits in socket buffers and one window, not in a process
    assert sent < 64 * MiB, sent
    assert growth[0] < ALLOWED_GROWTH, f"front grew by {growth[0] / MiB:.1f} MiB"
    assert growth[1] < ALLOWED_GROWTH, f"worker grew by {growth[1] / MiB:.1f} MiB"
    ws.close()


def test_a_slowly_reading_app_gets_every_message(procs: Processes) -> None:
    front = procs.front(app="ws_e2e_app:app")
    peak = PeakRSS([front.pid, worker_pid(front)])
    ws = RawWS(front.port, "/slowread?delay=0.002")
    message = frame(BINARY, b"m" * (256 * 1024))
    count = 160  # 40 MiB
    ws.sock.settimeout(30)
    for _ in range(count):
        ws.send(message)
    ws.send(frame(CLOSE, close_payload(1000)))
    _before, close = ws.recv_close(timeout=30)
    assert close is not None and close.close_code == 1000
    growth = peak.stop()
    event = wait_event(front, "/slowread")
    assert event["messages"] == count
    assert growth[0] < ALLOWED_GROWTH and growth[1] < ALLOWED_GROWTH, growth


def test_a_client_that_does_not_read_makes_the_apps_send_wait(procs: Processes) -> None:
    front = procs.front(app="ws_e2e_app:app")
    peak = PeakRSS([front.pid, worker_pid(front)])
    ws = RawWS(front.port, "/sender?count=48&size=1048576")  # 48 MiB to send
    time.sleep(1.5)
    assert "send_seconds" not in json.dumps(events(front))  # still sending
    growth = peak.stop()
    assert growth[0] < ALLOWED_GROWTH and growth[1] < ALLOWED_GROWTH, growth
    received = 0
    while received < 48 * MiB:
        got = ws.recv_message(timeout=10)
        assert got is not None and got.opcode == BINARY
        received += len(got.payload)
    assert received == 48 * MiB
    event = wait_event(front, "/sender", key="send_seconds")
    assert event["send_seconds"] > 1.4
    # pagi.transport saw the backlog: up to one response window, high water then drain
    assert 64 * 1024 < event["peak"] <= 256 * 1024
    assert event["high"] >= 1 and event["drain"] >= 1


def test_worker_killed_closes_the_socket_with_1011(procs: Processes) -> None:
    front = procs.front(app="ws_e2e_app:app")
    pid = worker_pid(front)
    with connect(f"ws://127.0.0.1:{front.port}/echo") as ws:
        ws.send("before")
        assert ws.recv() == "before"
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1011


def test_front_shutdown_closes_with_1001_and_tells_the_app(
    procs: Processes, tmp_path: Path
) -> None:
    log = tmp_path / "app-events.jsonl"
    front = procs.front(app="ws_e2e_app:app", env={"WS_E2E_LOG": str(log)})
    with connect(f"ws://127.0.0.1:{front.port}/echo") as ws:
        ws.send("hi")
        assert ws.recv() == "hi"
        front.signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1001
    assert front.wait(10) == 0
    recorded = [json.loads(line) for line in log.read_text().splitlines()]
    assert recorded == [
        {"path": "/echo", "code": 1006, "reason": "server_shutdown"},
    ]


def test_a_draining_worker_keeps_its_open_sockets(procs: Processes) -> None:
    front = procs.front(wait_workers=0)
    worker = procs.worker("ws_e2e_app:app")
    front.wait_for_log(r"worker .* pid \d+ joined")
    with connect(f"ws://127.0.0.1:{front.port}/echo") as ws:
        worker.signal(signal.SIGTERM)
        front.wait_for_log(r"worker .* draining")
        time.sleep(0.3)
        ws.send("still here")
        assert ws.recv(timeout=5) == "still here"
        # no new scope goes to it: an upgrade now finds no worker
        assert worker.popen.poll() is None
    assert worker.wait(10) == 0


def test_shutdown_waits_for_the_clients_close_frame(procs: Processes) -> None:
    """A client that answers the 1001 lets the front exit at once."""
    front = procs.front(app="ws_e2e_app:app")
    ws = RawWS(front.port, "/echo")
    ws.send_frame(TEXT, b"x")
    assert ws.recv_message() is not None
    started = time.monotonic()
    front.signal(signal.SIGTERM)
    _before, close = ws.recv_close()
    assert close is not None and close.close_code == 1001
    ws.send_frame(CLOSE, close_payload(1001))
    assert ws.closed_by_server()
    assert front.wait(10) == 0
    assert time.monotonic() - started < 5
    assert re.search(r"close=1001", front.logs())


def test_a_draining_worker_past_its_graceful_timeout_closes_with_1012(procs: Processes) -> None:
    front = procs.front(wait_workers=0)
    worker = procs.worker("ws_e2e_app:app", "--graceful-timeout", "0.5")
    front.wait_for_log(r"worker .* pid \d+ joined")
    with connect(f"ws://127.0.0.1:{front.port}/echo") as ws:
        ws.send("x")
        assert ws.recv() == "x"
        worker.signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1012
