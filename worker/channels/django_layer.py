"""A Django Channels channel layer carried by pagi's channels (docs/channels.md).

Settings::

    CHANNEL_LAYERS = {
        "default": {"BACKEND": "pagi.worker.channels.django_layer.PagiChannelLayer"}
    }

``channel_layer.group_send`` in a consumer then reaches the members on every
worker behind the front (and, with ``pagi-front --channels redis://...``,
behind every front sharing that Redis), with no Redis needed on one host.

Mapping:

* ``new_channel()`` makes a channel of this worker tied to the calling task
  (the consumer's scope task): it is closed, and leaves its groups, when that
  task ends, so nothing is left behind by a consumer that went away;
* ``group_add`` / ``group_discard`` / ``group_send`` / ``send`` are the hub's;
  ``receive(channel)`` waits on a channel of this worker;
* a full channel applies ``overflow`` (``"drop_oldest"``, the default, or
  ``"close"``); ``capacity`` is the front's ``--channel-capacity``.

Plain (not process-specific) channel names, which Channels uses for background
"channel workers", are not carried: only names from ``new_channel()``.
Requires the ``channels`` package (the ``frameworks`` extra, or your project's).
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import BaseChannelLayer

from . import hub
from .channel import Channel, parse_overflow


class PagiChannelLayer(BaseChannelLayer):  # type: ignore[misc]
    extensions = ["groups", "flush"]

    def __init__(self, overflow: str = "drop_oldest", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.overflow = parse_overflow(overflow)

    def _channel(self, name: str) -> Channel:
        self.require_valid_channel_name(name)
        channel = hub().channel_named(name)
        if channel is None:
            raise ValueError(f"channel {name!r} is not an open channel of this worker")
        return channel

    async def new_channel(self, prefix: str = "specific.") -> str:
        the_hub = hub()
        channel = the_hub.new_channel(overflow=self.overflow)
        task = asyncio.current_task()
        if task is not None:
            the_hub.close_with_task(channel, task)
        return channel.name

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        self.require_valid_channel_name(channel)
        if "!" not in channel:
            raise TypeError(
                f"channel {channel!r}: pagi's channel layer carries process-specific "
                "channels (from new_channel()) only"
            )
        hub().send(channel, message)

    async def receive(self, channel: str) -> dict[str, Any]:
        return await self._channel(channel).receive()

    async def group_add(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        hub().group_add(self._channel(channel), group, self.overflow)

    async def group_discard(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        found = hub().channel_named(channel)
        if found is not None:
            hub().group_discard(found, group)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.require_valid_group_name(group)
        hub().group_send(group, message)

    async def flush(self) -> None:
        """Nothing to flush: channels live as long as their consumers."""

    async def close(self) -> None:
        """Nothing to close: the hub belongs to the worker."""
