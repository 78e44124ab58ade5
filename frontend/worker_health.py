"""Workers' health and lifetime: heartbeats, request and memory limits.

One loop task ticks every ``min(1 s, --worker-timeout / 4)`` (0.1 s with
``--max-requests``). Each tick, for
every worker in the pool:

* it sends a PING; the worker's event loop answers PONG. A worker that has
  not answered for ``--worker-timeout`` seconds has a blocked loop: it is
  reported (WARNING, ``pagi_worker_timeouts_total``) and handed to
  ``on_unresponsive`` once (embedded: drained and replaced; production
  layout: killed, for systemd to restart);
* a worker that has served ``--max-requests`` (plus its own random jitter up
  to ``--max-requests-jitter``, so workers do not all recycle at once) or
  whose RSS is above ``--max-worker-rss`` is handed to ``on_recycle`` once,
  which drains it (never kills it).

The limits are checked once per tick, off the request path: a worker may
serve up to a tick's worth of requests beyond ``--max-requests``, and keeps
serving until its replacement is ready.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

from .acceptor import cancel_and_wait
from .config import FrontConfig
from .control_view import rss_of
from .link.pool import WorkerPool
from .link.worker_link import WorkerLink
from .metrics import FrontMetrics

logger = logging.getLogger("pagi.front")

MAX_TICK = 1.0
#: With --max-requests, checked this often (a busy worker serves thousands a second).
REQUESTS_TICK = 0.1


class WorkerHealth:
    def __init__(
        self,
        config: FrontConfig,
        pool: WorkerPool,
        metrics: FrontMetrics,
        on_recycle: Callable[[WorkerLink, str], None],
        on_unresponsive: Callable[[WorkerLink], None],
    ) -> None:
        self._config = config
        self._pool = pool
        self._metrics = metrics
        self._on_recycle = on_recycle
        self._on_unresponsive = on_unresponsive
        self._handled: set[int] = set()  # worker ids already recycled / reported
        self._task: asyncio.Task[None] | None = None
        timeout = config.worker_timeout
        self.tick = min(MAX_TICK, timeout / 4) if timeout > 0 else MAX_TICK
        if config.max_requests > 0:
            self.tick = min(self.tick, REQUESTS_TICK)

    @property
    def needed(self) -> bool:
        c = self._config
        return c.worker_timeout > 0 or c.max_requests > 0 or c.max_worker_rss > 0

    def start(self) -> None:
        if self.needed and self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="pagi-worker-health"
            )

    async def close(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.tick)
            now = loop.time()
            links = self._pool.links
            self._handled &= {link.worker_id for link in links}  # forget the departed
            for link in links:
                try:
                    self.check(link, now)
                except Exception:
                    logger.exception("checking worker %s failed", link.name)

    def check(self, link: WorkerLink, now: float) -> None:
        """One tick for one worker."""
        if link.worker_id in self._handled or link.closed or not link.welcomed:
            return
        config = self._config
        if config.worker_timeout > 0:
            silent = now - link.last_pong
            if silent > config.worker_timeout:
                self._handled.add(link.worker_id)
                self._metrics.worker_timeouts += 1
                logger.warning(
                    "worker %s pid %s has not answered heartbeats for %.1f s "
                    "(--worker-timeout %g): its event loop is blocked",
                    link.name,
                    link.pid,
                    silent,
                    config.worker_timeout,
                )
                self._on_unresponsive(link)
                return
            link.ping()
        if link.draining:
            return
        if config.max_requests > 0:
            if not link.recycle_after:
                jitter = random.randint(0, config.max_requests_jitter)
                link.recycle_after = config.max_requests + jitter
            if link.scopes_opened >= link.recycle_after:
                self._recycle(link, f"served {link.scopes_opened} requests (--max-requests)")
                return
        if config.max_worker_rss > 0:
            rss = rss_of(link.pid)
            if rss is not None and rss > config.max_worker_rss:
                self._recycle(link, f"RSS {rss // 1048576} MiB above --max-worker-rss")

    def _recycle(self, link: WorkerLink, why: str) -> None:
        self._handled.add(link.worker_id)
        logger.info("recycling worker %s pid %s: %s", link.name, link.pid, why)
        self._on_recycle(link, why)
