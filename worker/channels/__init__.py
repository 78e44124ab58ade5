"""Channels: groups and channels shared by every worker behind a front.

The app-facing API is ``scope["pagi.channels"]`` (:mod:`.scope_channels`);
adapters for Django Channels (:mod:`.django_layer`) and Starlette/FastAPI
(:mod:`.broadcast`) reach the process's hub through :func:`hub`. See
docs/channels.md.
"""

from __future__ import annotations

from .channel import Channel, ChannelClosed, Overflow
from .hub import ChannelHub
from .scope_channels import ScopeChannels, Sender

__all__ = [
    "Channel",
    "ChannelClosed",
    "ChannelHub",
    "Overflow",
    "ScopeChannels",
    "Sender",
    "hub",
    "install_hub",
]

_hub: ChannelHub | None = None


def install_hub(capacity: int) -> ChannelHub:
    """Create this process's hub (pagi-worker does, once, at start-up)."""
    global _hub
    _hub = ChannelHub(capacity)
    return _hub


def hub() -> ChannelHub:
    """This worker process's hub; RuntimeError outside pagi-worker."""
    if _hub is None:
        raise RuntimeError(
            "pagi channels are available only in an app served by pagi-worker "
            "(no channel hub in this process)"
        )
    return _hub
