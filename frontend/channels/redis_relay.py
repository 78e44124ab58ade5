"""The Redis backend: group and channel messages between fronts over pub/sub.

``pagi-front --channels redis://HOST:PORT/DB`` gives the broker this relay.
Every front sharing the Redis server then shares the groups:

* a group message is PUBLISHed on ``pagi:g:<group>``; each front SUBSCRIBEs to
  that channel while one of its workers has a member, and delivers what
  arrives (its own messages too: a front never delivers a group message
  locally without the round trip, so each member gets it exactly once);
* a channel message for another front is PUBLISHed on ``pagi:n:<node>`` (the
  node is the first part of every channel name), which that front
  subscribes to from the start.

Payloads are msgpack: a group message is the message map; a channel message
is ``[channel, message]``. What arrives is checked like a link message; a
payload that is not is logged and dropped.

Invariants:

* messages are published in the order the broker hands them over, by one
  task, each batch in one pipeline: per sender, the order holds;
* ``_groups`` is the set the broker wants subscribed; after a reconnect the
  new connection subscribes to all of it (and the node channel) again;
* while Redis is unreachable, published messages are dropped and counted
  (``lost``), and the relay reconnects with backoff (0.1 s doubling to 5 s):
  delivery is at most once, as with the front backend when a worker dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import TYPE_CHECKING, Any

import msgpack
from pagi.protocol import channel_messages as cm

if TYPE_CHECKING:
    from .broker import ChannelBroker

logger = logging.getLogger("pagi.front")

GROUP_PREFIX = "pagi:g:"
NODE_PREFIX = "pagi:n:"
#: Most messages one pipeline carries.
BATCH = 512


class RedisRelay:
    def __init__(self, url: str, broker: ChannelBroker) -> None:
        import redis.asyncio as aioredis  # the "redis" extra; imported only when used

        self._aioredis = aioredis
        self.url = url
        self._broker = broker
        self._node_channel = NODE_PREFIX + broker.node
        self._groups: set[str] = set()
        self._outbox: list[tuple[str, bytes]] = []
        self._wake = asyncio.Event()
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self.published = 0
        self.lost = 0

    # --- the broker's side (synchronous) -----------------------------------------

    def subscribe(self, group: str) -> None:
        self._groups.add(group)
        self._command("subscribe", GROUP_PREFIX + group)

    def unsubscribe(self, group: str) -> None:
        self._groups.discard(group)
        self._command("unsubscribe", GROUP_PREFIX + group)

    def publish_group(self, group: str, message: dict[str, Any]) -> None:
        self._outbox.append((GROUP_PREFIX + group, msgpack.packb(message, use_bin_type=True)))
        self._wake.set()

    def publish_channel(self, node: str, channel: str, message: dict[str, Any]) -> None:
        payload = msgpack.packb([channel, message], use_bin_type=True)
        self._outbox.append((NODE_PREFIX + node, payload))
        self._wake.set()

    def _command(self, name: str, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return  # the next connection subscribes to self._groups
        task = asyncio.get_running_loop().create_task(getattr(pubsub, name)(channel))
        task.add_done_callback(_log_failure)

    # --- lifetime ------------------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._subscriber()), loop.create_task(self._publisher())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- the two tasks ---------------------------------------------------------------

    async def _subscriber(self) -> None:
        delay = 0.1
        while True:
            client = self._aioredis.from_url(self.url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                wanted = set(self._groups)
                await pubsub.subscribe(self._node_channel, *(GROUP_PREFIX + g for g in wanted))
                self._pubsub = pubsub
                # groups joined or left while that subscribe was on its way
                if self._groups - wanted:
                    await pubsub.subscribe(*(GROUP_PREFIX + g for g in self._groups - wanted))
                if wanted - self._groups:
                    await pubsub.unsubscribe(*(GROUP_PREFIX + g for g in wanted - self._groups))
                logger.info("channels: subscribed to Redis at %s", _safe(self.url))
                delay = 0.1
                async for item in pubsub.listen():
                    self._arrived(item)
            except (OSError, self._aioredis.RedisError) as exc:
                logger.warning(
                    "channels: Redis at %s unreachable (%s); retrying in %.1f s",
                    _safe(self.url),
                    exc,
                    delay,
                )
            finally:
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, 5.0)

    async def _publisher(self) -> None:
        client = self._aioredis.from_url(self.url)
        delay = 0.1
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._outbox:
                    batch, self._outbox = self._outbox[:BATCH], self._outbox[BATCH:]
                    try:
                        async with client.pipeline(transaction=False) as pipe:
                            for channel, payload in batch:
                                pipe.publish(channel, payload)
                            await pipe.execute()
                        self.published += len(batch)
                        delay = 0.1
                    except (OSError, self._aioredis.RedisError) as exc:
                        self.lost += len(batch)
                        logger.warning(
                            "channels: publishing to Redis failed (%s): %d message(s) lost",
                            exc,
                            len(batch),
                        )
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, 5.0)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    def _arrived(self, item: dict[str, Any]) -> None:
        if item.get("type") != "message":
            return
        channel = item["channel"]
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        try:
            payload = msgpack.unpackb(item["data"], raw=False)
        except Exception as exc:
            logger.warning("channels: undecodable payload on Redis %s dropped (%s)", name, exc)
            return
        if name.startswith(GROUP_PREFIX):
            group = name[len(GROUP_PREFIX) :]
            if cm.is_group_name(group) and cm.is_channel_message(payload):
                self._broker.deliver_group(group, payload)
                return
        elif name == self._node_channel and (
            type(payload) is list
            and len(payload) == 2
            and cm.is_channel_name(payload[0])
            and cm.is_channel_message(payload[1])
        ):
            self._broker.deliver_channel(payload[0], payload[1])
            return
        logger.warning("channels: malformed message on Redis %s dropped", name)


def _safe(url: str) -> str:
    """The URL without a password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("channels: Redis subscription change failed: %s", task.exception())
