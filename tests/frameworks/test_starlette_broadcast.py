"""Starlette with ``encode/broadcaster`` over pagi's channels (PagiBroadcastBackend),
under pagi-front --workers 2 (apps/starlette_broadcast_app.py): a message
published on one worker reaches the subscribers on both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
from fw import FRAMEWORK_APPS
from harness import Front, Processes
from websockets.sync.client import connect


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    procs = Processes(tmp_path_factory.mktemp("broadcast"))
    try:
        yield procs.front(app="starlette_broadcast_app:app", workers=2, app_dir=FRAMEWORK_APPS)
    finally:
        procs.cleanup()


def test_publish_reaches_subscribers_on_both_workers(front: Front) -> None:
    url = f"ws://127.0.0.1:{front.port}/ws/lobby"
    with ExitStack() as stack:
        members = [stack.enter_context(connect(url, open_timeout=10)) for _ in range(4)]
        pids = {json.loads(m.recv(timeout=10))["pid"] for m in members}
        assert len(pids) == 2, pids
        for n in range(5):
            members[0].send(f"ws {n}")
        with httpx.Client(base_url=front.url, timeout=10) as client:
            assert client.post("/publish/lobby", content="over http").status_code == 204
            assert client.post("/publish/elsewhere", content="not for lobby").status_code == 204
        for member in members:
            got = [member.recv(timeout=10) for _ in range(6)]
            assert sorted(got) == sorted([f"ws {n}" for n in range(5)] + ["over http"])
            assert [g for g in got if g.startswith("ws")] == [f"ws {n}" for n in range(5)]
            with pytest.raises(TimeoutError):
                member.recv(timeout=0.3)
