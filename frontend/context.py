"""What every client connection of the front shares.

One :class:`FrontContext` exists per front process. Connections register
themselves in ``connections`` while open so that shutdown can find them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .admission import Admission
from .config import FrontConfig
from .forwarded import TrustedProxies
from .metrics import FrontMetrics

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
    metrics: FrontMetrics = field(default_factory=FrontMetrics)  # plain-int counters
    admission: Admission = field(init=False)  # the bounded wait for a worker
    #: --proxy-headers: whose Forwarded / X-Forwarded-* to believe (None: off)
    trusted_proxies: TrustedProxies | None = field(init=False)

    def __post_init__(self) -> None:
        self.admission = Admission(self.config, self.pool, self.metrics)
        self.trusted_proxies = (
            TrustedProxies.parse(self.config.forwarded_allow_ips)
            if self.config.proxy_headers
            else None
        )
