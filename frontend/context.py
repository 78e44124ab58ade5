"""What every client connection of the front shares.

One :class:`FrontContext` exists per front process. Connections register
themselves in ``connections`` while open so that shutdown can find them.
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


@dataclass(slots=True)
class FrontContext:
    config: FrontConfig
    pool: WorkerPool
    connections: set[Any] = field(default_factory=set)  # open client connections
    shutting_down: bool = False  # set once on SIGTERM/SIGINT
