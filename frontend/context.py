"""What every client connection of the front shares.

One :class:`FrontContext` exists per front process. Connections register
themselves in ``connections`` while open so that shutdown can find them (and
the connection limits count them, per client address: :class:`ConnectionSet`,
whose ``by_address`` holds, for every address with an open connection in the
set, how many there are, never a zero entry).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config import FrontConfig

if TYPE_CHECKING:
    from .link.pool import WorkerPool

access_logger = logging.getLogger("pagi.access")
error_logger = logging.getLogger("pagi.front")


class ConnectionSet(set[Any]):
    """``ctx.connections``: the open client connections, counted per client IP.

    A connection's address is ``conn.client[0]`` when it has one (a TCP
    client) at the time it is added; the same address is used to remove it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.by_address: dict[str, int] = {}

    def add(self, conn: Any) -> None:
        if conn in self:
            return
        super().add(conn)
        address = _address(conn)
        if address is not None:
            self.by_address[address] = self.by_address.get(address, 0) + 1

    def discard(self, conn: Any) -> None:
        if conn not in self:
            return
        super().discard(conn)
        address = _address(conn)
        if address is not None:
            left = self.by_address.get(address, 0) - 1
            if left > 0:
                self.by_address[address] = left
            else:
                self.by_address.pop(address, None)


def _address(conn: Any) -> str | None:
    client = getattr(conn, "client", None)
    return str(client[0]) if client else None


@dataclass(slots=True)
class FrontContext:
    config: FrontConfig
    pool: WorkerPool
    connections: ConnectionSet = field(default_factory=ConnectionSet)  # open client connections
    shutting_down: bool = False  # set once on SIGTERM/SIGINT
