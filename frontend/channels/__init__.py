"""The front's side of channels: the broker, and the Redis relay between fronts.

``--channels front`` (the default): :class:`~.broker.ChannelBroker` alone;
``--channels redis://...``: the broker with a :class:`~.redis_relay.RedisRelay`
(imported only then: redis-py is the ``redis`` extra); ``--channels off``: no
broker, and WELCOME offers workers no channels. See docs/channels.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import FrontConfig
from .broker import ChannelBroker

if TYPE_CHECKING:
    from .redis_relay import RedisRelay

__all__ = ["ChannelBroker", "ChannelsError", "make_broker", "start_relay"]


class ChannelsError(Exception):
    """The channel backend cannot run (the message says why and what to do)."""


def make_broker(config: FrontConfig) -> ChannelBroker | None:
    if config.channels == "off":
        return None
    return ChannelBroker(config.channels_node, config.channel_capacity, config.channel_backlog)


def start_relay(config: FrontConfig, broker: ChannelBroker | None) -> RedisRelay | None:
    """Start the Redis relay when ``--channels`` names a Redis URL (in the loop)."""
    if broker is None or config.channels == "front":
        return None
    try:
        from .redis_relay import RedisRelay

        relay = RedisRelay(config.channels, broker)
    except ImportError as exc:
        raise ChannelsError(
            f"--channels {config.channels.split('://')[0]}://... needs redis-py ({exc}); "
            "install it with: pip install 'pagi-server[redis]'"
        ) from None
    broker.relay = relay
    relay.start()
    return relay
