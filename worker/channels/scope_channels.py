"""``scope["pagi.channels"]``: the channel API a scope's app sees.

A websocket or sse scope gets a :class:`ScopeChannels` of its own: its channel
(made on first use, closed when the scope's app returns) is what
:meth:`ScopeChannels.receive` reads and what :meth:`ScopeChannels.group_add`
puts in a group. An http scope gets the worker's shared :class:`Sender` (no
per-request object, no per-request work): it can ``group_send`` and ``send``
(a POST that posts into a chat room), but it has no channel to receive on.

Every method is a coroutine, as in Django Channels' layer API, although none
waits for the front except :meth:`ScopeChannels.receive`.
"""

from __future__ import annotations

from typing import Any

from pagi.protocol import channel_messages as cm

from .channel import Channel, Overflow, parse_overflow
from .hub import ChannelHub


class Sender:
    """The send-only half of the API (http scopes, and the base of ScopeChannels)."""

    __slots__ = ("_hub",)

    def __init__(self, hub: ChannelHub) -> None:
        self._hub = hub

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send ``message`` (a msgpack-able dict with a str ``type``) to every
        member of ``group`` on every worker (none: nothing happens)."""
        self._hub.group_send(group, message)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Send ``message`` to one channel, on any worker (gone: dropped)."""
        self._hub.send(channel, message)

    def _no_channel(self) -> RuntimeError:
        return RuntimeError(
            "an http scope has no channel of its own: it can group_send() and send(); "
            "receive on a websocket or sse scope"
        )

    @property
    def name(self) -> str:
        raise self._no_channel()

    async def group_add(self, group: str, overflow: str = "drop_oldest") -> None:
        raise self._no_channel()

    async def group_discard(self, group: str) -> None:
        raise self._no_channel()

    async def receive(self) -> dict[str, Any]:
        raise self._no_channel()


class ScopeChannels(Sender):
    """The channel API of one websocket or sse scope."""

    __slots__ = ("_channel", "_restore", "_sid")

    def __init__(self, hub: ChannelHub, sid: int, restore: list[str] | None = None) -> None:
        super().__init__(hub)
        self._sid = sid
        self._channel: Channel | None = None
        if restore:
            # The connection moved here from another worker (pagi.resume): its
            # groups follow it.
            channel = self._own()
            for group in restore:
                if cm.is_group_name(group):
                    hub.group_add(channel, group, Overflow.DROP_OLDEST)

    def _own(self) -> Channel:
        channel = self._channel
        if channel is None:
            channel = self._channel = self._hub.new_channel(self._sid)
        return channel

    @property
    def name(self) -> str:
        """This scope's channel name (``send`` to it from any worker)."""
        return self._own().name

    @property
    def groups(self) -> list[str]:
        """The groups this scope's channel is in."""
        return [] if self._channel is None else list(self._channel.groups)

    @property
    def dropped(self) -> int:
        """Messages discarded by the ``drop_oldest`` policy so far."""
        return 0 if self._channel is None else self._channel.dropped

    async def group_add(self, group: str, overflow: str = "drop_oldest") -> None:
        """Join ``group``; when this scope's queue is full, a message of this
        group either discards the oldest queued one (``drop_oldest``) or closes
        the channel (``close``: :meth:`receive` raises ChannelClosed)."""
        self._hub.group_add(self._own(), group, parse_overflow(overflow))

    async def group_discard(self, group: str) -> None:
        if self._channel is not None:
            self._hub.group_discard(self._channel, group)

    async def receive(self) -> dict[str, Any]:
        """The next channel message for this scope (waits for one)."""
        return await self._own().receive()

    def receive_nowait(self) -> dict[str, Any] | None:
        """The next queued message, or None (for conflating feeds)."""
        return self._own().receive_nowait()
