"""Large response bodies through the link's body ring (docs/worker-protocol.md), end to end.

Body pieces of 32 KiB or more travel as HTTP_RESPONSE_RING through a memfd the
worker shares with the front. These tests run real processes and check that
the bytes arrive exactly, in order, over every way out of the front (HTTP/1.1
with a length or chunked, with trailers, HTTP/2, TLS), that a ring too small
for the pieces falls back to inline bodies without a difference, that one
slow client does not hold up the others, and that clients going away in the
middle of a body leak no descriptor in either process.
"""

from __future__ import annotations

import os
import socket
import time

import httpx
import pytest
from harness import Front, Processes, iter_pids_of_tree, recv_until_close
from tls_certs import TlsFiles, tls_front

KiB = 1024
N, SIZE = 24, 100 * KiB  # 24 pieces of 100 KiB: each one through the ring


def expected(n: int = N, size: int = SIZE) -> bytes:
    """What basic:app's /stream sends: piece i is the letter 65 + i % 26, ``size`` times."""
    return b"".join(bytes([65 + i % 26]) * size for i in range(n))


def stream_path(n: int = N, size: int = SIZE) -> str:
    return f"/stream?n={n}&size={size}"


def dechunk(body: bytes) -> tuple[bytes, bytes]:
    """A chunked body's data and its trailer section."""
    data, rest = b"", body
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return data, rest
        data += rest[:size]
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]


def worker_pid(front: Front) -> int:
    pids = list(iter_pids_of_tree(front.pid))
    assert len(pids) == 2, pids
    return pids[1]


def ring_fds(pid: int) -> int:
    """Descriptors of ``pid`` open on the body ring's memfd."""
    n = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        n += "pagi-body-ring" in target
    return n


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def settled_fd_count(pid: int, target: int, timeout: float = 10.0) -> int:
    """``pid``'s descriptor count once it is back to ``target`` (or the last seen)."""
    deadline = time.monotonic() + timeout
    n = fd_count(pid)
    while n != target and time.monotonic() < deadline:
        time.sleep(0.05)
        n = fd_count(pid)
    return n


def test_http11_streamed_body_through_the_ring_arrives_exactly(procs: Processes) -> None:
    front = procs.front(app="basic:app")
    r = httpx.get(front.url + stream_path(), timeout=30)
    assert r.status_code == 200
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.content == expected()
    # the front holds the worker's ring, the worker its own memfd
    assert ring_fds(front.pid) == 1
    assert ring_fds(worker_pid(front)) == 1


def test_with_the_ring_off_nothing_is_shared_and_the_bytes_are_the_same(
    procs: Processes,
) -> None:
    front = procs.front("--body-ring", "0", app="basic:app")
    r = httpx.get(front.url + stream_path(), timeout=30)
    assert r.content == expected()
    assert ring_fds(front.pid) == 0
    assert ring_fds(worker_pid(front)) == 0


def test_a_ring_smaller_than_the_traffic_falls_back_to_inline_pieces(procs: Processes) -> None:
    # 64 KiB holds one 40 KiB piece at a time: the others go inline, in between
    front = procs.front("--body-ring", "64K", app="basic:app")
    paths = [stream_path(40, 40 * KiB), stream_path(10, 100 * KiB)]  # the second never fits

    def fetch(client: httpx.Client, path: str) -> bytes:
        return client.get(front.url + path, timeout=30).content

    with httpx.Client() as a, httpx.Client() as b:
        for _ in range(3):
            assert fetch(a, paths[0]) == expected(40, 40 * KiB)
            assert fetch(b, paths[1]) == expected(10, 100 * KiB)


def test_big_body_with_trailers_over_http11(procs: Processes) -> None:
    front = procs.front(app="basic:app")
    with socket.create_connection(("127.0.0.1", front.port), timeout=10) as s:
        s.sendall(
            b"GET /trailers?size=300000 HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n"
            b"Connection: close\r\n\r\n"
        )
        data = recv_until_close(s)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert dechunk(body) == (b"d" * 300000, b"x-checksum: abc\r\n\r\n")


def test_streamed_body_through_the_ring_over_http2_cleartext(procs: Processes) -> None:
    front = procs.front(app="basic:app")
    with httpx.Client(http1=False, http2=True) as client:
        r = client.get(front.url + stream_path(), timeout=30)
        assert r.http_version == "HTTP/2"
        assert r.content == expected()
        t = client.get(front.url + "/trailers?size=200000", timeout=30)
        assert t.content == b"d" * 200000


def test_streamed_body_through_the_ring_over_tls(procs: Processes, tls_files: TlsFiles) -> None:
    front = tls_front(procs, tls_files)
    url = f"https://localhost:{front.tls_port}" + stream_path()
    with httpx.Client(verify=tls_files.client_context()) as client:
        r = client.get(url, timeout=30)
        assert r.content == expected()
    with httpx.Client(http2=True, verify=tls_files.client_context()) as client:
        r = client.get(url, timeout=30)
        assert r.http_version == "HTTP/2"
        assert r.content == expected()


def test_a_slow_client_holds_up_only_its_own_response(procs: Processes) -> None:
    front = procs.front(app="basic:app")
    big = 100  # pieces of 100 KiB: 10 MiB that the slow client does not read yet
    with socket.create_connection(("127.0.0.1", front.port), timeout=30) as slow:
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * KiB)
        slow.sendall(f"GET {stream_path(big)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = slow.recv(4096)
        assert data.startswith(b"HTTP/1.1 200")
        # the slow one's window is used up; everyone else is served in full
        with httpx.Client() as client:
            for _ in range(5):
                r = client.get(front.url + stream_path(), timeout=30)
                assert r.content == expected()
        # and the slow one still gets every byte once it reads
        slow.settimeout(60)
        want = expected(big)
        while not data.endswith(b"\r\n0\r\n\r\n"):
            chunk = slow.recv(1024 * KiB)
            assert chunk, "connection closed early"
            data += chunk
    assert dechunk(data.partition(b"\r\n\r\n")[2])[0] == want


@pytest.mark.parametrize("rounds", [12])
def test_clients_leaving_mid_body_leak_no_descriptor(procs: Processes, rounds: int) -> None:
    front = procs.front(app="basic:app")
    worker = worker_pid(front)
    # warm up (ring shared, pools made) on a connection that is over once read
    with socket.create_connection(("127.0.0.1", front.port), timeout=30) as s:
        s.sendall(f"GET {stream_path(4)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        recv_until_close(s)
    time.sleep(0.5)
    before = fd_count(front.pid), fd_count(worker)
    for i in range(rounds):
        with socket.create_connection(("127.0.0.1", front.port), timeout=30) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * KiB)
            s.sendall(f"GET {stream_path(200)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            got = 0
            while got < (i + 1) * 150 * KiB:  # leave at a different point each time
                chunk = s.recv(64 * KiB)
                assert chunk
                got += len(chunk)
            if i % 2:
                s.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
    # the next request is served in full, and nothing was left open
    with socket.create_connection(("127.0.0.1", front.port), timeout=30) as s:
        s.sendall(f"GET {stream_path()} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert dechunk(recv_until_close(s).partition(b"\r\n\r\n")[2])[0] == expected()
    assert settled_fd_count(front.pid, before[0]) == before[0]
    assert settled_fd_count(worker, before[1]) == before[1]
    assert ring_fds(front.pid) == 1 and ring_fds(worker) == 1
