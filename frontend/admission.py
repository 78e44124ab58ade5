"""Overload: the front's bounded wait for a worker, and shedding.

A request no worker can take at once (every ready worker is at its HELLO
``capacity``, see ``--limit-concurrency``, or none is ready) waits in the
pool's FIFO, but never without bound:

* **queue bound** (``--queue-size``): a request arriving when that many
  already wait is shed at once (``queue_full``);
* **deadline** (``--queue-timeout``, also spelled ``--worker-wait-timeout``):
  a request that has waited that long is shed before any worker spends time
  on it (``queue_timeout``; ``no_worker`` when no worker was ready at all).

A shed request is answered ``503`` with ``retry-after`` by the caller,
counted in ``pagi_shed_requests_total{reason}``, and logged at WARNING at most
once per :data:`LOG_INTERVAL` seconds (the line says how many were shed since
the last one), so an overload does not flood the log.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from .config import FrontConfig
from .metrics import FrontMetrics

if TYPE_CHECKING:
    from .link.pool import WorkerPool
    from .link.worker_link import WorkerLink

logger = logging.getLogger("pagi.front")

LOG_INTERVAL = 1.0


class Admission:
    __slots__ = ("_config", "_last_log", "_metrics", "_pool", "_unlogged")

    def __init__(self, config: FrontConfig, pool: WorkerPool, metrics: FrontMetrics) -> None:
        self._config = config
        self._pool = pool
        self._metrics = metrics
        self._last_log = 0.0
        self._unlogged = 0

    async def wait(self, what: str) -> WorkerLink | None:
        """A worker for the request ``what`` (for the log), or None: shed it."""
        pool = self._pool
        link = pool.pick()
        if link is not None:
            return link
        if pool.waiting >= self._config.queue_size:
            self._shed("queue_full", what)
            return None
        timeout = self._config.worker_wait_timeout
        link = await pool.wait(timeout)
        if link is None:
            self._shed("queue_timeout" if len(pool) else "no_worker", what)
        return link

    def _shed(self, reason: str, what: str) -> None:
        self._metrics.shed[reason] += 1
        self._unlogged += 1
        now = time.monotonic()
        if now - self._last_log < LOG_INTERVAL:
            return
        self._last_log = now
        count, self._unlogged = self._unlogged, 0
        if reason == "queue_full":
            why = f"{self._config.queue_size} request(s) already wait for a worker (--queue-size)"
        elif reason == "queue_timeout":
            why = f"no worker free within {self._config.worker_wait_timeout:g}s (--queue-timeout)"
        else:
            why = f"no worker ready within {self._config.worker_wait_timeout:g}s"
        more = f" ({count} shed since the last such line)" if count > 1 else ""
        logger.warning("503: %s for %s%s", why, what, more)
