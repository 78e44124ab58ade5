"""The front's channel broker: group membership per worker, one copy per worker.

Workers tell the broker each membership of their channels (JOIN / LEAVE, with
the scope the channel belongs to); a GROUP_SEND from any worker becomes one
GROUP_DELIVER frame, encoded once and queued on every link with at least one
member, and the worker fans it out to its members. A CHANNEL_SEND goes to the
one worker named by the channel's prefix (``<node>.<worker_id>``).

With a relay (the Redis backend, :mod:`.redis_relay`), group and channel
messages travel through it instead and come back through :meth:`deliver_group`
/ :meth:`deliver_channel`, so every front sharing the relay sees them; the
broker then subscribes the relay to a group while any local worker has a
member.

Invariants:

* ``_members[g][link]`` is the number of memberships of ``g`` on ``link``
  (> 0; a zero entry is removed, and an empty group with it), and
  ``_scopes[link][sid][g]`` counts the same per scope (sid 0: channels of no
  scope), so their sums agree; a LEAVE that matches no JOIN of its scope
  changes nothing; :meth:`groups_of` reads a moved connection's groups;
* a link that is gone (:meth:`link_lost`) is in no group: its subscribers are
  lost, nobody else's;
* a frame for a link with more than ``backlog_limit`` bytes already waiting
  is dropped for that link and counted (``dropped``): a slow worker loses
  channel messages, never its link or other workers' messages;
* messages from one worker are delivered in the order they were sent (the
  link is ordered, and fan-out happens as each message is read).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from pagi.protocol import channel_messages as cm
from pagi.protocol.codec import encode
from pagi.protocol.kinds import CHANNEL_SEND, GROUP_SEND, JOIN, LEAVE

logger = logging.getLogger("pagi.front")

#: Lost links whose per-scope memberships are kept for groups_of.
MAX_ORPHANS = 8


class ChannelLink(Protocol):
    """What the broker needs of a worker link."""

    worker_id: int

    def send_frame_bounded(self, frame: bytes, limit: int) -> bool: ...


class Relay(Protocol):
    """A backend that carries group and channel messages between fronts."""

    def subscribe(self, group: str) -> None: ...
    def unsubscribe(self, group: str) -> None: ...
    def publish_group(self, group: str, message: dict[str, Any]) -> None: ...
    def publish_channel(self, node: str, channel: str, message: dict[str, Any]) -> None: ...


class ChannelBroker:
    __slots__ = (
        "_links",
        "_members",
        "_orphans",
        "_scopes",
        "backlog_limit",
        "capacity",
        "delivered",
        "dropped",
        "node",
        "relay",
    )

    def __init__(self, node: str, capacity: int, backlog_limit: int) -> None:
        self.node = node
        self.capacity = capacity  # each channel's queue bound, told to workers
        self.backlog_limit = backlog_limit
        self.relay: Relay | None = None
        self.delivered = 0  # frames queued to workers
        self.dropped = 0  # frames not queued: the worker's link was backed up
        self._links: dict[int, ChannelLink] = {}  # worker_id -> link
        self._members: dict[str, dict[ChannelLink, int]] = {}
        self._scopes: dict[ChannelLink, dict[int, dict[str, int]]] = {}
        # The per-scope memberships of the last few links lost, so that the
        # connections of a worker that died can take their groups along when
        # they resume elsewhere (groups_of); bounded, oldest forgotten first.
        self._orphans: dict[ChannelLink, dict[int, dict[str, int]]] = {}

    # --- the pool --------------------------------------------------------------

    def link_added(self, link: ChannelLink) -> None:
        self._links[link.worker_id] = link

    def link_lost(self, link: ChannelLink) -> None:
        """The worker is gone: forget every membership it had."""
        if self._links.get(link.worker_id) is link:
            del self._links[link.worker_id]
        scopes = self._scopes.pop(link, None)
        if scopes:
            self._orphans[link] = scopes
            if len(self._orphans) > MAX_ORPHANS:
                del self._orphans[next(iter(self._orphans))]
        for group in [g for g, members in self._members.items() if link in members]:
            members = self._members[group]
            del members[link]
            if not members:
                self._group_empty(group)

    def groups_of(self, link: ChannelLink, sid: int) -> list[str]:
        """The groups scope ``sid`` of ``link`` is in: what a connection moving
        to another worker takes along (OPEN ``extras["channels"]["groups"]``).
        Also answers for the last :data:`MAX_ORPHANS` links lost (a worker
        that died: its connections resume elsewhere)."""
        scopes = self._scopes.get(link) or self._orphans.get(link)
        groups = scopes.get(sid) if scopes is not None and sid else None
        return list(groups) if groups else []

    def members(self, group: str) -> int:
        """Workers with at least one member of ``group`` (for tests and metrics)."""
        return len(self._members.get(group, ()))

    # --- from workers ----------------------------------------------------------

    def on_message(self, link: ChannelLink, msg: list[Any]) -> None:
        """A validated JOIN, LEAVE, GROUP_SEND or CHANNEL_SEND from ``link``."""
        kind = msg[0]
        if kind == GROUP_SEND:
            self._group_send(msg[cm.NAME], msg[cm.MESSAGE])
        elif kind == CHANNEL_SEND:
            self._channel_send(msg[cm.NAME], msg[cm.MESSAGE])
        elif kind == JOIN:
            self._join(link, msg[cm.MEMBER_SCOPE], msg[cm.MEMBER_GROUP])
        elif kind == LEAVE:
            self._leave(link, msg[cm.MEMBER_SCOPE], msg[cm.MEMBER_GROUP])

    def _join(self, link: ChannelLink, sid: int, group: str) -> None:
        members = self._members.get(group)
        if members is None:
            members = self._members[group] = {}
            if self.relay is not None:
                self.relay.subscribe(group)
        members[link] = members.get(link, 0) + 1
        per_scope = self._scopes.setdefault(link, {}).setdefault(sid, {})
        per_scope[group] = per_scope.get(group, 0) + 1

    def _leave(self, link: ChannelLink, sid: int, group: str) -> None:
        scopes = self._scopes.get(link)
        per_scope = scopes.get(sid) if scopes is not None else None
        if scopes is None or per_scope is None or group not in per_scope:
            return  # crossed a link_lost, or a LEAVE without its JOIN: nothing to undo
        if per_scope[group] > 1:
            per_scope[group] -= 1
        else:
            del per_scope[group]
            if not per_scope:
                del scopes[sid]
        members = self._members[group]
        if members[link] > 1:
            members[link] -= 1
        else:
            del members[link]
            if not members:
                self._group_empty(group)

    def _group_empty(self, group: str) -> None:
        del self._members[group]
        if self.relay is not None:
            self.relay.unsubscribe(group)

    def _group_send(self, group: str, message: dict[str, Any]) -> None:
        if self.relay is not None:
            self.relay.publish_group(group, message)
        else:
            self.deliver_group(group, message)

    def _channel_send(self, channel: str, message: dict[str, Any]) -> None:
        target = cm.parse_prefix(cm.split_channel(channel)[0])
        if target is None:
            return  # not a pagi channel: nobody to deliver to
        node, _worker_id = target
        if node == self.node or self.relay is None:
            self.deliver_channel(channel, message)
        else:
            self.relay.publish_channel(node, channel, message)

    # --- to workers --------------------------------------------------------------

    def deliver_group(self, group: str, message: dict[str, Any]) -> None:
        """One copy of a group message to each local worker with a member."""
        members = self._members.get(group)
        if not members:
            return
        frame = encode(cm.group_deliver(group, message))
        for link in members:
            self._queue(link, frame)

    def deliver_channel(self, channel: str, message: dict[str, Any]) -> None:
        """A channel message to the local worker that owns the channel."""
        target = cm.parse_prefix(cm.split_channel(channel)[0])
        if target is None or target[0] != self.node:
            return
        link = self._links.get(target[1])
        if link is not None:
            self._queue(link, encode(cm.channel_deliver(channel, message)))

    def _queue(self, link: ChannelLink, frame: bytes) -> None:
        if link.send_frame_bounded(frame, self.backlog_limit):
            self.delivered += 1
        else:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning(
                    "channels: worker #%d is not reading its link fast enough; "
                    "%d channel message(s) dropped so far",
                    link.worker_id,
                    self.dropped,
                )
