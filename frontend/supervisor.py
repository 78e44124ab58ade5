"""Embedded mode: spawn and supervise ``--workers`` pagi-worker processes.

Each worker slot ``#1..#N`` runs ``python -m pagi.worker APP --socket-dir DIR
--worker-num I ...`` (stdout/stderr inherited, stdin from /dev/null) and
respawns it when it exits while the front is running:

* the delay starts at 0.5 s and doubles up to 30 s; a worker that stayed up
  for 30 s resets it;
* exit status 2 (the app cannot be loaded) or 3 (lifespan startup failed) is
  not retried: the supervisor reports it through ``on_fatal`` and the front
  stops with that same status.

Signals reach workers only through the front: each worker starts in its own
session, so a terminal's Ctrl-C, ``timeout``, or ``kill -- -PGID`` aimed at
the front's process group does not also hit the workers (which would then see
the front's own SIGTERM as a second, "stop now" signal). The front stops them
itself, after its connections have drained.

No orphans: on Linux each worker is started with ``PR_SET_PDEATHSIG =
SIGTERM``, so a front killed with SIGKILL still takes its workers down (they
drain and exit). Every child is reaped by ``Process.wait()`` (uvloop watches
children itself), so no zombie stays either.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from .config import FrontConfig

logger = logging.getLogger("pagi.front")

#: Exit statuses of pagi-worker that mean "retrying cannot help".
FATAL_EXIT_CODES = frozenset({2, 3})
BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 30.0  # seconds up before the backoff resets
_PR_SET_PDEATHSIG = 1

_libc: ctypes.CDLL | None
try:
    _libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
except OSError:  # pragma: no cover - exotic libc
    _libc = None


def _die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """A preexec_fn making the child receive SIGTERM when the front dies (Linux)."""
    libc = _libc
    if libc is None:
        return None
    prctl = libc.prctl

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:  # the front died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def worker_argv(config: FrontConfig, worker_num: int) -> list[str]:
    """The command line of worker ``#worker_num`` (embedded mode)."""
    assert config.app is not None
    argv = [
        sys.executable,
        "-m",
        "pagi.worker",
        config.app,
        "--socket-dir",
        config.socket_dir,
        "--worker-num",
        str(worker_num),
        "--lifespan",
        config.lifespan,
        "--sse-scope",
        config.sse_scope,
        "--interface",
        config.interface,
        "--root-path",
        config.root_path,
        "--log-level",
        config.log_level,
        "--graceful-timeout",
        f"{config.graceful_timeout:g}",
    ]
    if config.app_dir is not None:
        argv += ["--app-dir", config.app_dir]
    if config.factory:
        argv.append("--factory")
    if config.limit_concurrency:
        argv += ["--capacity", str(config.limit_concurrency)]
    argv.append("--use-colors" if config.use_colors else "--no-use-colors")
    if config.log_config is not None:
        argv += ["--log-config", os.path.abspath(config.log_config.path)]
    return argv


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"was killed by {name}"
    return f"exited with status {returncode}"


@dataclass(eq=False, slots=True)
class Slot:
    """Worker ``#num``: the process currently serving it, and its restart state."""

    num: int
    proc: asyncio.subprocess.Process | None = None
    backoff: float = BACKOFF_START
    retired: bool = False  # scaled down or drained for good: never respawn


