"""The front does not trust a worker with the wire: a real pagi-front, and a
worker played by hand (:class:`FakeWorker`) that sends what ``pagi-worker``
would never let through, or stops reading its link."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fake_worker import FakeWorker
from harness import PYTHON, Front, Proc, Processes, recv_until_close, status_of
from pagi.protocol import Event, Kind, Outcome
from pagi.protocol import messages as m

GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def front_and_worker(procs: Processes, *args: str) -> tuple[Front, FakeWorker]:
    front = procs.front(*args, wait_workers=0)
    worker = FakeWorker(procs.socket_dir / "workers.sock")
    worker.hello()
    front.wait_for_log("joined")
    return front, worker


def next_open(worker: FakeWorker) -> int:
    msg = worker.recv()
    while msg[0] != Kind.OPEN:
        msg = worker.recv()
    return int(msg[1])


def respond(worker: FakeWorker, sid: int, headers: list[list[bytes]], body: bytes = b"ok") -> None:
    worker.send(
        m.event(sid, Event.HTTP_RESPONSE_START, 200, headers, False),
        m.event(sid, Event.HTTP_RESPONSE_BODY, body, False),
        m.end(sid, Outcome.RETURNED, True, ""),
    )


def read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        while not rest.endswith(b"0\r\n\r\n"):
            rest += sock.recv(65536)
    else:
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(rest) < length:
            rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


UNSAFE = [
    pytest.param([[b"x-a", b"1\r\nset-cookie: evil=1"]], id="CRLF in value"),
    pytest.param([[b"x-a", b"1\nset-cookie: evil=1"]], id="LF in value"),
    pytest.param([[b"x-a", b"1\rset-cookie: evil=1"]], id="CR in value"),
    pytest.param([[b"x-a", b"a\x00b"]], id="NUL in value"),
    pytest.param([[b"x-a\r\nset-cookie", b"evil=1"]], id="CRLF in name"),
    pytest.param([[b"x a", b"v"]], id="space in name"),
    pytest.param([[b"x-a:", b"v"]], id="colon in name"),
    pytest.param(
        [[b"content-type", b"text/plain"], [b"x", b"\r\n\r\nHTTP/1.1 200 OK"]], id="split"
    ),
]


@pytest.mark.parametrize("headers", UNSAFE)
def test_unsafe_response_header_is_502_and_logged(
    procs: Processes, headers: list[list[bytes]]
) -> None:
    front, worker = front_and_worker(procs)
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as client:
        client.sendall(GET)
        respond(worker, next_open(worker), headers)
        response = read_response(client)
        assert status_of(response) == 502
        assert b"evil" not in response and b"\r\nx" not in response.lower()
        front.wait_for_log(r"502: (CR, LF or NUL in header|invalid header name) .* from the worker")
        # The connection and the worker carry on.
        client.sendall(GET)
        respond(worker, next_open(worker), [[b"x-a", b"fine"]])
        assert status_of(read_response(client)) == 200


def test_unsafe_trailer_aborts_the_response(procs: Processes) -> None:
    front, worker = front_and_worker(procs)
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as client:
        client.sendall(GET)
        sid = next_open(worker)
        worker.send(
            m.event(sid, Event.HTTP_RESPONSE_START, 200, [], True),
            m.event(sid, Event.HTTP_RESPONSE_BODY, b"body", False),
            m.event(sid, Event.HTTP_RESPONSE_TRAILERS, [[b"x-t", b"1\r\n\r\nHTTP/1.1 200 OK"]]),
            m.end(sid, Outcome.RETURNED, True, ""),
        )
        data = recv_until_close(client)
    assert status_of(data) == 200
    assert data.endswith(b"4\r\nbody\r\n")  # no last chunk: the client sees the cut
    front.wait_for_log(r"aborting GET /: CR, LF or NUL in header b'x-t'")


def test_unsafe_websocket_accept_header_is_502(procs: Processes) -> None:
    front, worker = front_and_worker(procs)
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as client:
        client.sendall(
            b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        sid = next_open(worker)
        worker.send(m.event(sid, Event.WS_ACCEPT, None, [[b"x-a", b"1\r\nx-b: 2"]]))
        data = recv_until_close(client)
    assert status_of(data) == 502 and b"x-b" not in data
    front.wait_for_log(r"502: CR, LF or NUL in header b'x-a'")


def test_worker_that_stops_reading_is_dropped_and_its_requests_failed(
    procs: Processes,
) -> None:
    # A worker process that greets (granting a 64 KiB request window per
    # scope) and then never reads its link again: every upload's first 64 KiB
    # piles up in the front, for this worker, until the link's outbound limit
    # (1 MiB here) is crossed.
    front = procs.front("--max-link-buffer", "1M", "--worker-wait-timeout", "1", wait_workers=0)
    script = str(Path(__file__).resolve().parents[1] / "fake_worker.py")
    stuck = Proc(
        [PYTHON, script, str(procs.socket_dir / "workers.sock"), "fake #1"],
        procs.tmp / "stuck-worker.log",
    )
    procs.started.append(stuck)
    stuck.wait_for_log("greeted")
    front.wait_for_log("worker fake #1 pid .* joined")
    body = b"x" * 100_000
    head = b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body)
    clients = []
    for _ in range(40):
        client = socket.create_connection(("127.0.0.1", front.port), timeout=10)
        client.setblocking(False)
        try:
            client.send(head + body)
        except BlockingIOError:
            pass
        clients.append(client)
    front.wait_for_log(r"dropping worker fake #1: stuck: more than 1048576 bytes", timeout=15)
    statuses = []
    for client in clients:
        client.settimeout(10)
        statuses.append(status_of(recv_until_close(client)))
        client.close()
    # Those it held get 502; those that came after it was gone wait for
    # another worker, then 503.
    assert 502 in statuses and set(statuses) <= {502, 503}
    # The front itself carries on: a new worker serves the next request.
    fresh = FakeWorker(procs.socket_dir / "workers.sock", "fresh #2")
    fresh.hello()
    front.wait_for_log("fresh #2 pid .* joined")
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as client:
        client.sendall(GET)
        respond(fresh, next_open(fresh), [])
        assert status_of(read_response(client)) == 200
    assert stuck.popen.poll() is None  # alive and still not reading: the front moved on
