"""An ``encode/broadcaster`` backend for Starlette and FastAPI apps.

::

    from broadcaster import Broadcast
    from pagi.worker.channels.broadcast import PagiBroadcastBackend

    broadcast = Broadcast(backend=PagiBroadcastBackend())
    app = Starlette(..., on_startup=[broadcast.connect], on_shutdown=[broadcast.disconnect])

``broadcast.publish(channel, message)`` then reaches the subscribers on every
worker behind the front (every front, with ``--channels redis://...``), with
no Redis on one host. Each broadcaster channel ``name`` is the pagi group
``broadcast.<name>``; the worker subscribes one channel of its own (made at
``connect()``) to each group a subscriber asks for, and broadcaster fans
messages out to its subscribers in the process. Messages are what broadcaster
carries (str; anything msgpack packs works too).

``connect()`` may run in the lifespan, before the worker has reached the
front: the memberships are announced as soon as it has.
"""

from __future__ import annotations

from typing import Any

from broadcaster._base import Event

from . import hub
from .channel import Channel, Overflow

#: Prefix of the pagi group of a broadcaster channel.
GROUP_PREFIX = "broadcast."


class PagiBroadcastBackend:
    """The broadcaster backend interface, over this worker's channel hub."""

    def __init__(self, url: str = "pagi://", overflow: str = "drop_oldest") -> None:
        self.url = url
        self._overflow = Overflow(overflow)
        self._channel: Channel | None = None

    def _own(self) -> Channel:
        if self._channel is None:
            raise RuntimeError("PagiBroadcastBackend: connect() first")
        return self._channel

    async def connect(self) -> None:
        self._channel = hub().new_channel(overflow=self._overflow, label="b")

    async def disconnect(self) -> None:
        if self._channel is not None:
            hub().close_channel(self._channel, "disconnected")
            self._channel = None

    async def subscribe(self, channel: str) -> None:
        hub().group_add(self._own(), GROUP_PREFIX + channel, self._overflow)

    async def unsubscribe(self, channel: str) -> None:
        hub().group_discard(self._own(), GROUP_PREFIX + channel)

    async def publish(self, channel: str, message: Any) -> None:
        hub().group_send(
            GROUP_PREFIX + channel, {"type": "broadcast", "channel": channel, "message": message}
        )

    async def next_published(self) -> Event:
        message = await self._own().receive()
        return Event(message["channel"], message["message"])
