"""Channels through the front broker: real front, two real workers, real clients.

The app is tests/apps/channels_app.py; members are WebSocket clients
(channel_clients.py) placed on both workers.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import httpx
import pytest
from channel_clients import Member, spread
from harness import Front, Processes, run_command
from websockets.exceptions import ConnectionClosed

APP = "channels_app:app"


@pytest.fixture
def front(procs: Processes) -> Front:
    """Two workers; channels queue 100 messages (the default)."""
    return procs.front(app=APP, workers=2)


@pytest.fixture
def small_front(procs: Processes) -> Front:
    """Two workers; channels queue 20 messages."""
    return procs.front("--channel-capacity", "20", app=APP, workers=2)


def test_every_member_gets_every_message_once_in_order_per_sender(front: Front) -> None:
    members = spread(front.port, "room", 4, workers=2)
    assert members[0].extensions["pagi.channels"] == {"version": "1.0"}
    per_sender = 20  # 80 in all, under the queue bound of 100: nothing may be dropped
    threads = [
        threading.Thread(
            target=lambda m=m, i=i: [
                m.group_send("room", {"type": "chat", "from": i, "n": n}) for n in range(per_sender)
            ]
        )
        for i, m in enumerate(members)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for member in members:
        got = member.got(per_sender * len(members))
        for sender in range(len(members)):
            numbers = [g["n"] for g in got if g["from"] == sender]
            assert numbers == list(range(per_sender)), (sender, numbers)
        member.nothing_more()
        member.close()


def test_group_message_from_http_reaches_websocket_and_sse(front: Front) -> None:
    members = spread(front.port, "news", 2, workers=2)
    with httpx.Client(base_url=front.url, timeout=10) as client:
        with client.stream("GET", "/feed/news", headers={"accept": "text/event-stream"}) as feed:
            lines = feed.iter_lines()
            assert json.loads(next(line for line in lines if line.startswith("data:"))[5:])
            r = client.post("/publish/news", json={"type": "news", "text": "hello"})
            assert r.status_code == 204
            data = next(line for line in lines if line.startswith("data:"))
            assert json.loads(data[5:]) == {"type": "news", "text": "hello"}
        for member in members:
            assert member.got(1) == [{"type": "news", "text": "hello"}]
        refused = client.get("/receive")
        assert refused.status_code == 500 and "http scope has no channel" in refused.text
        # not a valid group name: the app's call raises (500), nobody gets anything
        assert client.post("/publish/bad name!", json={"type": "x"}).status_code == 500
    for member in members:
        member.nothing_more()


def test_direct_send_to_a_channel_on_another_worker(front: Front) -> None:
    a, b = spread(front.port, "pair", 2, workers=2)
    a.command("send", channel=b.channel, message={"type": "direct", "v": 1})
    assert b.got(1) == [{"type": "direct", "v": 1}]
    b.command("send", channel=b.channel, message={"type": "self", "v": 2})
    assert b.got(1) == [{"type": "self", "v": 2}]
    a.nothing_more()
    # a channel that does not exist (any more): dropped, nobody else sees it
    a.command("send", channel=b.channel.rsplit("!", 1)[0] + "!c999", message={"type": "x"})
    b.command("discard", group="pair")
    b.command("stats")  # its reply follows the LEAVE through the front
    assert b.recv() == {"stats": {"groups": [], "dropped": 0}}
    a.group_send("pair", {"type": "after-discard"})
    assert a.got(1) == [{"type": "after-discard"}]
    b.nothing_more()


def test_drop_oldest_keeps_the_newest(small_front: Front) -> None:
    slow = Member(small_front.port, "feed")
    slow.command("pause")
    slow.stats()  # a round trip: the pause is in effect before the burst
    with httpx.Client(base_url=small_front.url, timeout=10) as client:
        for n in range(60):
            client.post("/publish/feed", json={"type": "tick", "n": n}).raise_for_status()
    # the forwarder may have taken the first message before it saw the pause
    taken = [m["n"] for m in slow.stats()[0]]
    assert taken in ([], [0]), taken
    slow.command("resume")
    got = [m["n"] for m in slow.got(20, timeout=10)]
    assert got == list(range(40, 60)), got  # the newest 20 survive
    slow.nothing_more()
    assert slow.stats()[1]["dropped"] == 40 - len(taken)


def test_overflow_close_closes_only_that_subscriber(small_front: Front) -> None:
    port = small_front.port
    strict = Member(port, "alerts", "overflow=close")
    others = [Member(port, "alerts") for _ in range(2)]
    assert len({strict.pid, *(o.pid for o in others)}) == 2
    strict.command("pause")
    strict.stats()
    for n in range(19):  # under the bound of 20, even in one burst
        others[0].group_send("alerts", {"type": "alert", "n": n})
    for other in others:
        assert [m["n"] for m in other.got(19)] == list(range(19))
    for n in range(19, 25):  # the strict member, paused, overflows
        others[0].group_send("alerts", {"type": "alert", "n": n})
    for other in others:  # delivered to them: then to the strict member's worker too
        assert [m["n"] for m in other.got(6)] == list(range(19, 25))
    taken = [m["n"] for m in strict.stats()[0]]
    assert taken in ([], [0]), taken
    strict.command("resume")
    replies = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            replies.append(strict.recv())
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    assert replies[-1] == {"closed": "overflow"}, replies
    # what was queued before the overflow is still received (the queue's 20),
    # then the close; the message that overflowed it is not
    numbers = taken + [r["got"]["n"] for r in replies[:-1]]
    assert numbers == list(range(20 + len(taken))), numbers
    others[1].group_send("alerts", {"type": "alert", "n": 99})
    for other in others:
        assert other.got(1) == [{"type": "alert", "n": 99}]


def test_a_killed_worker_loses_only_its_own_subscribers(front: Front) -> None:
    members = spread(front.port, "live", 4, workers=2)
    doomed_pid = members[0].pid
    doomed = [m for m in members if m.pid == doomed_pid]
    survivors = [m for m in members if m.pid != doomed_pid]
    sender = survivors[0]

    def broadcast() -> None:
        for n in range(200):
            sender.group_send("live", {"type": "t", "n": n})
            time.sleep(0.002)

    thread = threading.Thread(target=broadcast)
    thread.start()
    first = doomed[0].got(20)  # mid-broadcast: the doomed worker has delivered some
    os.kill(doomed_pid, signal.SIGKILL)
    thread.join()
    assert [g["n"] for g in first] == list(range(20))
    for m in doomed:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                m.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
    for m in survivors:  # every message, once, in order: nothing of theirs was lost
        assert [g["n"] for g in m.got(200)] == list(range(200))
        m.nothing_more()
    front.wait_for_log(r"worker .* joined", count=3)  # respawned; the group goes on
    newcomer = Member(front.port, "live")
    sender.group_send("live", {"type": "t", "n": 200})
    for m in [*survivors, newcomer]:
        assert m.got(1) == [{"type": "t", "n": 200}]


def test_sse_members_over_http2(front: Front) -> None:
    """A feed over HTTP/2 (prior-knowledge h2c) gets a group message published
    over HTTP/1.1, like one over HTTP/1.1 does."""
    headers = {"accept": "text/event-stream"}
    with (
        httpx.Client(base_url=front.url, http1=False, http2=True, timeout=10) as h2,
        httpx.Client(base_url=front.url, timeout=10) as h1,
        h2.stream("GET", "/feed/h2news", headers=headers) as feed2,
        h1.stream("GET", "/feed/h2news", headers=headers) as feed1,
    ):
        assert feed2.http_version == "HTTP/2"
        streams = [feed2.iter_lines(), feed1.iter_lines()]
        for lines in streams:
            assert "ready" in json.loads(next(ln for ln in lines if ln.startswith("data:"))[5:])
        assert h1.post("/publish/h2news", json={"type": "n", "v": 2}).status_code == 204
        for lines in streams:
            data = next(ln for ln in lines if ln.startswith("data:"))
            assert json.loads(data[5:]) == {"type": "n", "v": 2}


def test_channels_off(procs: Processes, front: Front) -> None:
    assert httpx.get(front.url + "/offered").json() == {"key": True, "ext": True}
    procs.socket_dir = procs.tmp / "sock-off"
    off = procs.front("--channels", "off", app=APP)
    assert httpx.get(off.url + "/offered").json() == {"key": False, "ext": False}


def test_bad_channels_option_is_refused() -> None:
    result = run_command("pagi-front", "--channels", "memcached://x", "--app", APP)
    assert result.returncode == 2
    assert "expected 'front', 'off' or a Redis URL" in result.stderr
