"""Every server-generated status, provoked by raw bytes or by the app; both parsers."""

from __future__ import annotations

import json
import os
import signal
import socket
import time

import httpx
import pytest
from harness import Processes, raw_request, recv_until_close, status_of


@pytest.fixture
def server(procs: Processes, http_parser: str):  # type: ignore[no-untyped-def]
    return procs.front(
        "--http",
        http_parser,
        "--max-body-size",
        "1000",
        "--max-header-size",
        "4096",
        "--max-headers",
        "20",
        "--max-request-line",
        "1024",
        app="basic:app",
    )


BAD_REQUESTS = {
    "garbage request line": (b"HELLO\r\n\r\n", 400),
    "bad method token": (b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    "header without colon": (b"GET / HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n", 400),
    "space before colon": (b"GET / HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n", 400),
    "NUL in header value": (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    "CTL in header value": (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400),
    "obs-fold": (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400),
    "missing host": (b"GET / HTTP/1.1\r\n\r\n", 400),
    "two hosts": (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    "CL and TE": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "duplicate CL": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        400,
    ),
    "invalid CL": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3x\r\n\r\nabc", 400),
    "negative CL": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -3\r\n\r\nabc", 400),
    "bad chunk size": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    "unknown transfer-coding": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        501,
    ),
    "request line too long": (b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "header block too large": (
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 5000 + b"\r\n\r\n",
        431,
    ),
    "too many headers": (
        b"GET / HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-%d: v\r\n" % i for i in range(30))
        + b"\r\n",
        431,
    ),
    "body over max by content-length": (
        b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"a" * 5000,
        413,
    ),
    "chunked body over max": (
        b"POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
        b"\r\n\r\n" + (b"3e8\r\n" + b"a" * 1000 + b"\r\n") * 3 + b"0\r\n\r\n",
        413,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_malformed_request_gets_status_and_close(server, case: str) -> None:  # type: ignore[no-untyped-def]
    raw, expected = BAD_REQUESTS[case]
    response = raw_request(server.port, raw)
    assert status_of(response) == expected, response[:300]
    head = response.partition(b"\r\n\r\n")[0].lower()
    assert b"connection: close" in head
    # the server keeps serving everyone else
    assert httpx.get(server.url + "/hello").status_code == 200


def test_bad_request_is_logged_for_the_operator(server) -> None:  # type: ignore[no-untyped-def]
    raw_request(server.port, b"GET / HTTP/1.1\r\n\r\n")
    server.wait_for_log(r"400")


def test_app_raising_before_start_gives_500_and_traceback(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(server.url + "/raise")
    assert r.status_code == 500
    logs = server.wait_for_log(r"boom before start").string
    assert "Traceback" in logs and "ValueError" in logs


def test_app_returning_without_response_gives_500(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(server.url + "/no-response")
    assert r.status_code == 500
    assert httpx.get(server.url + "/hello").status_code == 200


def test_app_raising_after_start_aborts_connection(server) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /raise-after-start HTTP/1.1\r\nHost: x\r\n\r\n")
        data = recv_until_close(s)
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert not data.endswith(b"0\r\n\r\n")  # no terminating chunk: the client sees it broke
    assert httpx.get(server.url + "/hello").status_code == 200


def test_503_with_retry_after_when_no_worker(procs: Processes) -> None:
    front = procs.front("--worker-wait-timeout", "0.5", wait_workers=0)
    started = time.monotonic()
    r = httpx.get(front.url + "/hello", timeout=10)
    assert r.status_code == 503
    assert r.headers["retry-after"]
    assert 0.4 < time.monotonic() - started < 5


def test_503_with_retry_after_when_shutting_down(procs: Processes) -> None:
    """A request still waiting for a worker when the front stops is refused
    the way an admission limit is: 503 with retry-after (PAGI Www 0.6)."""
    front = procs.front("--worker-wait-timeout", "30", wait_workers=0)
    with socket.create_connection(("127.0.0.1", front.port), timeout=10) as s:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        front.signal(signal.SIGTERM)
        data = recv_until_close(s)
    assert data.startswith(b"HTTP/1.1 503 "), data[:200]
    assert b"\r\nretry-after: 1\r\n" in data.lower()


def test_request_waits_for_a_worker_that_arrives(procs: Processes) -> None:
    front = procs.front("--worker-wait-timeout", "10", wait_workers=0)
    procs.worker("basic:app")
    r = httpx.get(front.url + "/hello", timeout=15)
    assert r.status_code == 200


def test_kill_9_of_one_worker_under_load(procs: Processes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    front = procs.front(wait_workers=0)
    w1 = procs.worker("basic:app")
    w2 = procs.worker("basic:app")
    front.wait_for_log(r"worker .* joined", count=2)
    pids = {w1.pid, w2.pid}

    import concurrent.futures

    def slow(i: int) -> tuple[int, str]:
        r = httpx.get(front.url + "/pid?sleep=1.5", timeout=10)
        return r.status_code, r.text

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(slow, i) for i in range(8)]
        time.sleep(0.7)  # all 8 are in flight, spread over both workers
        os.kill(w1.pid, signal.SIGKILL)
        results = [f.result() for f in futures]
    statuses = [s for s, _ in results]
    assert statuses.count(502) >= 1, results
    assert all(s in (200, 502) for s in statuses), results
    assert {t for s, t in results if s == 200} <= {str(p) for p in pids}
    for _ in range(20):  # every later request succeeds on the survivor
        r = httpx.get(front.url + "/pid")
        assert r.status_code == 200
        assert r.text == str(w2.pid)


def test_client_disconnect_reaches_the_app(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "seen.json"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(f"GET /wait-disconnect?out={out} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert b"waiting" in s.recv(4096) or True
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = json.loads(out.read_text())
    assert seen == {"event": "http.disconnect", "connected": False, "reason": "client_closed"}


def test_keepalive_idle_timeout_closes(procs: Processes) -> None:
    front = procs.front("--keepalive-timeout", "0.5", app="basic:app")
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as s:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.1)
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert s.recv(4096) == b""  # closed by the server
        assert 0.3 < time.monotonic() - started < 3


def test_slow_request_head_gets_408(procs: Processes) -> None:
    front = procs.front("--header-timeout", "0.5", app="basic:app")
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as s:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")  # never finishes the head
        data = recv_until_close(s)
    assert status_of(data) == 408


def test_worker_death_after_response_started_aborts(procs: Processes) -> None:
    front = procs.front(wait_workers=0)
    worker = procs.worker("basic:app")
    front.wait_for_log(r"worker .* joined")
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as s:
        s.sendall(b"GET /stream?n=100&size=10&delay=0.05 HTTP/1.1\r\nHost: x\r\n\r\n")
        first = s.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 OK")
        os.kill(worker.pid, signal.SIGKILL)
        rest = recv_until_close(s)
    data = first + rest
    assert not data.endswith(b"0\r\n\r\n")  # cut short, and the client can tell
    front.wait_for_log(r"worker .* left")
