"""Channel (fan-out) messages of the worker link: names, field checks, constructors.

The channel layer lets apps on different workers talk through named *groups*
and *channels* (docs/channels.md). The front is the broker: a worker tells it
which groups its channels joined (JOIN / LEAVE), sends group and channel
messages up (GROUP_SEND / CHANNEL_SEND), and gets each group message once, not
once per member (GROUP_DELIVER), fanning it out to its own members itself.

Messages (kinds 20-25, all link messages: ``scope_id`` is 0):

=====================  ==============  ======================================
kind                   direction       fields after ``[kind, scope_id]``
=====================  ==============  ======================================
JOIN (20)              worker -> front ``scope: int >= 0``, ``group: str``
LEAVE (21)             worker -> front ``scope: int >= 0``, ``group: str``
GROUP_SEND (22)        worker -> front ``group: str``, ``message: map``
CHANNEL_SEND (23)      worker -> front ``channel: str``, ``message: map``
GROUP_DELIVER (24)     front -> worker ``group: str``, ``message: map``
CHANNEL_DELIVER (25)   front -> worker ``channel: str``, ``message: map``
=====================  ==============  ======================================

Invariants the checks enforce: a group name is 1-100 characters of ASCII
letters, digits, ``-``, ``_`` and ``.`` (the names Django Channels accepts); a
channel name is ``<prefix>!<local>`` where both parts follow the group rule
(a pagi channel's prefix is ``<node>.<worker_id>``, see :func:`channel_prefix`);
a message is a map with a str ``type``. JOIN/LEAVE's ``scope`` is the scope
whose channel joined or left (0: a channel of no scope), so the front knows a
connection's groups (to restore them when the connection resumes on another
worker); it sees one JOIN per membership and one LEAVE for each.
"""

from __future__ import annotations

import re
from typing import Any, Final

from .field_checks import is_non_negative_int
from .kinds import Kind

#: Longest group or channel name (Django Channels' limit too).
MAX_NAME_LENGTH: Final = 100

_GROUP_RE = re.compile(r"[A-Za-z0-9_.\-]{1,100}\Z")
_CHANNEL_RE = re.compile(r"([A-Za-z0-9_.\-]{1,99})!([A-Za-z0-9_.\-]{1,99})\Z")

# Field positions.
NAME: Final = 2  # group or channel (GROUP_*/CHANNEL_*)
MESSAGE: Final = 3
MEMBER_SCOPE: Final = 2  # JOIN / LEAVE
MEMBER_GROUP: Final = 3


def is_group_name(value: object) -> bool:
    return type(value) is str and _GROUP_RE.match(value) is not None


def is_channel_name(value: object) -> bool:
    return (
        type(value) is str
        and len(value) <= MAX_NAME_LENGTH
        and _CHANNEL_RE.match(value) is not None
    )


def is_channel_message(value: object) -> bool:
    return type(value) is dict and type(value.get("type")) is str


def check_group_name(group: object) -> str:
    """``group`` if valid, else a ValueError naming the rule (for app-facing calls)."""
    if not is_group_name(group):
        raise ValueError(
            f"invalid group name {group!r:.120}: 1-{MAX_NAME_LENGTH} characters of "
            "ASCII letters, digits, '-', '_' and '.'"
        )
    return group  # type: ignore[return-value]


def check_channel_name(channel: object) -> str:
    if not is_channel_name(channel):
        raise ValueError(
            f"invalid channel name {channel!r:.120}: '<prefix>!<local>', at most "
            f"{MAX_NAME_LENGTH} characters of ASCII letters, digits, '-', '_' and '.'"
        )
    return channel  # type: ignore[return-value]


def check_message(message: object) -> dict[str, Any]:
    if type(message) is not dict:
        raise TypeError(f"a channel message must be a dict, got {type(message).__name__}")
    if type(message.get("type")) is not str:
        raise ValueError("a channel message must have a str 'type' key")
    return message


def split_channel(channel: str) -> tuple[str, str]:
    """``(prefix, local)`` of a valid channel name."""
    prefix, _, local = channel.partition("!")
    return prefix, local


def channel_prefix(node: str, worker_id: int) -> str:
    """The prefix of the channels of worker ``worker_id`` behind front ``node``."""
    return f"{node}.{worker_id}"


def parse_prefix(prefix: str) -> tuple[str, int] | None:
    """``(node, worker_id)`` of a pagi channel prefix, or None if it is not one."""
    node, _, wid = prefix.rpartition(".")
    if not node or not wid.isdigit():
        return None
    return node, int(wid)


#: Field checks after ``[kind, scope_id]`` (joined into the link's table by
#: :mod:`pagi.protocol.messages`).
FIELDS: Final[dict[int, tuple[Any, ...]]] = {
    Kind.JOIN: (is_non_negative_int, is_group_name),
    Kind.LEAVE: (is_non_negative_int, is_group_name),
    Kind.GROUP_SEND: (is_group_name, is_channel_message),
    Kind.CHANNEL_SEND: (is_channel_name, is_channel_message),
    Kind.GROUP_DELIVER: (is_group_name, is_channel_message),
    Kind.CHANNEL_DELIVER: (is_channel_name, is_channel_message),
}
#: Every channel kind is a link message (scope_id 0).
LINK_KINDS: Final = frozenset(FIELDS)
FROM_WORKER: Final = frozenset({Kind.JOIN, Kind.LEAVE, Kind.GROUP_SEND, Kind.CHANNEL_SEND})
FROM_FRONT: Final = frozenset({Kind.GROUP_DELIVER, Kind.CHANNEL_DELIVER})


# --- constructors -------------------------------------------------------------


def join(scope: int, group: str) -> list[Any]:
    return [Kind.JOIN, 0, scope, group]


def leave(scope: int, group: str) -> list[Any]:
    return [Kind.LEAVE, 0, scope, group]


def group_send(group: str, message: dict[str, Any]) -> list[Any]:
    return [Kind.GROUP_SEND, 0, group, message]


def channel_send(channel: str, message: dict[str, Any]) -> list[Any]:
    return [Kind.CHANNEL_SEND, 0, channel, message]


def group_deliver(group: str, message: dict[str, Any]) -> list[Any]:
    return [Kind.GROUP_DELIVER, 0, group, message]


def channel_deliver(channel: str, message: dict[str, Any]) -> list[Any]:
    return [Kind.CHANNEL_DELIVER, 0, channel, message]
