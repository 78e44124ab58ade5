"""Bounded memory end to end: big uploads and slow readers never buffer whole bodies."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from harness import PeakRSS, Processes

MiB = 1024 * 1024
BODY = 50 * MiB
# Far below the 50 MiB body: what a process may grow by while moving it.
ALLOWED_GROWTH = 16 * MiB


@pytest.fixture
def split(procs: Processes):  # type: ignore[no-untyped-def]
    front = procs.front(wait_workers=0)
    worker = procs.worker("basic:app")
    front.wait_for_log(r"worker .* joined")
    httpx.get(front.url + "/hello")  # warm both processes up
    return front, worker


def upload_chunks() -> Iterator[bytes]:
    block = b"u" * (256 * 1024)
    for _ in range(BODY // len(block)):
        yield block


def test_50mib_upload_streams_with_bounded_memory(split) -> None:  # type: ignore[no-untyped-def]
    front, worker = split
    meter = PeakRSS([front.pid, worker.pid])
    r = httpx.post(front.url + "/count", content=upload_chunks(), timeout=60)
    growth = meter.stop()
    assert r.status_code == 200
    assert r.text == str(BODY)
    assert growth[0] < ALLOWED_GROWTH, f"front grew {growth[0] / MiB:.1f} MiB"
    assert growth[1] < ALLOWED_GROWTH, f"worker grew {growth[1] / MiB:.1f} MiB"


def test_slow_reader_of_50mib_response_bounded_memory(split) -> None:  # type: ignore[no-untyped-def]
    front, worker = split
    n = BODY // 65536
    meter = PeakRSS([front.pid, worker.pid])
    with socket.create_connection(("127.0.0.1", front.port), timeout=30) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.sendall(
            f"GET /stream?n={n}&size=65536 HTTP/1.1\r\nHost: x\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        received = 0
        started = time.monotonic()
        while True:
            chunk = s.recv(256 * 1024)
            if not chunk:
                break
            received += len(chunk)
            # about 25 MB/s: slow enough that an unbounded server would pile it up
            ahead = received / (25 * MiB) - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    growth = meter.stop()
    assert received > BODY  # body plus chunk framing and head
    assert growth[0] < ALLOWED_GROWTH, f"front grew {growth[0] / MiB:.1f} MiB"
    assert growth[1] < ALLOWED_GROWTH, f"worker grew {growth[1] / MiB:.1f} MiB"
