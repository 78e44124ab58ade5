"""Connection limits and file-descriptor pressure, on a real pagi-front.

``--max-connections`` (503), ``--max-connections-per-ip`` (429), and a front
whose descriptor table fills up (a low ``RLIMIT_NOFILE`` set on the running
process): it logs once, closes idle connections, does not spin on EMFILE,
and serves again once descriptors are free.
"""

from __future__ import annotations

import socket
import time

import psutil
from harness import Front, Processes, recv_until_close, status_of

GET = b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"


def connect(front: Front, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(
        ("127.0.0.1", front.port), timeout=5, source_address=(source, 0)
    )


def served(front: Front, source: str = "127.0.0.1") -> int:
    """The status of one request on a new connection; 0 if it was closed unanswered."""
    try:
        with connect(front, source) as sock:
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            response = recv_until_close(sock)
    except (BrokenPipeError, ConnectionResetError):
        return 0
    return status_of(response) if response else 0


def wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def open_connections(front: Front) -> int:
    proc = psutil.Process(front.pid)
    return sum(1 for c in proc.net_connections("tcp") if c.status == psutil.CONN_ESTABLISHED)


def test_max_connections_answers_503_and_logs_once(procs: Processes) -> None:
    front = procs.front("--max-connections", "3", app="basic:app")
    held = [connect(front) for _ in range(3)]
    wait_until(lambda: open_connections(front) >= 3)
    for _ in range(3):
        with connect(front) as extra:
            extra.sendall(GET)
            response = recv_until_close(extra)
        assert status_of(response) == 503
        assert b"retry-after: 1\r\n" in response and b"connection: close\r\n" in response
    assert front.logs().count("--max-connections 3 reached") == 1
    # The held connections are served; one closing makes room for a new one.
    held[0].sendall(GET)
    assert status_of(held[0].recv(65536)) == 200
    held.pop().close()
    wait_until(lambda: served(front) == 200)
    for sock in held:
        sock.close()


def test_max_connections_per_ip_answers_429(procs: Processes) -> None:
    front = procs.front("--max-connections-per-ip", "2", app="basic:app")
    held = [connect(front) for _ in range(2)]
    wait_until(lambda: open_connections(front) >= 2)
    with connect(front) as extra:
        extra.sendall(GET)
        response = recv_until_close(extra)
    assert status_of(response) == 429 and b"retry-after: 1\r\n" in response
    front.wait_for_log(r"--max-connections-per-ip 2 reached by 127\.0\.0\.1: answering 429")
    # Another address is not affected.
    assert served(front, "127.0.0.2") == 200
    held.pop().close()
    wait_until(lambda: served(front) == 200)
    for sock in held:
        sock.close()


def test_descriptor_exhaustion_keeps_serving_logs_once_and_does_not_spin(
    procs: Processes,
) -> None:
    front = procs.front(app="basic:app")
    proc = psutil.Process(front.pid)
    limit = proc.num_fds() + 40
    proc.rlimit(psutil.RLIMIT_NOFILE, (limit, limit))
    # Idle connections are closed when the table runs nearly full...
    idle = [connect(front) for _ in range(20)]
    # ... but these are busy (a head under way): they fill the table.
    busy = []
    for _ in range(60):
        sock = connect(front)
        sock.sendall(b"GET /hello HTTP/1.1\r\n")
        busy.append(sock)
    front.wait_for_log(r"file descriptors nearly exhausted .* closed \d+ idle")
    assert all(sock.recv(1) == b"" for sock in idle)  # reaped: closed by the front
    # EMFILE now (wait until the table is full: a new connection is closed
    # unanswered): new connections are closed at once by the listener, and
    # the front neither logs each one nor burns CPU on it.
    wait_until(lambda: served(front) == 0, timeout=10)
    time.sleep(0.3)
    cpu = proc.cpu_times()
    lines = front.logs().count("\n")
    for _ in range(50):
        try:
            with connect(front) as sock:
                sock.sendall(GET)
                sock.recv(1)
        except OSError:
            pass
    time.sleep(1.0)
    after = proc.cpu_times()
    assert (after.user + after.system) - (cpu.user + cpu.system) < 0.5
    assert front.logs().count("\n") == lines  # not a line per refused connection
    # Descriptors come free: the front serves again, and logged the episode once.
    for sock in busy:
        sock.close()
    wait_until(lambda: served(front) == 200, timeout=10)
    # One line per episode (reaping the idle ones may end the first one early).
    logs = front.logs()
    assert logs.count("nearly exhausted") <= logs.count("available again") + 1 <= 3
    for sock in idle:
        sock.close()
