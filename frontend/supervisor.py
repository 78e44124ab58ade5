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
from collections.abc import Callable

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


class Supervisor:
    """Keeps ``config.workers`` worker processes running until :meth:`stop`."""

    def __init__(self, config: FrontConfig, on_fatal: Callable[[int], None]) -> None:
        self._config = config
        self._on_fatal = on_fatal
        self._procs: dict[int, asyncio.subprocess.Process] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self._procs.values()]

    def start(self) -> None:
        for num in range(1, self._config.workers + 1):
            task = asyncio.get_running_loop().create_task(
                self._keep_running(num), name=f"pagi-supervise-worker-{num}"
            )
            self._tasks.append(task)

    async def _keep_running(self, num: int) -> None:
        loop = asyncio.get_running_loop()
        backoff = BACKOFF_START
        argv = worker_argv(self._config, num)
        while not self._stopping.is_set():
            try:
                proc = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    preexec_fn=_die_with_parent(os.getpid()),
                )
            except OSError as exc:
                logger.error("cannot start worker #%d: %s; stopping", num, exc)
                self._on_fatal(1)
                return
            self._procs[num] = proc
            started = loop.time()
            logger.info("started worker #%d pid %d", num, proc.pid)
            if self._stopping.is_set():  # stop() ran while we were spawning
                self._signal(proc, signal.SIGTERM)
            returncode = await proc.wait()
            del self._procs[num]
            if self._stopping.is_set():
                logger.info("worker #%d pid %d %s", num, proc.pid, describe_exit(returncode))
                return
            if returncode in FATAL_EXIT_CODES:
                logger.error("worker #%d failed to start (exit %d); stopping", num, returncode)
                self._on_fatal(returncode)
                return
            if loop.time() - started >= STABLE_AFTER:
                backoff = BACKOFF_START
            logger.warning(
                "worker #%d pid %d %s; restarting in %g s",
                num,
                proc.pid,
                describe_exit(returncode),
                backoff,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    @staticmethod
    def _signal(proc: asyncio.subprocess.Process, sig: int) -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)

    async def stop(self, timeout: float) -> None:
        """SIGTERM every worker, wait up to ``timeout`` s, SIGKILL the rest; reap all."""
        self._stopping.set()
        for proc in list(self._procs.values()):
            self._signal(proc, signal.SIGTERM)
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=timeout)
        if pending:
            for num, proc in list(self._procs.items()):
                logger.warning(
                    "worker #%d pid %d still running after %g s; killing it",
                    num,
                    proc.pid,
                    timeout,
                )
                self._signal(proc, signal.SIGKILL)
            _done, pending = await asyncio.wait(pending, timeout=5.0)
            for task in pending:
                task.cancel()
        self._tasks.clear()

    async def kill(self) -> None:
        """Stop at once: SIGKILL every worker and reap it."""
        await self.stop(0.0)
