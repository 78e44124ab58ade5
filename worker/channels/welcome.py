"""The ``channels`` key of WELCOME: whether the front offers channels, and how.

``info["channels"]`` is a map ``{"node": str, "capacity": int, "backend": str}``:
``node`` names the front (with the worker id it makes this worker's channel
prefix, ``<node>.<worker_id>``), ``capacity`` is the queue bound of a channel,
``backend`` is informational (``"front"`` or ``"redis"``). No key, or a front
started with ``--channels off``: the scopes get no ``pagi.channels``.
"""

from __future__ import annotations

from typing import Any

from pagi.protocol import LinkError
from pagi.protocol import channel_messages as cm

from .hub import ChannelHub


def read_channels_welcome(
    info: dict[Any, Any], worker_id: int | None, hub: ChannelHub
) -> str | None:
    """The channel prefix for this link, or None if the front offers no channels.
    Sets the hub's queue capacity; LinkError for a malformed map."""
    offer = info.get("channels")
    if offer is None:
        return None
    if type(offer) is not dict:
        raise LinkError(f"WELCOME: 'channels' must be a map, got {offer!r:.60}")
    node = offer.get("node")
    capacity = offer.get("capacity")
    if worker_id is None or type(node) is not str or not cm.is_group_name(node):
        raise LinkError(f"WELCOME: 'channels.node' is invalid ({node!r:.60}) or no worker_id")
    if type(capacity) is not int or capacity < 1:
        raise LinkError(f"WELCOME: 'channels.capacity' must be an int >= 1, got {capacity!r:.40}")
    hub.capacity = capacity
    return cm.channel_prefix(node, worker_id)