class Supervisor:
    """Keeps one worker process per slot running until :meth:`stop`.

    Each process has a watcher task that reaps it. An exit is *expected* (not
    respawned) when the front is stopping, when the slot was retired (scale
    down, drain), or when the process is no longer its slot's current one
    (replaced by a rolling reload); any other exit is respawned with backoff,
    except statuses 2 and 3 which stop the front (``on_fatal``).
    """

    def __init__(
        self,
        config: FrontConfig,
        on_fatal: Callable[[int], None],
        on_respawn: Callable[[], None] | None = None,
    ) -> None:
        self._config = config
        self._on_fatal = on_fatal
        self._on_respawn = on_respawn
        self._slots: dict[int, Slot] = {}
        self._procs: dict[int, asyncio.subprocess.Process] = {}  # every live child, by pid
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self._procs.values()]

    @property
    def target(self) -> int:
        """Number of slots meant to be running (``--workers`` until started)."""
        if not self._slots:
            return self._config.workers
        return sum(1 for slot in self._slots.values() if not slot.retired)

    def slot_pids(self) -> dict[int, int | None]:
        """Current process of each active slot (None while it is being restarted)."""
        return {
            num: (slot.proc.pid if slot.proc is not None else None)
            for num, slot in sorted(self._slots.items())
            if not slot.retired
        }

    def start(self) -> None:
        for num in range(1, self._config.workers + 1):
            self._start_slot(num)

    def _start_slot(self, num: int) -> None:
        slot = self._slots.get(num)
        if slot is None or slot.retired:
            slot = self._slots[num] = Slot(num)
        self._spawn_task(self._launch(slot), f"pagi-start-worker-{num}")

    def _spawn_task(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def spawn(self, num: int, why: str = "") -> asyncio.subprocess.Process:
        """Start one ``pagi-worker`` process for slot ``num`` (OSError if it cannot be)."""
        proc = await asyncio.create_subprocess_exec(
            *worker_argv(self._config, num),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )
        self._procs[proc.pid] = proc
        logger.info("started worker #%d pid %d%s", num, proc.pid, why)
        if self._stopping.is_set():  # stop() ran while we were spawning
            self._signal(proc, signal.SIGTERM)
        return proc

    async def _launch(self, slot: Slot, why: str = "") -> None:
        try:
            proc = await self.spawn(slot.num, why)
        except OSError as exc:
            logger.error("cannot start worker #%d: %s; stopping", slot.num, exc)
            self._on_fatal(1)
            return
        self.adopt(slot.num, proc)

    def adopt(
        self, num: int, proc: asyncio.subprocess.Process
    ) -> asyncio.subprocess.Process | None:
        """Make ``proc`` slot ``num``'s current process; return the one it replaces."""
        slot = self._slots.get(num)
        if slot is None or slot.retired:
            slot = self._slots[num] = Slot(num)
        old, slot.proc = slot.proc, proc
        self._spawn_task(self._watch(slot, proc), f"pagi-watch-worker-{num}-{proc.pid}")
        return old

    async def _watch(self, slot: Slot, proc: asyncio.subprocess.Process) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        returncode = await proc.wait()
        self._procs.pop(proc.pid, None)
        expected = self._stopping.is_set() or slot.retired or slot.proc is not proc
        if expected:
            logger.info("worker #%d pid %d %s", slot.num, proc.pid, describe_exit(returncode))
            return
        slot.proc = None
        if returncode in FATAL_EXIT_CODES:
            logger.error("worker #%d failed to start (exit %d); stopping", slot.num, returncode)
            self._on_fatal(returncode)
            return
        if loop.time() - started >= STABLE_AFTER:
            slot.backoff = BACKOFF_START
        delay = slot.backoff
        logger.warning(
            "worker #%d pid %d %s; restarting in %g s",
            slot.num,
            proc.pid,
            describe_exit(returncode),
            delay,
        )
        slot.backoff = min(delay * 2, BACKOFF_MAX)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
        if self._stopping.is_set() or slot.retired or slot.proc is not None:
            return
        if self._on_respawn is not None:
            self._on_respawn()
        await self._launch(slot)

    # --- operations ------------------------------------------------------------------

    def process(self, pid: int) -> asyncio.subprocess.Process | None:
        return self._procs.get(pid)

    def slot_of(self, pid: int) -> int | None:
        """The active slot whose current process is ``pid``."""
        for num, slot in self._slots.items():
            if not slot.retired and slot.proc is not None and slot.proc.pid == pid:
                return num
        return None

    def retire(self, num: int) -> asyncio.subprocess.Process | None:
        """Stop respawning slot ``num``; return its process (the caller drains it)."""
        slot = self._slots.get(num)
        if slot is None or slot.retired:
            return None
        slot.retired = True
        return slot.proc

    def scale_up(self, workers: int) -> list[int]:
        """Start slots until ``workers`` are meant to run; return the new slot numbers."""
        added = []
        num = 1
        while self.target < workers:
            slot = self._slots.get(num)
            if slot is None or slot.retired:
                self._start_slot(num)
                added.append(num)
            num += 1
        return added

    def scale_down_candidates(self, workers: int) -> list[int]:
        """The highest-numbered active slots beyond ``workers``."""
        active = sorted(num for num, slot in self._slots.items() if not slot.retired)
        return active[workers:]

    @staticmethod
    def _signal(proc: asyncio.subprocess.Process, sig: int) -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)

    def terminate(self, proc: asyncio.subprocess.Process) -> None:
        """SIGTERM one worker (it drains and exits)."""
        self._signal(proc, signal.SIGTERM)

    async def stop(self, timeout: float) -> None:
        """SIGTERM every worker, wait up to ``timeout`` s, SIGKILL the rest; reap all."""
        self._stopping.set()
        for proc in list(self._procs.values()):
            self._signal(proc, signal.SIGTERM)
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        if pending:
            for proc in list(self._procs.values()):
                logger.warning(
                    "worker pid %d still running after %g s; killing it", proc.pid, timeout
                )
                self._signal(proc, signal.SIGKILL)
            _done, pending = await asyncio.wait(pending, timeout=5.0)
            for task in pending:
                task.cancel()
        self._tasks.clear()

    async def kill(self) -> None:
        """Stop at once: SIGKILL every worker and reap it."""
        await self.stop(0.0)
