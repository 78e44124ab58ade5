"""The front's half of the link handshake: judging HELLO, composing WELCOME.

Pure functions; :class:`~.worker_link.WorkerLink` applies the result (and
owns the handshake timer). See ``docs/worker-protocol.md`` for the fields.

Invariants:

* :func:`read_hello` never raises on a validated HELLO: whatever the info map
  holds, it yields a usable ``name`` and ``pid`` (for log lines, also when the
  worker is rejected) and either ``problem`` (the REJECT reason) or the terms
  the worker offers.
* A worker is accepted only when it speaks :data:`~pagi.protocol.PROTOCOL_VERSION`
  and its ``window`` and ``capacity`` are non-negative integers.
"""

from __future__ import annotations

from typing import Any

from pagi.protocol import PROTOCOL_VERSION
from pagi.protocol import messages as m

from ..config import FrontConfig
from .body_ring import MAX_RING_SIZE


class Hello:
    """What one HELLO says. ``problem`` is None when the worker may join."""

    __slots__ = ("app", "capacity", "interface", "name", "pid", "problem", "window")

    def __init__(self, name: str, pid: int | None) -> None:
        self.name = name
        self.pid = pid
        self.problem: str | None = None
        self.app = ""
        self.interface = ""
        self.window = 0  # request body bytes the front may send per scope up front
        self.capacity = 0  # concurrent scopes the worker takes; 0: no stated limit


def read_hello(version: int, info: dict[Any, Any], fallback_name: str) -> Hello:
    """Judge a HELLO's ``version`` and ``info``; ``fallback_name`` stands in for a bad name."""
    name = info.get("name")
    pid = info.get("pid")
    hello = Hello(
        name if isinstance(name, str) and name else fallback_name,
        pid if type(pid) is int else None,
    )
    if version != PROTOCOL_VERSION:
        hello.problem = (
            f"protocol version {version} not supported; this front speaks {PROTOCOL_VERSION} "
            "(run pagi-front and pagi-worker from the same release)"
        )
        return hello
    window = info.get("window")
    if type(window) is not int or window < 0:
        hello.problem = "HELLO info 'window' must be a non-negative integer"
        return hello
    capacity = info.get("capacity", 0)
    if type(capacity) is not int or capacity < 0:
        hello.problem = "HELLO info 'capacity' must be a non-negative integer"
        return hello
    app = info.get("app", "")
    interface = info.get("interface", "")
    hello.app = app if isinstance(app, str) else ""
    hello.interface = interface if isinstance(interface, str) else ""
    hello.window = window
    hello.capacity = capacity
    return hello


def welcome(config: FrontConfig, worker_id: int) -> list[Any]:
    """The WELCOME message for an accepted worker."""
    return m.welcome(
        PROTOCOL_VERSION,
        {
            "window": config.response_window,
            "worker_id": worker_id,
            "max_frame_size": config.max_frame_size,
            "ws_max_size": config.ws_max_size,
            "ws_max_queue": config.ws_max_queue,
            "body_ring": min(config.body_ring, MAX_RING_SIZE),
            **channels_offer(config),
        },
    )


def channels_offer(config: FrontConfig) -> dict[str, Any]:
    """WELCOME's ``channels`` key (none with ``--channels off``)."""
    if config.channels == "off":
        return {}
    backend = "front" if config.channels == "front" else "redis"
    return {
        "channels": {
            "node": config.channels_node,
            "capacity": config.channel_capacity,
            "backend": backend,
        }
    }
