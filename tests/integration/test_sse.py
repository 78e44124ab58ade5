"""SSE end to end: a real front and worker, raw sockets, exact bytes on the wire.

Apps that only speak ASGI (the replay as http): test_sse_asgi_replay.py.
"""

from __future__ import annotations

import itertools
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import Front, Processes
from pagi.frontend.http1.responses import chunk
from sse_client import WIRE_EVENTS, ChunkedStream, events_of


@pytest.fixture(scope="module", params=["h11", "httptools"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Front]:
    """One front + worker for the tests that leave it as it was."""
    procs = Processes(tmp_path_factory.mktemp("sse"))
    try:
        yield procs.front("--http", str(request.param), app="sse_app:app", workers=1)
    finally:
        procs.cleanup()


def wait_lines(path: Path, count: int, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


# --- the wire format ---------------------------------------------------------------


def test_wire_bytes_exact(server: Front) -> None:
    with ChunkedStream(server.port, "/wire", headers=(("Connection", "close"),)) as s:
        assert s.read_head() == 200
        chunks = s.chunks()
        assert s.ended
        s.body_until_close()
    assert [payload for _, payload in chunks] == WIRE_EVENTS
    head = s.head.decode("latin-1")
    assert head.startswith("HTTP/1.1 200 OK\r\n")
    assert s.header("content-type") == "text/event-stream"
    assert s.header("cache-control") == "no-cache"
    assert s.header("transfer-encoding") == "chunked"
    assert s.header("x-test") == "1"
    assert s.header("date") is not None and s.header("content-length") is None
    # the whole body, byte for byte: one chunk per event, then the terminator
    assert s.raw == s.head + b"".join(chunk(e) for e in WIRE_EVENTS) + b"0\r\n\r\n"


def test_http10_client_gets_the_stream_until_close(server: Front) -> None:
    with ChunkedStream(server.port, "/wire", version="1.0") as s:
        assert s.read_head() == 200
        body = s.body_until_close()
    assert s.header("transfer-encoding") is None and s.header("content-length") is None
    assert s.header("connection") == "close"
    assert body == b"".join(WIRE_EVENTS)
    # keepalive comments are written unframed too
    with ChunkedStream(server.port, "/keepalive?interval=0.1&idle=0.35", version="1.0") as s:
        assert s.read_head() == 200
        body = s.body_until_close()
    comments, _, rest = body.partition(b"data: tick\n\n")
    assert rest == b"" and len(comments) >= 6 and comments == b":\n\n" * (len(comments) // 3)


@pytest.mark.parametrize(
    ("accept", "scope_type"),
    [
        ("text/event-stream", "sse"),
        ("Text/Event-Stream; charset=utf-8", "sse"),
        ("text/html, text/event-stream;q=0.5", "sse"),
        ("text/event-stream;q=0", "http"),
        ("*/*", "http"),
        ("text/*", "http"),
        (None, "http"),
    ],
)
def test_detection(server: Front, accept: str | None, scope_type: str) -> None:
    headers = {"accept": accept} if accept is not None else {}
    r = httpx.get(server.url + "/wire", headers=headers)
    assert r.status_code == 200
    if scope_type == "sse":
        assert r.headers["content-type"] == "text/event-stream"
    else:
        assert r.json() == {"type": "http", "path": "/wire"}


def test_scope_and_last_event_id(server: Front) -> None:
    with ChunkedStream(
        server.port, "/scope", headers=(("Last-Event-ID", "41"), ("Connection", "close"))
    ) as s:
        events = events_of([p for _, p in s.chunks()])
    info = json.loads(events[0]["data"])
    assert info["type"] == "sse" and info["method"] == "GET" and info["path"] == "/scope"
    assert ["last-event-id", "41"] in info["headers"]
    assert ["accept", "text/event-stream"] in info["headers"]
    assert info["extensions"] == ["pagi.channels", "pagi.resume"]  # channels.md, resume.md
    assert info["has_connection"] and info["has_transport"]
    assert info["first"] == {"type": "sse.request", "body": "", "more": False}
    assert s.ended  # the app ended it with sse.close


def test_post_driven_stream(server: Front) -> None:
    with ChunkedStream(server.port, "/post", method="POST", body=b"abc") as s:
        events = events_of([p for _, p in s.chunks()])
    assert events == [{"event": "piece", "data": "abc"}, {"event": "done", "data": "3"}]
    # a chunked upload, read as it arrives
    with httpx.stream(
        "POST",
        server.url + "/post",
        headers={"accept": "text/event-stream"},
        content=iter([b"one", b"two", b"three"]),
    ) as r:
        text = r.read().decode()
    assert r.status_code == 200
    events = events_of([text.encode()])
    assert events[-1] == {"event": "done", "data": "11"}
    assert "".join(e["data"] for e in events[:-1]) == "onetwothree"


# --- keepalive ---------------------------------------------------------------------------


def test_keepalive_comments_when_idle(server: Front) -> None:
    with ChunkedStream(server.port, "/keepalive?interval=0.2&comment=ka&idle=0.7&idle2=0.5") as s:
        s.read_head()
        start = time.monotonic()
        chunks = s.chunks()
    assert s.ended
    payloads = [p for _, p in chunks]
    tick = payloads.index(b"data: tick\n\n")
    before, after = payloads[:tick], payloads[tick + 1 :]
    assert set(before) == {b":ka\n\n"} and 3 <= len(before) <= 4, payloads
    assert set(after) == {b":ka\n\n"} and 2 <= len(after) <= 3, payloads
    # never more often than the interval, and the first one after about one interval
    times = [start] + [t for t, _ in chunks]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert 0.15 < gaps[0] < 0.4, gaps
    assert min(gaps[1 : len(before)]) > 0.17, gaps


def test_keepalive_default_comment_and_turning_it_off(server: Front) -> None:
    with ChunkedStream(server.port, "/keepalive?interval=0.15&idle=0.4&off=0.6") as s:
        chunks = s.chunks()
    payloads = [p for _, p in chunks]
    tick = payloads.index(b"data: tick\n\n")
    assert set(payloads[:tick]) == {b":\n\n"} and len(payloads[:tick]) >= 2
    assert payloads[tick + 1 :] == []  # interval 0 stopped it: silence until the close


def test_no_keepalive_while_events_flow(server: Front) -> None:
    with ChunkedStream(server.port, "/busy?n=10") as s:
        payloads = [p for _, p in s.chunks()]
    assert payloads == [f"data: {i}\n\n".encode() for i in range(10)]


# --- validation and the decline pair -------------------------------------------------------


def test_every_validation_error_raises_in_send(server: Front, tmp_path: Path) -> None:
    out = tmp_path / "late.txt"
    with ChunkedStream(server.port, f"/validate?out={out}") as s:
        payloads = [p for _, p in s.chunks()]
    errors = [e["data"] for e in events_of(payloads)]
    assert all(e["event"] == "error" for e in events_of(payloads))
    assert errors == [
        "InvalidEvent: sse.send: 'data' must be a str, got bytes b'bytes'",
        "InvalidEvent: sse.send: 'data' must be a str, got int 7",
        "InvalidEvent: sse.send: 'event' must not contain CR or LF, got 'a\\nb'",
        "InvalidEvent: sse.send: 'event' must not contain CR or LF, got 'a\\rb'",
        "InvalidEvent: sse.send: 'id' must not contain CR or LF, got '1\\n'",
        "InvalidEvent: sse.send: 'id' must not contain CR or LF, got '1\\r2'",
        "InvalidEvent: sse.send: 'id' must not contain NUL, got '1\\x002'",
        "InvalidEvent: sse.send: 'retry' must be an int >= 0 (milliseconds), got int -1",
        "InvalidEvent: sse.send: 'retry' must be an int >= 0 (milliseconds), got float 1.5",
        "InvalidEvent: sse.send: 'retry' must be an int >= 0 (milliseconds), got bool True",
        "InvalidEvent: sse.send: 'retry' must be an int >= 0 (milliseconds), got str '100'",
        "InvalidEvent: sse.comment: 'comment' must be a str, got bytes b'x'",
        "InvalidEvent: sse.keepalive: 'interval' must be a finite number of seconds >= 0, "
        "got int -1",
        "InvalidEvent: sse.keepalive: 'comment' must not contain CR or LF, got 'two\\nlines'",
        "UnexpectedEvent: sse.start: the stream has already started (sse.start was sent)",
        "UnexpectedEvent: http.response.start: the stream has already started "
        "(sse.start was sent); it can no longer be declined",
        "UnexpectedEvent: http.response.body: the stream was started with sse.start; "
        "it cannot be declined",
        "InvalidEvent: unknown event type 'sse.http.response.start' for an sse scope (expected "
        "one of sse.start, sse.send, sse.comment, sse.keepalive, sse.close, "
        "http.response.start, http.response.body); PAGI 0.6 declines with "
        "http.response.start instead",
    ]
    # nothing but the error events reached the wire
    assert b"".join(payloads) == b"".join(f"event: error\ndata: {e}\n\n".encode() for e in errors)
    assert wait_lines(out, 3) == [
        "UnexpectedEvent: sse.send: the stream is closed (sse.close was sent)",
        "UnexpectedEvent: sse.comment: the stream is closed (sse.close was sent)",
        "UnexpectedEvent: sse.keepalive: the stream is closed (sse.close was sent)",
    ]


def test_stream_events_before_start_raise(server: Front) -> None:
    with ChunkedStream(server.port, "/before-start") as s:
        errors = [e["data"] for e in events_of([p for _, p in s.chunks()])]
    assert errors == [
        "UnexpectedEvent: sse.send: sse.start has not been sent",
        "UnexpectedEvent: sse.comment: sse.start has not been sent",
        "UnexpectedEvent: sse.keepalive: sse.start has not been sent",
        "UnexpectedEvent: sse.close: sse.start has not been sent",
        "UnexpectedEvent: http.response.body: http.response.start has not been sent",
    ]


def test_decline_with_204_and_404(server: Front, tmp_path: Path) -> None:
    out = tmp_path / "decline.txt"
    r = httpx.get(
        server.url + f"/decline?status=204&out={out}", headers={"accept": "text/event-stream"}
    )
    assert r.status_code == 204 and r.content == b""
    assert r.headers["x-declined"] == "yes" and r.headers["content-type"] == "text/plain"
    assert "cache-control" not in r.headers  # a decline carries the app's headers only
    assert wait_lines(out, 2) == [
        "UnexpectedEvent: sse.start: the request was already declined with http.response.start",
        "UnexpectedEvent: sse.send: the request was declined with http.response.start; "
        "stream events are not allowed",
    ]
    r = httpx.get(
        server.url + "/decline?status=404&body=nope", headers={"accept": "text/event-stream"}
    )
    assert r.status_code == 404 and r.text == "nope"
    r = httpx.get(server.url + "/unknown", headers={"accept": "text/event-stream"})
    assert r.status_code == 404 and r.text == "no such stream"


def test_app_return_and_raise(server: Front) -> None:
    with ChunkedStream(server.port, "/return") as s:
        assert [p for _, p in s.chunks()] == [b"data: only\n\n"]
        # PAGI 0.6: returned without sse.close: incomplete, no end marker
        assert not s.ended and s.closed
    with ChunkedStream(server.port, "/raise") as s:
        assert [p for _, p in s.chunks()] == [b"data: before\n\n"]
        assert not s.ended and s.closed  # raised mid-stream: aborted, no terminator
    r = httpx.get(server.url + "/nothing", headers={"accept": "text/event-stream"})
    assert r.status_code == 500
    server.wait_for_log(r"aborting the response to GET /raise .*RuntimeError: boom mid-stream")
    server.wait_for_log(r"the app returned without sse\.close for GET /return")


# --- the client, the worker and the front going away -----------------------------------------


def test_client_gone_is_seen_promptly_while_the_app_only_sends(
    server: Front, tmp_path: Path
) -> None:
    out = tmp_path / "gone.txt"
    s = ChunkedStream(server.port, f"/disconnect?out={out}")
    assert s.chunk() is not None and s.chunk() is not None
    closed_at = time.monotonic()
    s.close()
    lines = wait_lines(out, 4, timeout=2)
    assert time.monotonic() - closed_at < 1.0
    assert lines[0] == "started"
    assert set(lines[1:]) == {
        "on_disconnect client_closed",
        "sse.disconnect client_closed",
        "stopped is_connected=False",
    }


def test_worker_dies_mid_stream(procs: Processes) -> None:
    """Without resumption (tests/integration/test_resume.py has it on)."""
    front = procs.front("--no-sse-resume", app="sse_app:app", workers=1)
    with ChunkedStream(front.port, "/die?after=0.2") as s:
        first = s.chunk()
        assert first is not None and first[1] == b"data: bye\n\n"
        assert s.chunk() is None
        assert s.closed and not s.ended
        assert not s.raw.endswith(b"0\r\n\r\n")  # no terminator: the browser sees an error
    front.wait_for_log(r"aborting the response to GET /die.*went away mid-response")


def test_front_shutdown_ends_streams_at_once(procs: Processes, tmp_path: Path) -> None:
    front = procs.front("--graceful-timeout", "20", app="sse_app:app", workers=1)
    out = tmp_path / "shutdown.txt"
    s = ChunkedStream(front.port, f"/disconnect?out={out}")
    assert s.chunk() is not None
    started = time.monotonic()
    front.signal(signal.SIGTERM)
    rest = s.chunks()
    # the app never ended the stream: no end marker, the connection closes
    assert not s.ended and s.closed
    assert all(p.startswith(b"data: ") for _, p in rest)
    assert front.wait(10) == 0
    assert time.monotonic() - started < 5  # not held for the graceful timeout
    lines = wait_lines(out, 4, timeout=2)
    assert "sse.disconnect server_shutdown" in lines
    assert "on_disconnect server_shutdown" in lines
    s.close()


# --- backpressure ----------------------------------------------------------------------------


def test_slow_client_makes_send_wait_and_events_stay_whole(
    procs: Processes, tmp_path: Path
) -> None:
    front = procs.front(app="sse_app:app", workers=1)
    out = tmp_path / "flood.txt"
    n = 3000  # 12 MiB of events: far more than the window and the socket buffers
    s = ChunkedStream(front.port, f"/flood?n={n}&out={out}", rcvbuf=16 * 1024, timeout=30)
    s.read_head()
    time.sleep(1.5)  # not reading
    stalled = [line for line in wait_lines(out, 1) if line.startswith("sent ")]
    time.sleep(0.5)
    still = [line for line in wait_lines(out, 1) if line.startswith("sent ")]
    assert len(stalled) == len(still) < n // 2, (len(stalled), len(still))
    assert any(line.startswith("high ") for line in wait_lines(out, 1))
    payloads = [p for _, p in s.chunks()]
    assert s.ended
    body = b"".join(payloads)
    assert body == b"".join([b"data: " + b"x" * 4090 + b"\n\n"] * n)
    lines = wait_lines(out, n + 3)
    assert lines[-1] == "closed"
    assert any(line.startswith("drain ") for line in lines)
    s.close()


# --- the examples ----------------------------------------------------------------------------


def test_examples(procs: Processes, tmp_path: Path) -> None:
    clock = procs.front(app="examples.sse_clock.app:app", workers=1)
    assert "new EventSource" in httpx.get(clock.url + "/").text
    with ChunkedStream(clock.port, "/clock", headers=(("Last-Event-ID", "41"),)) as s:
        assert s.read_head() == 200
        first = s.chunk()
    assert first is not None and first[1].startswith(b"event: tick\nid: 42\ndata: ")
    post = procs.front(
        "--socket-dir", str(tmp_path / "post"), app="examples.sse_post.app:app", workers=1
    )
    with ChunkedStream(post.port, "/say", method="POST", body=b"a b c") as s:
        events = events_of([p for _, p in s.chunks()])
    assert events == [
        {"event": "word", "data": "a"},
        {"event": "word", "data": "b"},
        {"event": "word", "data": "c"},
        {"event": "done", "data": '{"words": 3}'},
    ]
    r = httpx.post(post.url + "/say", headers={"accept": "text/event-stream"})
    assert r.status_code == 400
    feed = procs.front(
        "--socket-dir", str(tmp_path / "feed"), app="examples.sse_conflate.app:app", workers=1
    )
    with ChunkedStream(feed.port, "/") as s:
        payloads = [s.chunk() for _ in range(5)]
    prices = [json.loads(events_of([p[1]])[0]["data"]) for p in payloads if p is not None]
    seqs = [p["seq"] for p in prices]
    assert len(seqs) == 5 and seqs == sorted(set(seqs))
