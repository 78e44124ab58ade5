"""The front's side of channels: the broker, and the Redis relay between fronts.

``--channels front`` (the default): :class:`~.broker.ChannelBroker` alone;
``--channels redis://...``: the broker with a :class:`~.redis_relay.RedisRelay`
(imported only then: redis-py is the ``redis`` extra); ``--channels off``: no
broker, and WELCOME offers workers no channels. See docs/channels.md.
"""

from __future__ import annotations

from ..config import FrontConfig
from .broker import ChannelBroker

__all__ = ["ChannelBroker", "make_broker"]


def make_broker(config: FrontConfig) -> ChannelBroker | None:
    if config.channels == "off":
        return None
    return ChannelBroker(config.channels_node, config.channel_capacity, config.channel_backlog)
