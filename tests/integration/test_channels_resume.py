"""Channel groups follow a connection that moves to a new worker (issue 13's
resume and move, docs/channels.md "Connections that move"): real front, real
workers, a real rolling reload."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
from channel_clients import Member
from harness import Processes
from test_resume import reload

APP = "channels_app:app"


def _data_lines(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    return (json.loads(line[5:]) for line in lines if line.startswith("data:"))


def test_a_resumed_event_stream_keeps_its_groups_through_a_reload(procs: Processes) -> None:
    front = procs.front(app=APP, workers=2)
    accept = {"accept": "text/event-stream"}
    with (
        httpx.Client(base_url=front.url, timeout=20) as client,
        client.stream("GET", "/feed/news", headers=accept) as feed,
    ):
        events = _data_lines(feed.iter_lines())
        first = next(events)
        assert "ready" in first
        reload(procs.socket_dir)
        resumed = next(events)
        # The new scope did not join anything itself: the front brought "news" along.
        assert resumed["groups"] == ["news"], resumed
        assert resumed["resumed"] != first["ready"]  # another worker
        r = client.post("/publish/news", json={"type": "news", "text": "after"})
        assert r.status_code == 204
        assert next(events) == {"type": "news", "text": "after"}


def test_a_moved_websocket_keeps_its_groups_through_a_reload(procs: Processes) -> None:
    front = procs.front(app=APP, workers=2)
    member = Member(front.port, "room", "movable=1")
    try:
        reload(procs.socket_dir)
        moved = member.recv(timeout=20)
        # The new scope did not join anything itself: the front brought "room" along.
        assert moved["groups"] == ["room"] and moved["moved"] != member.pid, moved
        r = httpx.post(f"{front.url}/publish/room", json={"type": "chat", "n": 1}, timeout=10)
        assert r.status_code == 204
        assert member.got(1) == [{"type": "chat", "n": 1}]
    finally:
        member.close()
