"""Operations on the worker pool: rolling reload, scaling, draining one worker.

All of them follow one path, the *replacement*: start a fresh worker process
for a slot, wait until it is ready (lifespan done and greeted: its link is in
the pool), then drain the old one. Draining is done front-first: the front
sends DRAIN on the old worker's link and routes nothing new there; the worker
finishes its scopes; when the last one has ended the front closes the link
and the worker exits 0. Closing is the front's move, so no OPEN can be on its
way to a worker that is closing its link, and no request is failed by a
reload (SIGTERM/SIGKILL only if the worker overstays the graceful timeout).

Invariants:

* Reloads never interleave: one runs at a time; a reload asked for while one
  runs is queued, and requests arriving while one is queued join that one.
* A replacement that exits or does not join within ``--reload-timeout`` aborts
  the whole reload: every new process is stopped, the old ones keep serving,
  and the reason is logged and kept in :attr:`Operations.last_reload`.
* Scaling down and draining use the same front-first drain.
* Embedded mode only (the front owns the processes); in the production layout
  the operations answer with :class:`~.control_api.OperationError` (409) and
  systemd restarts the ``pagi-worker@`` units (``deploy/rolling-restart.sh``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from .config import FrontConfig
from .control_api import OperationError
from .link.pool import WorkerPool
from .link.worker_link import WorkerLink
from .metrics import FrontMetrics
from .supervisor import Supervisor, describe_exit

logger = logging.getLogger("pagi.front")

POLL = 0.05


@dataclass(slots=True)
class ReloadRecord:
    """One rolling reload, as ``pagi-ctl status`` shows it."""

    id: int
    state: str = "queued"  # queued | running | done | failed
    reason: str | None = None
    requested_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None

    def as_json(self) -> dict[str, object]:
        duration = None
        if self.started_at is not None and self.finished_at is not None:
            duration = round(self.finished_at - self.started_at, 3)
        return {
            "id": self.id,
            "state": self.state,
            "reason": self.reason,
            "requested_at": self.requested_at,
            "duration": duration,
        }


class Operations:
    """Reload, scale and drain for one front."""

    def __init__(
        self,
        config: FrontConfig,
        pool: WorkerPool,
        metrics: FrontMetrics,
        supervisor: Supervisor | None,
        on_reload_state: Callable[[bool], None] | None = None,
        on_scaled: Callable[[], None] | None = None,
    ) -> None:
        self._config = config
        self._pool = pool
        self._metrics = metrics
        self._supervisor = supervisor
        self._on_reload_state = on_reload_state  # True: started, False: over
        self._on_scaled = on_scaled  # the target number of workers changed
        self._lock = asyncio.Lock()
        self._queued: tuple[ReloadRecord, asyncio.Future[ReloadRecord]] | None = None
        self._next_id = 1
        self._tasks: set[asyncio.Task[None]] = set()
        self.last_reload: ReloadRecord | None = None
        self.current_reload: ReloadRecord | None = None

    @property
    def target_workers(self) -> int | None:
        """Workers meant to run (embedded mode), None in the production layout."""
        return self._supervisor.target if self._supervisor is not None else None

    def _embedded(self, what: str) -> Supervisor:
        if self._supervisor is None:
            raise OperationError(
                409,
                f"{what} needs embedded mode (--app); in the production layout restart "
                "the pagi-worker units one at a time (deploy/rolling-restart.sh)",
            )
        return self._supervisor

    # --- reload ----------------------------------------------------------------------

    async def reload(self, wait: bool) -> dict[str, object]:
        """Queue a rolling reload (or join the queued one); optionally wait for it."""
        self._embedded("reload")
        if self._queued is not None:
            record, future = self._queued
        else:
            record = ReloadRecord(self._next_id)
            self._next_id += 1
            future = asyncio.get_running_loop().create_future()
            self._queued = (record, future)
            self._background(self._run_reload(record, future))
        if wait:
            await asyncio.shield(future)
        return {"reload": record.as_json()}

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_reload(self, record: ReloadRecord, future: asyncio.Future[ReloadRecord]) -> None:
        async with self._lock:
            if self._queued is not None and self._queued[0] is record:
                self._queued = None  # later requests queue a new reload
            record.state = "running"
            record.started_at = time.time()
            self.current_reload = record
            if self._on_reload_state is not None:
                self._on_reload_state(True)
            logger.info("reload %d: starting fresh workers", record.id)
            try:
                supervisor = self._embedded("reload")
                reason = await self._replace(supervisor, list(supervisor.slot_pids()))
            except Exception as exc:  # never leave the queue stuck
                logger.exception("reload %d failed", record.id)
                reason = f"internal error: {exc}"
            record.finished_at = time.time()
            if reason is None:
                record.state = "done"
                self._metrics.reloads += 1
                logger.info(
                    "reload %d done in %.2f s", record.id, record.finished_at - record.started_at
                )
            else:
                record.state = "failed"
                record.reason = reason
                self._metrics.reload_failures += 1
                logger.error("reload %d abandoned, old workers keep serving: %s", record.id, reason)
            self.current_reload = None
            self.last_reload = record
            if self._on_reload_state is not None:
                self._on_reload_state(False)
            if not future.done():
                future.set_result(record)

    async def _replace(self, supervisor: Supervisor, nums: list[int]) -> str | None:
        """Replace the processes of slots ``nums``; None on success, else why not."""
        fresh: dict[int, asyncio.subprocess.Process] = {}
        try:
            for num in nums:
                fresh[num] = await supervisor.spawn(num, " (replacement)")
        except OSError as exc:
            self._abandon(supervisor, fresh)
            return f"cannot start a worker: {exc}"
        reason = await self._wait_joined(fresh)
        if reason is not None:
            self._abandon(supervisor, fresh)
            return reason
        for num, proc in fresh.items():
            old = supervisor.adopt(num, proc)
            if old is not None:
                self._background(self._drain_process(supervisor, old, "replaced"))
        return None

    async def _wait_joined(self, fresh: dict[int, asyncio.subprocess.Process]) -> str | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.reload_timeout
        waiting = dict(fresh)
        while waiting:
            for num, proc in list(waiting.items()):
                if proc.returncode is not None:
                    return f"new worker #{num} pid {proc.pid} {describe_exit(proc.returncode)}"
                if self._link_of(proc.pid) is not None:
                    del waiting[num]
            if not waiting:
                break
            if loop.time() >= deadline:
                names = ", ".join(f"#{num}" for num in waiting)
                return (
                    f"new worker(s) {names} not ready within "
                    f"{self._config.reload_timeout:g} s (--reload-timeout)"
                )
            await asyncio.sleep(POLL)
        return None

    def _abandon(
        self, supervisor: Supervisor, fresh: dict[int, asyncio.subprocess.Process]
    ) -> None:
        for proc in fresh.values():
            supervisor.terminate(proc)
            self._background(self._reap(proc))

    async def _reap(self, proc: asyncio.subprocess.Process) -> None:
        """Wait for ``proc`` to exit: the graceful timeout plus a margin, then
        SIGTERM (a second signal stops a worker at once), then SIGKILL."""
        for step in (self._config.graceful_timeout + 2.0, 2.0, None):
            try:
                await asyncio.wait_for(proc.wait(), step)
                return
            except TimeoutError:
                if proc.returncode is not None:
                    return
                if step == 2.0:
                    proc.kill()
                else:
                    with contextlib.suppress(ProcessLookupError):
                        proc.terminate()

    def _link_of(self, pid: int) -> WorkerLink | None:
        for link in self._pool.links:
            if link.pid == pid and link.welcomed and not link.draining:
                return link
        return None

    # --- draining -------------------------------------------------------------------

    async def _drain_process(
        self, supervisor: Supervisor, proc: asyncio.subprocess.Process, why: str
    ) -> None:
        """Front-first drain of one process: DRAIN on its link (no new scope is
        routed there; the front closes the link when its last scope ends), then
        wait for the process to exit; SIGTERM/SIGKILL only as a fallback."""
        link = self._link_of(proc.pid)
        if link is not None:
            link.drain(why)
        else:
            supervisor.terminate(proc)  # not connected: nothing to drain
        await self._reap(proc)

    def drain(self, worker: str) -> dict[str, object]:
        """Replace one worker (embedded): a fresh process first, then the drain."""
        supervisor = self._embedded("drain")
        link = self.find(worker)
        if link is None or link.pid is None:
            raise OperationError(404, f"no worker {worker!r} (give its id, name or pid)")
        num = supervisor.slot_of(link.pid)
        if num is None:
            raise OperationError(409, f"worker {link.name} is not one of this front's slots")
        self._background(self._replace_logged(supervisor, num))
        return {"draining": {"id": link.worker_id, "name": link.name, "pid": link.pid}}

    async def _replace_logged(self, supervisor: Supervisor, num: int) -> None:
        async with self._lock:
            reason = await self._replace(supervisor, [num])
        if reason is not None:
            logger.error("replacing worker #%d abandoned, it keeps serving: %s", num, reason)

    def find(self, worker: str) -> WorkerLink | None:
        """A pool member by id, pid or name."""
        for link in self._pool.links:
            if worker in (str(link.worker_id), str(link.pid), link.name):
                return link
        return None

    # --- recycling (WorkerHealth) ----------------------------------------------------

    def recycle(self, link: WorkerLink, why: str) -> None:
        """Replace a worker through the drain path (``--max-requests``, RSS)."""
        supervisor = self._supervisor
        num = supervisor.slot_of(link.pid) if supervisor is not None and link.pid else None
        if supervisor is None or num is None:
            link.drain(why)  # production layout: it exits 0, systemd starts it again
            return
        self._background(self._replace_logged(supervisor, num))

    def unresponsive(self, link: WorkerLink) -> None:
        """A worker's loop is blocked: route nothing more to it, replace it, and
        kill it unless it recovers within another ``--worker-timeout``."""
        link.drain("unresponsive")
        supervisor = self._supervisor
        num = supervisor.slot_of(link.pid) if supervisor is not None and link.pid else None
        if supervisor is not None and num is not None:
            self._background(self._replace_blocked(supervisor, num))
            return
        pid = link.peer_pid()
        if pid is not None and pid == link.pid:
            logger.warning("killing worker %s pid %d (SIGKILL)", link.name, pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        else:  # another pid namespace: we cannot kill it, only let it go
            link.close("unresponsive")

    async def _replace_blocked(self, supervisor: Supervisor, num: int) -> None:
        try:
            fresh = await supervisor.spawn(num, " (replacing an unresponsive worker)")
        except OSError as exc:
            logger.error("cannot start a replacement for worker #%d: %s", num, exc)
            return
        old = supervisor.adopt(num, fresh)
        if old is None:
            return
        try:
            await asyncio.wait_for(old.wait(), self._config.worker_timeout)
        except TimeoutError:
            logger.warning("killing unresponsive worker #%d pid %d (SIGKILL)", num, old.pid)
            with contextlib.suppress(ProcessLookupError):
                old.kill()
            await old.wait()

    # --- scaling --------------------------------------------------------------------

    def scale(self, workers: int) -> dict[str, object]:
        supervisor = self._embedded("scale")
        before = supervisor.target
        if workers > before:
            added = supervisor.scale_up(workers)
            logger.info("scaling up from %d to %d workers (#%s)", before, workers, added)
        elif workers < before:
            for num in supervisor.scale_down_candidates(workers):
                proc = supervisor.retire(num)
                if proc is not None:
                    self._background(self._drain_process(supervisor, proc, "scaling down"))
            logger.info("scaling down from %d to %d workers", before, workers)
        if self._on_scaled is not None:
            self._on_scaled()
        return {"workers": {"before": before, "target": workers}}

    def scale_by(self, delta: int) -> None:
        """SIGTTIN (+1) / SIGTTOU (-1); never below one worker."""
        if self._supervisor is None:
            logger.warning("scaling needs embedded mode (--app); signal ignored")
            return
        target = max(1, self._supervisor.target + delta)
        self.scale(target)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=1.0)
