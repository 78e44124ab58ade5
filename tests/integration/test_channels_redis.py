"""The Redis channel backend: two pagi-front "hosts" on one machine share one
real redis-server (tests/redis_server.py); the app is tests/apps/channels_app.py."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
from channel_clients import Member
from harness import Front, Processes
from redis_server import start_redis

APP = "channels_app:app"


def two_hosts(procs: Processes, tmp_path: Path, url: str) -> tuple[Front, Front]:
    """Two fronts (own socket dirs, two workers each) sharing ``url``."""
    hosts = []
    for name in ("a", "b"):
        procs.socket_dir = tmp_path / f"sock-{name}"
        hosts.append(procs.front("--channels", url, app=APP, workers=2))
    for front in hosts:
        front.wait_for_log(r"channels: subscribed to Redis at redis://127\.0\.0\.1:\d+/0")
    return hosts[0], hosts[1]


@pytest.fixture
def redis_url(procs: Processes, tmp_path: Path) -> str:
    return start_redis(procs, tmp_path / "redis")[1]


def test_groups_span_two_fronts(procs: Processes, tmp_path: Path, redis_url: str) -> None:
    a, b = two_hosts(procs, tmp_path, redis_url)
    members = [Member(front.port, "room") for front in (a, b, a, b)]
    assert len({m.pid for m in members}) == 4  # two workers on each host
    assert members[0].channel.split(".")[0] != members[1].channel.split(".")[0]  # two nodes
    for n in range(20):
        members[0].group_send("room", {"type": "a", "n": n})
        members[1].group_send("room", {"type": "b", "n": n})
    for member in members:
        got = member.got(40)
        for kind in ("a", "b"):  # every message once, in order per sender
            assert [g["n"] for g in got if g["type"] == kind] == list(range(20)), got
        member.nothing_more()
    # a direct message to a channel behind the other front
    members[0].command("send", channel=members[1].channel, message={"type": "dm"})
    assert members[1].got(1) == [{"type": "dm"}]
    members[0].nothing_more()


def test_reconnects_after_redis_restarts(procs: Processes, tmp_path: Path, redis_url: str) -> None:
    a, b = two_hosts(procs, tmp_path, redis_url)
    on_a, on_b = Member(a.port, "feed"), Member(b.port, "feed")
    on_a.group_send("feed", {"type": "before"})
    assert on_b.got(1) == [{"type": "before"}]
    assert on_a.got(1) == [{"type": "before"}]
    redis = next(p for p in procs.started if "redis-server" in p.argv[0])
    redis.signal(signal.SIGKILL)
    redis.wait()
    for front in (a, b):
        front.wait_for_log(r"channels: Redis at .* unreachable")
    port = int(re.search(r":(\d+)/0$", redis_url).group(1))  # type: ignore[union-attr]
    start_redis(procs, tmp_path / "redis2", port)
    for front in (a, b):  # subscribed again, group memberships included
        front.wait_for_log(r"channels: subscribed to Redis", count=2, timeout=15)
    on_b.group_send("feed", {"type": "after"})
    assert on_a.got(1) == [{"type": "after"}]
    assert on_b.got(1) == [{"type": "after"}]
