"""The worker's channel hub: its channels, their group memberships, local fan-out.

One :class:`ChannelHub` per worker process (:func:`~pagi.worker.channels.hub`
finds it for adapters). The front is the broker (docs/channels.md): the hub
tells it each membership (JOIN / LEAVE), sends group and remote channel
messages up, and fans each GROUP_DELIVER out to its own members, so a group
message crosses each link once whatever the number of members behind it.

Invariants:

* ``_groups[g]`` holds exactly the open channels whose ``groups`` has ``g``;
  an empty group is removed. Every membership was announced with one JOIN on
  the current link (or is announced again on :meth:`attach`), and each one
  that ends is announced with one LEAVE.
* A closed channel is in no group and not in ``_channels``; closing is
  idempotent.
* While detached (no link), group and remote messages are dropped and counted
  in ``unsent``; the channels of scopes are closed (those scopes are over),
  other memberships are kept and announced again on the next link.
* A direct message to a channel of this worker never leaves the process.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any, Protocol

from pagi.protocol import DEFAULT_MAX_FRAME_SIZE, encode
from pagi.protocol import channel_messages as cm
from pagi.protocol.kinds import CHANNEL_DELIVER, GROUP_DELIVER

from .channel import Channel, Overflow

logger = logging.getLogger("pagi.worker")

#: Default bound of a channel's queue (messages).
DEFAULT_CAPACITY = 100


class LinkSender(Protocol):
    """What the hub needs of the link to the front."""

    def send_frame(self, frame: bytes) -> None: ...


class ChannelHub:
    __slots__ = (
        "_channels",
        "_counter",
        "_groups",
        "_link",
        "by_scope",
        "capacity",
        "max_frame_size",
        "prefix",
        "unsent",
    )

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("channel capacity must be at least 1")
        self.capacity = capacity
        self.prefix = ""  # "<node>.<worker_id>", from WELCOME
        self.unsent = 0  # messages dropped while no link was up
        self.max_frame_size = DEFAULT_MAX_FRAME_SIZE  # the front's, from WELCOME
        self._link: LinkSender | None = None
        self._channels: dict[str, Channel] = {}  # local part -> channel
        #: The open channels of scopes, by scope id (read-only outside the
        #: hub: a session skips scope_ended while it is empty).
        self.by_scope: dict[int, Channel] = {}
        self._groups: dict[str, dict[Channel, Overflow]] = {}
        self._counter = itertools.count(1)

    # --- the link -------------------------------------------------------------

    def attach(self, link: LinkSender, prefix: str, max_frame_size: int) -> None:
        """A link to a front is up: name channels after it, announce memberships."""
        self._link = link
        self.prefix = prefix
        self.max_frame_size = max_frame_size
        for channel in self._channels.values():
            channel.prefix = prefix
            for group in channel.groups:
                link.send_frame(encode(cm.join(channel.scope, group)))

    def detach(self) -> None:
        """The link is gone: its scopes are over, so their channels close now
        (scope ids restart on the next link); other channels stay, and their
        memberships are announced again on :meth:`attach`."""
        self._link = None
        for channel in list(self.by_scope.values()):
            self.close_channel(channel, "link lost")

    @property
    def attached(self) -> bool:
        return self._link is not None

    def on_message(self, msg: list[Any]) -> None:
        """A validated GROUP_DELIVER or CHANNEL_DELIVER from the front."""
        kind = msg[0]
        message: dict[str, Any] = msg[cm.MESSAGE]
        if kind == GROUP_DELIVER:
            members = self._groups.get(msg[cm.NAME])
            if members:
                for channel, overflow in list(members.items()):
                    self._put(channel, dict(message), overflow)
        elif kind == CHANNEL_DELIVER:
            _prefix, local = cm.split_channel(msg[cm.NAME])
            target = self._channels.get(local)
            if target is not None:
                self._put(target, message, target.overflow)

    # --- channels ---------------------------------------------------------------

    def new_channel(
        self,
        scope: int = 0,
        capacity: int | None = None,
        overflow: Overflow = Overflow.DROP_OLDEST,
        label: str = "c",
    ) -> Channel:
        """A new open channel; ``scope`` > 0 ties it to that scope's end."""
        local = f"{label}{next(self._counter)}"
        channel = Channel(self.prefix, local, scope, capacity or self.capacity, overflow)
        self._channels[local] = channel
        if scope:
            self.by_scope[scope] = channel
        return channel

    def channel_named(self, name: str) -> Channel | None:
        """The open channel of this worker called ``name`` (None if another's or gone)."""
        prefix, local = cm.split_channel(name)
        channel = self._channels.get(local)
        return channel if channel is not None and prefix == channel.prefix else None

    def close_channel(self, channel: Channel, reason: str) -> None:
        if self._channels.get(channel.local) is not channel:
            channel.close(reason)
            return
        del self._channels[channel.local]
        if channel.scope and self.by_scope.get(channel.scope) is channel:
            del self.by_scope[channel.scope]
        for group in list(channel.groups):
            self.group_discard(channel, group)
        channel.close(reason)

    def scope_ended(self, scope: int) -> None:
        """The scope's app is over: close its channel, if it made one."""
        if self.by_scope:
            channel = self.by_scope.get(scope)
            if channel is not None:
                self.close_channel(channel, "scope ended")

    def close_with_task(self, channel: Channel, task: asyncio.Task[Any]) -> None:
        """Close ``channel`` when ``task`` ends (adapters' channels live as long
        as the scope task that made them)."""
        task.add_done_callback(lambda _t: self.close_channel(channel, "task ended"))

    # --- groups -----------------------------------------------------------------

    def group_add(self, channel: Channel, group: str, overflow: Overflow) -> None:
        if channel.closed_reason is not None:
            raise ValueError(f"channel {channel.name} is closed ({channel.closed_reason})")
        cm.check_group_name(group)
        known = group in channel.groups
        channel.groups[group] = overflow
        self._groups.setdefault(group, {})[channel] = overflow
        if not known and self._link is not None:
            self._link.send_frame(encode(cm.join(channel.scope, group)))

    def group_discard(self, channel: Channel, group: str) -> None:
        if channel.groups.pop(group, None) is None:
            return
        members = self._groups.get(group)
        if members is not None:
            members.pop(channel, None)
            if not members:
                del self._groups[group]
        if self._link is not None:
            self._link.send_frame(encode(cm.leave(channel.scope, group)))

    def members(self, group: str) -> int:
        """How many channels of this worker are in ``group``."""
        return len(self._groups.get(group, ()))

    # --- sending ----------------------------------------------------------------

    def group_send(self, group: str, message: dict[str, Any]) -> None:
        cm.check_group_name(group)
        cm.check_message(message)
        self._up(cm.group_send(group, message))

    def send(self, name: str, message: dict[str, Any]) -> None:
        cm.check_channel_name(name)
        cm.check_message(message)
        prefix, local = cm.split_channel(name)
        if prefix == self.prefix:
            channel = self._channels.get(local)
            if channel is not None:
                self._put(channel, message, channel.overflow)
            return
        self._up(cm.channel_send(name, message))

    def _up(self, msg: list[Any]) -> None:
        """Send a message to the front: encoded here (a message msgpack cannot
        pack raises TypeError in the app's call), refused if over the front's
        frame limit (which would otherwise cost the whole link)."""
        frame = encode(msg)
        if len(frame) > self.max_frame_size:
            raise ValueError(
                f"channel message of {len(frame)} bytes is over the link's frame limit "
                f"({self.max_frame_size} bytes)"
            )
        link = self._link
        if link is None:
            self.unsent += 1
            return
        link.send_frame(frame)

    def _put(self, channel: Channel, message: dict[str, Any], overflow: Overflow) -> None:
        if not channel.put(message, overflow):
            logger.warning(
                "channel %s closed: its queue of %d messages is full (overflow policy 'close')",
                channel.name,
                channel.capacity,
            )
            self.close_channel(channel, "overflow")
