"""SSE requests to apps that only speak ASGI: replayed as http, end to end
(real front and worker; the worker's side in-process: unit/worker/test_sse_scope_replay.py).
"""

from __future__ import annotations

from pathlib import Path

import httpx
from harness import Front, Processes
from sse_client import WIRE_EVENTS, ChunkedStream

# --- apps that only speak ASGI ------------------------------------------------------------------


def seen(front: Front) -> list[str]:
    r = httpx.get(front.url + "/seen")
    return list(r.json()["seen"])


def test_asgi_app_gets_the_request_replayed_as_http(procs: Processes) -> None:
    front = procs.front(app="sse_asgi:app", workers=1)
    for _ in range(3):
        with ChunkedStream(front.port, "/stream") as s:
            assert s.read_head() == 200
            payloads = [p for _, p in s.chunks()]
            assert s.ended
        assert payloads == [f"data: plain {i}\n\n".encode() for i in range(3)]
        assert s.header("content-type") == "text/event-stream; charset=utf-8"
        assert s.header("cache-control") == "no-store"  # the app's own: an http response
    # one sse attempt, replayed; every later request was an http scope from the start
    assert seen(front) == ["lifespan", "sse", "http", "http", "http"]
    logs = front.logs()
    assert logs.count("does not handle 'sse' scopes") == 1
    assert "it raised AssertionError" in logs
    assert "exception in the app" not in logs


def test_sse_scope_off_gives_http_scopes(procs: Processes, tmp_path: Path) -> None:
    front = procs.front(app="sse_asgi:app", workers=1, env={"PAGI_SSE_SCOPE": "off"})
    with ChunkedStream(front.port, "/stream") as s:
        assert s.read_head() == 200 and len(s.chunks()) == 3
    assert seen(front) == ["lifespan", "http"]
    front2 = procs.front(
        "--socket-dir",
        str(tmp_path / "sock2"),
        app="sse_app:app",
        workers=1,
        env={"PAGI_SSE_SCOPE": "off"},
    )
    r = httpx.get(front2.url + "/wire", headers={"accept": "text/event-stream"})
    assert r.json() == {"type": "http", "path": "/wire"}


def test_sse_scope_on_never_replays(procs: Processes) -> None:
    front = procs.front(app="sse_asgi:app", workers=1, env={"PAGI_SSE_SCOPE": "on"})
    for _ in range(2):
        with ChunkedStream(front.port, "/stream") as s:
            assert s.read_head() == 500
    assert seen(front) == ["lifespan", "sse", "sse"]
    assert "does not handle 'sse' scopes" not in front.logs()
    front.wait_for_log(r"500: the app raised: AssertionError")


def test_native_app_is_not_replayed_after_it_spoke_sse(procs: Processes) -> None:
    front = procs.front(app="sse_app:app", workers=1)
    with ChunkedStream(front.port, "/wire") as s:
        assert len(s.chunks()) == len(WIRE_EVENTS)
    r = httpx.get(front.url + "/nothing", headers={"accept": "text/event-stream"})
    assert r.status_code == 500  # an error of an sse app, not a reason to replay
    with ChunkedStream(front.port, "/wire") as s:
        assert len(s.chunks()) == len(WIRE_EVENTS)
    assert "does not handle 'sse' scopes" not in front.logs()
