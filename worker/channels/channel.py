"""One channel: a named, bounded inbox of channel messages on this worker.

A :class:`Channel` is what an app receives on. It belongs to a scope (the
scope's own channel, ``scope["pagi.channels"]``) or to a task (an adapter's
``new_channel()``); either way it is closed when its owner ends, and closing
takes it out of every group.

Invariants:

* the queue never holds more than ``capacity`` messages: a message arriving
  at a full queue applies the overflow policy of the membership it came
  through (``drop_oldest``: the oldest queued message is discarded and
  counted in ``dropped``; ``close``: the channel closes with reason
  ``"overflow"``, and the message is not queued);
* after :meth:`close` nothing is queued any more; :meth:`receive` returns
  what was queued before the close, then raises :class:`ChannelClosed`;
* at most one task waits in :meth:`receive` at a time (a second is a
  ``RuntimeError``: one consumer per channel, as in Django Channels).
"""

from __future__ import annotations

import asyncio
from collections import deque
from enum import StrEnum
from typing import Any


class Overflow(StrEnum):
    """What a full channel does with one more message of a group."""

    DROP_OLDEST = "drop_oldest"  # feeds: the newest state matters
    CLOSE = "close"  # chats: better to lose the subscriber than a message


class ChannelClosed(Exception):
    """The channel is closed (its scope ended, overflow with policy ``close``,
    or an explicit close); ``reason`` says which."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"channel {name} is closed ({reason})")
        self.reason = reason


def parse_overflow(value: object) -> Overflow:
    try:
        return Overflow(str(value))
    except ValueError:
        choices = ", ".join(repr(o.value) for o in Overflow)
        raise ValueError(f"overflow must be one of {choices}, got {value!r:.60}") from None


class Channel:
    __slots__ = (
        "_queue",
        "_waiter",
        "capacity",
        "closed_reason",
        "dropped",
        "groups",
        "local",
        "overflow",
        "prefix",
        "scope",
    )

    def __init__(
        self, prefix: str, local: str, scope: int, capacity: int, overflow: Overflow
    ) -> None:
        self.prefix = prefix  # "<node>.<worker_id>" of the link it was made on
        self.local = local
        self.scope = scope  # the scope id it belongs to; 0 for none
        self.capacity = capacity
        self.overflow = overflow  # policy for direct (non-group) messages
        #: Groups this channel is a member of, with each membership's policy.
        self.groups: dict[str, Overflow] = {}
        self.dropped = 0
        self.closed_reason: str | None = None
        self._queue: deque[dict[str, Any]] = deque()
        self._waiter: asyncio.Future[None] | None = None

    @property
    def name(self) -> str:
        return f"{self.prefix}!{self.local}"

    def __repr__(self) -> str:
        return f"<Channel {self.name} queued={len(self._queue)} groups={len(self.groups)}>"

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, message: dict[str, Any], overflow: Overflow) -> bool:
        """Queue ``message``; False if the channel closed instead (policy ``close``)."""
        if self.closed_reason is not None:
            return True
        queue = self._queue
        if len(queue) >= self.capacity:
            if overflow is Overflow.CLOSE:
                return False
            queue.popleft()
            self.dropped += 1
        queue.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return True

    def close(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def receive_nowait(self) -> dict[str, Any] | None:
        """The oldest queued message, or None; raises ChannelClosed when closed and empty."""
        if self._queue:
            return self._queue.popleft()
        if self.closed_reason is not None:
            raise ChannelClosed(self.name, self.closed_reason)
        return None

    async def receive(self) -> dict[str, Any]:
        """The oldest message, waiting for one; ChannelClosed once closed and empty."""
        while True:
            message = self.receive_nowait()
            if message is not None:
                return message
            if self._waiter is not None:
                raise RuntimeError(f"channel {self.name} already has a receiver")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
