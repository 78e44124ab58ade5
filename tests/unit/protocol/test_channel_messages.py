"""The channel kinds of the link (20-25): names, messages, and the codec's checks."""

from __future__ import annotations

from typing import Any

import pytest
from pagi.protocol import LinkDecoder, LinkError, encode
from pagi.protocol import channel_messages as cm


def decode_at_front(msg: list[Any]) -> list[Any]:
    [decoded] = LinkDecoder("front").feed(encode(msg))
    return decoded


def decode_at_worker(msg: list[Any]) -> list[Any]:
    [decoded] = LinkDecoder("worker").feed(encode(msg))
    return decoded


def test_names() -> None:
    assert cm.is_group_name("room.lobby-1_x")
    assert cm.is_group_name("a" * 100)
    assert not cm.is_group_name("a" * 101)  # the limit, crossed
    for bad in ("", "has space", "é", "a!b", 7, None):
        assert not cm.is_group_name(bad)
    assert cm.is_channel_name("n1.2!c3")
    assert not cm.is_channel_name("n1.2")  # no local part
    assert not cm.is_channel_name("!c3")
    assert not cm.is_channel_name("a" * 50 + "!" + "b" * 50)  # 101 characters
    assert cm.is_channel_name("a" * 50 + "!" + "b" * 49)
    assert cm.parse_prefix("abcd.12") == ("abcd", 12)
    assert cm.parse_prefix("abcd") is None and cm.parse_prefix("abcd.x") is None
    assert cm.split_channel("abcd.12!c5") == ("abcd.12", "c5")


def test_app_facing_checks_name_the_problem() -> None:
    with pytest.raises(ValueError, match="invalid group name 'bad name'"):
        cm.check_group_name("bad name")
    with pytest.raises(ValueError, match="invalid channel name"):
        cm.check_channel_name("nobang")
    with pytest.raises(TypeError, match="must be a dict, got list"):
        cm.check_message([1])
    with pytest.raises(ValueError, match="str 'type' key"):
        cm.check_message({"type": 1})


def test_round_trip_in_the_allowed_direction() -> None:
    message = {"type": "chat", "text": "hé", "raw": b"\x00", "n": [1, 2.5, None]}
    for msg in (cm.join(3, "g"), cm.leave(0, "g"), cm.group_send("g", message)):
        assert decode_at_front(msg) == msg
    assert decode_at_front(cm.channel_send("n.1!c1", message)) == cm.channel_send("n.1!c1", message)
    assert decode_at_worker(cm.group_deliver("g", message)) == cm.group_deliver("g", message)
    assert decode_at_worker(cm.channel_deliver("n.1!c1", message))[3] == message


@pytest.mark.parametrize(
    "msg",
    [
        [20, 0, -1, "g"],  # negative scope
        [20, 0, 1, "bad name"],
        [20, 5, 1, "g"],  # a link message with a scope id
        [21, 0, "1", "g"],
        [22, 0, "g", {"no": "type"}],
        [22, 0, "g", {"type": "x"}, "extra"],
        [23, 0, "nobang", {"type": "x"}],
        [24, 0, "g", {"type": "x"}],  # front -> worker kind sent by a worker
    ],
)
def test_malformed_from_a_worker(msg: list[Any]) -> None:
    with pytest.raises(LinkError):
        decode_at_front(msg)


@pytest.mark.parametrize(
    "msg",
    [
        [24, 0, "g", "not a map"],
        [25, 0, "g", {"type": "x"}],  # a group name where a channel name goes
        [22, 0, "g", {"type": "x"}],  # worker -> front kind sent by a front
    ],
)
def test_malformed_from_a_front(msg: list[Any]) -> None:
    with pytest.raises(LinkError):
        decode_at_worker(msg)
