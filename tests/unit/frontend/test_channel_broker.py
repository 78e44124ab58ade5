"""The front's channel broker with fake links: membership, one copy per worker,
loss of a worker, backed-up links."""

from __future__ import annotations

from typing import Any

import pytest
from pagi.frontend.channels.broker import ChannelBroker
from pagi.protocol import LinkDecoder
from pagi.protocol import channel_messages as cm


class FakeLink:
    def __init__(self, worker_id: int, backlog: int = 0) -> None:
        self.worker_id = worker_id
        self.backlog = backlog
        self.decoder = LinkDecoder("worker")
        self.got: list[list[Any]] = []

    def send_frame_bounded(self, frame: bytes, limit: int) -> bool:
        if self.backlog > limit:
            return False
        self.got.extend(self.decoder.feed(frame))
        return True


class FakeRelay:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def subscribe(self, group: str) -> None:
        self.calls.append(("sub", group))

    def unsubscribe(self, group: str) -> None:
        self.calls.append(("unsub", group))

    def publish_group(self, group: str, message: dict[str, Any]) -> None:
        self.calls.append(("group", group, message))

    def publish_channel(self, node: str, channel: str, message: dict[str, Any]) -> None:
        self.calls.append(("channel", node, channel, message))


def setup(n: int = 3) -> tuple[ChannelBroker, list[FakeLink]]:
    broker = ChannelBroker("nd", 100, 1000)
    links = [FakeLink(i + 1) for i in range(n)]
    for link in links:
        broker.link_added(link)
    return broker, links


def test_one_copy_per_worker_whatever_the_members() -> None:
    broker, (a, b, c) = setup()
    for sid in (1, 2, 3):
        broker.on_message(a, cm.join(sid, "g"))
    broker.on_message(b, cm.join(0, "g"))
    broker.on_message(c, cm.group_send("g", {"type": "x"}))
    assert a.got == b.got == [cm.group_deliver("g", {"type": "x"})]
    assert c.got == [] and broker.members("g") == 2
    assert broker.groups_of(a, 2) == ["g"] and broker.groups_of(b, 0) == []


def test_leave_counts_and_link_loss() -> None:
    broker, (a, b, _c) = setup()
    broker.on_message(a, cm.join(1, "g"))
    broker.on_message(a, cm.join(2, "g"))
    broker.on_message(a, cm.leave(1, "g"))
    broker.on_message(a, cm.leave(1, "g"))  # crossed / duplicate: ignored
    assert broker.members("g") == 1 and broker.groups_of(a, 1) == []
    broker.on_message(b, cm.join(4, "g"))
    broker.link_lost(a)  # its members are gone; b's are not
    assert broker.members("g") == 1
    assert broker.groups_of(a, 2) == ["g"]  # kept for its connections to resume elsewhere
    broker.on_message(b, cm.group_send("g", {"type": "x"}))
    assert a.got == [] and b.got == [cm.group_deliver("g", {"type": "x"})]


def test_channel_send_routes_by_prefix() -> None:
    broker, (a, b, _c) = setup()
    broker.on_message(a, cm.channel_send("nd.2!c9", {"type": "dm"}))
    broker.on_message(a, cm.channel_send("nd.7!c9", {"type": "no such worker"}))
    broker.on_message(a, cm.channel_send("other.2!c9", {"type": "other front, no relay"}))
    broker.on_message(a, cm.channel_send("plain!c9", {"type": "not a pagi name"}))
    assert b.got == [cm.channel_deliver("nd.2!c9", {"type": "dm"})] and a.got == []


def test_backed_up_link_loses_messages_not_the_others() -> None:
    broker, (a, b, _c) = setup()
    a.backlog = 5000  # over the broker's limit of 1000
    for link in (a, b):
        broker.on_message(link, cm.join(0, "g"))
    broker.on_message(b, cm.group_send("g", {"type": "x"}))
    assert a.got == [] and len(b.got) == 1
    assert broker.dropped == 1 and broker.delivered == 1


def test_relay_subscribes_per_group_and_carries_sends() -> None:
    broker, (a, b, _c) = setup()
    relay = FakeRelay()
    broker.relay = relay
    broker.on_message(a, cm.join(1, "g"))
    broker.on_message(b, cm.join(1, "g"))  # already subscribed
    broker.on_message(a, cm.group_send("g", {"type": "x"}))
    broker.on_message(a, cm.channel_send("far.1!c1", {"type": "dm"}))
    broker.on_message(a, cm.channel_send("nd.2!c1", {"type": "local"}))
    broker.link_lost(a)
    broker.on_message(b, cm.leave(1, "g"))
    assert relay.calls == [
        ("sub", "g"),
        ("group", "g", {"type": "x"}),
        ("channel", "far", "far.1!c1", {"type": "dm"}),
        ("unsub", "g"),
    ]
    assert a.got == [] and b.got == [cm.channel_deliver("nd.2!c1", {"type": "local"})]


def test_lost_links_memberships_are_bounded() -> None:
    broker = ChannelBroker("nd", 100, 1000)
    links = [FakeLink(i) for i in range(1, 12)]
    for link in links:
        broker.link_added(link)
        broker.on_message(link, cm.join(1, f"g{link.worker_id}"))
        broker.link_lost(link)
    assert broker.groups_of(links[0], 1) == []  # forgotten: more than 8 were lost since
    assert broker.groups_of(links[-1], 1) == ["g11"]


def test_redis_backend_without_redis_py_names_the_extra(monkeypatch: Any) -> None:
    import sys

    from pagi.frontend.channels import ChannelsError, make_broker, start_relay
    from pagi.frontend.config import FrontConfig

    monkeypatch.setitem(sys.modules, "redis.asyncio", None)  # "not installed"
    config = FrontConfig(channels="redis://127.0.0.1:1/0")
    with pytest.raises(ChannelsError, match=r"pip install 'pagi-server\[redis\]'"):
        start_relay(config, make_broker(config))
    assert make_broker(FrontConfig(channels="off")) is None
    assert start_relay(FrontConfig(), make_broker(FrontConfig())) is None  # front: no relay
