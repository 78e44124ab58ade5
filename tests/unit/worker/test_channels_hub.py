"""The worker's channel hub and channels, with a recording link (no front)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pagi.protocol import LinkDecoder
from pagi.protocol import channel_messages as cm
from pagi.worker.channels import ChannelClosed, ChannelHub, Overflow, ScopeChannels, Sender


class Link:
    def __init__(self) -> None:
        self.decoder = LinkDecoder("front")
        self.sent: list[list[Any]] = []

    def send_frame(self, frame: bytes) -> None:
        self.sent.extend(self.decoder.feed(frame))


def attached(capacity: int = 3) -> tuple[ChannelHub, Link]:
    hub = ChannelHub(capacity)
    link = Link()
    hub.attach(link, "node.1", 1 << 20)
    return hub, link


def test_memberships_are_announced_once_and_withdrawn() -> None:
    hub, link = attached()
    a, b = hub.new_channel(scope=5), hub.new_channel()
    hub.group_add(a, "g", Overflow.DROP_OLDEST)
    hub.group_add(a, "g", Overflow.CLOSE)  # again: policy changes, no second JOIN
    hub.group_add(b, "g", Overflow.DROP_OLDEST)
    assert link.sent == [cm.join(5, "g"), cm.join(0, "g")]
    assert a.groups == {"g": Overflow.CLOSE} and hub.members("g") == 2
    hub.scope_ended(5)  # closes a's channel: leaves its groups
    assert link.sent[-1] == cm.leave(5, "g") and a.closed_reason == "scope ended"
    hub.close_channel(b, "done")
    hub.close_channel(b, "again")  # idempotent
    assert link.sent[-1] == cm.leave(0, "g") and hub.members("g") == 0
    assert len(link.sent) == 4


def test_group_delivery_fans_out_locally_with_copies() -> None:
    hub, _link = attached()
    a, b = hub.new_channel(), hub.new_channel()
    for ch in (a, b):
        hub.group_add(ch, "g", Overflow.DROP_OLDEST)
    hub.on_message(cm.group_deliver("g", {"type": "x", "n": 1}))
    hub.on_message(cm.group_deliver("other", {"type": "x"}))
    first, second = a.receive_nowait(), b.receive_nowait()
    assert first == second == {"type": "x", "n": 1} and first is not second
    assert a.receive_nowait() is None


def test_drop_oldest_bound_crossed() -> None:
    hub, _link = attached(capacity=3)
    ch = hub.new_channel()
    hub.group_add(ch, "feed", Overflow.DROP_OLDEST)
    for n in range(5):
        hub.on_message(cm.group_deliver("feed", {"type": "t", "n": n}))
    assert len(ch) == 3 and ch.dropped == 2
    assert [ch.receive_nowait()["n"] for _ in range(3)] == [2, 3, 4]  # type: ignore[index]


def test_close_policy_bound_crossed() -> None:
    async def main() -> None:
        hub, link = attached(capacity=2)
        ch = hub.new_channel(scope=9)
        hub.group_add(ch, "chat", Overflow.CLOSE)
        for n in range(3):
            hub.on_message(cm.group_deliver("chat", {"type": "t", "n": n}))
        assert ch.closed_reason == "overflow" and link.sent[-1] == cm.leave(9, "chat")
        assert [(await ch.receive())["n"] for _ in range(2)] == [0, 1]
        with pytest.raises(ChannelClosed) as info:
            await ch.receive()
        assert info.value.reason == "overflow"

    asyncio.run(main())


def test_send_stays_local_for_own_channels_and_goes_up_otherwise() -> None:
    hub, link = attached()
    ch = hub.new_channel()
    hub.send(ch.name, {"type": "self"})
    assert ch.receive_nowait() == {"type": "self"} and link.sent == []
    hub.send("node.2!c1", {"type": "other"})
    hub.group_send("g", {"type": "g"})
    assert link.sent == [
        cm.channel_send("node.2!c1", {"type": "other"}),
        cm.group_send("g", {"type": "g"}),
    ]
    hub.on_message(cm.channel_deliver(ch.name, {"type": "via front"}))
    hub.on_message(cm.channel_deliver("node.1!gone", {"type": "x"}))  # gone: ignored
    assert ch.receive_nowait() == {"type": "via front"}


def test_bad_input_raises_in_the_call_and_sends_nothing() -> None:
    hub, link = attached()
    with pytest.raises(ValueError, match="invalid group name"):
        hub.group_send("no spaces", {"type": "x"})
    with pytest.raises(ValueError, match="str 'type'"):
        hub.group_send("g", {"kind": "x"})
    with pytest.raises(TypeError):
        hub.group_send("g", {"type": "x", "bad": object()})  # msgpack cannot pack it
    hub.max_frame_size = 1000
    with pytest.raises(ValueError, match="over the link's frame limit"):
        hub.group_send("g", {"type": "x", "blob": b"\x00" * 1000})
    hub.group_send("g", {"type": "x", "blob": b"\x00" * 900})  # under it: sent
    assert len(link.sent) == 1


def test_detached_hub_keeps_memberships_and_announces_them_on_attach() -> None:
    hub = ChannelHub(10)
    ch = hub.new_channel()
    hub.group_add(ch, "g", Overflow.DROP_OLDEST)
    hub.group_send("g", {"type": "lost"})
    assert hub.unsent == 1
    link = Link()
    hub.attach(link, "n2.4", 1 << 20)
    assert link.sent == [cm.join(0, "g")] and ch.name == "n2.4!" + ch.local


def test_losing_the_link_closes_the_scope_channels_only() -> None:
    hub, _link = attached()
    scoped, free = hub.new_channel(scope=4), hub.new_channel()
    for ch in (scoped, free):
        hub.group_add(ch, "g", Overflow.DROP_OLDEST)
    hub.detach()
    assert scoped.closed_reason == "link lost" and free.closed_reason is None
    link = Link()
    hub.attach(link, "n3.1", 1 << 20)
    assert link.sent == [cm.join(0, "g")]
    hub.scope_ended(4)  # an id of the new link: nothing of the old one is touched
    assert free.closed_reason is None


def test_scope_api() -> None:
    async def main() -> None:
        hub, link = attached()
        http = Sender(hub)
        with pytest.raises(RuntimeError, match="http scope has no channel"):
            await http.receive()
        await http.group_send("g", {"type": "x"})
        scope = ScopeChannels(hub, 7)
        assert scope.groups == [] and link.sent == [cm.group_send("g", {"type": "x"})]
        await scope.group_add("g", overflow="close")
        with pytest.raises(ValueError, match="overflow must be one of"):
            await scope.group_add("g", overflow="sometimes")
        assert scope.groups == ["g"]
        moved = ScopeChannels(hub, 8, restore=["a", "b", "not valid!"])
        assert moved.groups == ["a", "b"]
        assert link.sent[-2:] == [cm.join(8, "a"), cm.join(8, "b")]
        second = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already has a receiver"):
            await scope.receive()
        second.cancel()

    asyncio.run(main())
