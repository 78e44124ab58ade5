"""A real pagi-worker's channel messages against a fake front (test_worker_link's
FakeFront): WELCOME's offer, JOIN/LEAVE per scope, delivery, and a moved
connection re-joining its groups (OPEN ``extras.channels.groups``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from front_doubles import FakeFront, FrontConn, Message
from pagi.protocol import PROTOCOL_VERSION, Event, Kind
from pagi.protocol import channel_messages as cm
from pagi.protocol import messages as m
from ws_front import open_msg


class ChannelsFront(FakeFront):
    app = "channels_app:app"


@pytest.fixture
def front(tmp_path: Path) -> Iterator[ChannelsFront]:
    f = ChannelsFront(tmp_path)
    try:
        yield f
    finally:
        f.cleanup()


def welcomed(front: FakeFront, offer: dict[str, Any] | None) -> FrontConn:
    front.listen()
    front.start_worker()
    conn = front.accept()
    assert conn.recv()[0] == Kind.HELLO
    info: dict[str, Any] = {"window": 1 << 20, "worker_id": 3, "max_frame_size": 1 << 24}
    if offer is not None:
        info["channels"] = offer
    conn.send(m.welcome(PROTOCOL_VERSION, info))
    return conn


def until(conn: FrontConn, want: Any) -> list[Message]:
    """Messages received up to and including the first ``want(msg)``."""
    seen = []
    while True:
        msg = conn.recv()
        seen.append(msg)
        if want(msg):
            return seen


def ws_text(msg: Message) -> dict[str, Any] | None:
    if msg[0] == Kind.EVENT and msg[2] == Event.WS_SEND and isinstance(msg[3], str):
        result: dict[str, Any] = json.loads(msg[3])
        return result
    return None


def test_moved_connection_rejoins_its_groups(front: ChannelsFront) -> None:
    conn = welcomed(front, {"node": "nd", "capacity": 5, "backend": "front"})
    conn.send(open_msg(1, b"/ws/room", extras={"channels": {"groups": ["moved", "x y"]}}))
    seen = until(conn, lambda msg: (ws_text(msg) or {}).get("ready") is not None)
    joins = [msg for msg in seen if msg[0] == Kind.JOIN]
    assert joins == [cm.join(1, "moved"), cm.join(1, "room")]  # the invalid name is skipped
    ready = ws_text(seen[-1])
    assert ready is not None and ready["ready"].startswith("nd.3!")
    conn.send(cm.group_deliver("moved", {"type": "t", "n": 1}))
    seen = until(conn, lambda msg: ws_text(msg) is not None)
    assert ws_text(seen[-1]) == {"got": {"type": "t", "n": 1}}
    conn.send(m.event(1, Event.WS_DISCONNECT, 1000, ""))
    seen = until(conn, lambda msg: msg[0] == Kind.END)
    seen += [conn.recv(), conn.recv()]  # the scope's channel closes as its END leaves
    leaves = [msg for msg in seen if msg[0] == Kind.LEAVE]
    assert sorted(leaves) == sorted([cm.leave(1, "moved"), cm.leave(1, "room")])


def test_no_offer_no_channels(front: ChannelsFront) -> None:
    conn = welcomed(front, None)
    conn.open(1, path=b"/offered")
    assert json.loads(conn.response(1)["body"]) == {"key": False, "ext": False}


def test_malformed_offer_drops_the_link(front: ChannelsFront) -> None:
    conn = welcomed(front, {"node": "bad node!", "capacity": 5})
    conn.expect_eof()
    assert "channels.node" in front.log()
