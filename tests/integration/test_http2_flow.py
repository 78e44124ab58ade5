"""Bounded memory and per-stream isolation over HTTP/2 (real processes, an h2 client)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import h2.events
import httpx
from h2_client import H2Client
from harness import PeakRSS, Processes

MiB = 1024 * 1024
BODY = 50 * MiB
# Far below the 50 MiB body: what a process may grow by while moving it.
ALLOWED_GROWTH = 16 * MiB


def upload_chunks() -> Iterator[bytes]:
    block = b"u" * (256 * 1024)
    for _ in range(BODY // len(block)):
        yield block


def test_50mib_upload_over_h2c_with_bounded_memory(procs: Processes) -> None:
    front = procs.front(app="basic:app")
    worker_pid = int(front.wait_for_log(r"started worker #1 pid (\d+)").group(1))
    with httpx.Client(http1=False, http2=True, timeout=60) as client:
        client.get(front.url + "/hello")  # warm both processes up
        meter = PeakRSS([front.pid, worker_pid])
        r = client.post(front.url + "/count", content=upload_chunks())
        growth = meter.stop()
    assert (r.http_version, r.status_code, r.text) == ("HTTP/2", 200, str(BODY))
    assert growth[0] < ALLOWED_GROWTH, f"front grew {growth[0] / MiB:.1f} MiB"
    assert growth[1] < ALLOWED_GROWTH, f"worker grew {growth[1] / MiB:.1f} MiB"


def test_slow_reader_of_50mib_over_h2c_with_bounded_memory(procs: Processes) -> None:
    front = procs.front(app="basic:app")
    worker_pid = int(front.wait_for_log(r"started worker #1 pid (\d+)").group(1))
    conn = H2Client(front.port)
    try:
        conn.response(conn.request("/hello"))
        meter = PeakRSS([front.pid, worker_pid])
        sid = conn.request(f"/stream?n={BODY // 65536}&size=65536")
        received = 0
        started = time.monotonic()

        def pace(event: h2.events.Event) -> bool:
            nonlocal received
            if isinstance(event, h2.events.DataReceived) and event.stream_id == sid:
                received += len(event.data or b"")
                # about 25 MB/s: an unbounded server would pile the rest up
                ahead = received / (25 * MiB) - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            return isinstance(event, h2.events.StreamEnded) and event.stream_id == sid

        conn.events(pace, timeout=60)
        growth = meter.stop()
    finally:
        conn.close()
    assert received == BODY
    assert growth[0] < ALLOWED_GROWTH, f"front grew {growth[0] / MiB:.1f} MiB"
    assert growth[1] < ALLOWED_GROWTH, f"worker grew {growth[1] / MiB:.1f} MiB"


def test_an_app_not_reading_slows_only_its_own_stream(procs: Processes) -> None:
    front = procs.front(app="basic:app")
    conn = H2Client(front.port)
    try:
        # The app of this stream never reads its body: the front forwards up to
        # the worker's window (256 KiB) and then withholds WINDOW_UPDATE, so the
        # client can send that plus the stream window (64 KiB), and no more.
        slow = conn.request("/sleep?s=5", method="POST", body=None, end=False)
        sent = 0
        conn.sock.settimeout(0.5)
        while True:
            window = min(
                conn.conn.local_flow_control_window(slow), conn.conn.max_outbound_frame_size
            )
            if window > 0:
                conn.conn.send_data(slow, b"x" * window)
                conn.flush()
                sent += window
                continue
            try:
                data = conn.sock.recv(65536)
            except TimeoutError:
                break  # the window stayed shut
            conn.conn.receive_data(data)
            conn.flush()
        # Slack below the top: up to one frame (16 KiB) the front holds because it
        # does not fit the worker's window whole, plus the < 1 KiB that h2 leaves
        # unacknowledged rather than send a tiny WINDOW_UPDATE.
        top = 256 * 1024 + 64 * 1024
        assert top - 16384 - 1024 <= sent <= top
        conn.sock.settimeout(10)
        # Other streams on the same connection are served at once meanwhile.
        started = time.monotonic()
        for _ in range(5):
            _, body, _ = conn.response(conn.request("/hello"))
            assert body == b"hello"
        assert time.monotonic() - started < 3.0
    finally:
        conn.close()
