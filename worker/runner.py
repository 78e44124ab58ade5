"""The worker process from start to exit.

Order of life: load the app (exit 2 if it cannot be), run lifespan startup
(exit 3 if it fails), then connect to the front and serve; on SIGTERM/SIGINT
send DRAIN, let open scopes finish (bounded by ``--graceful-timeout``, then
cancel them), close the link, run lifespan shutdown and exit 0. A second signal
exits at once with status 1. A REJECT from the front exits 1.

Connecting: ``<socket-dir>/workers.sock`` is retried forever with exponential
backoff (0.1 s doubling to 5 s, each delay jittered to between half and all of
it); the first failure of each waiting period is logged at INFO, later ones at
DEBUG, and after 3 s (then every 60 s) one WARNING says how long it has waited
and the likely reason (``connect_wait.py``: no such directory, no
``workers.sock`` in it, a stale socket, permission denied). A link that drops
after WELCOME ends every open scope with ``server_shutdown`` (their apps keep
running to their end) and the worker reconnects the same way (at once if the
link had been up for 5 s, else after the next backoff delay, so a front that
keeps dropping us is not hammered); lifespan state survives, since the process does.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import random
import signal
import socket
import sys
import traceback
from collections.abc import Coroutine
from typing import Any, Protocol

import setproctitle
import uvloop
from pagi.protocol import messages as m
from pagi.protocol.log_config import LogConfigError

from .channels import install_hub
from .channels.hub import DEFAULT_CAPACITY
from .config import WorkerConfig
from .connect_wait import WaitReport, explain
from .interface import PAGI_INTERFACE, Interface, resolve
from .lifespan import Lifespan, LifespanStartupFailed
from .loader import App, AppLoadError, add_app_dir, load_app
from .logs import setup_logging
from .session import Session


class RunnableScope(Protocol):
    """Any scope object (http, websocket, sse): ``run()`` drives its app to END."""

    def run(self) -> Coroutine[Any, Any, None]: ...


logger = logging.getLogger("pagi.worker")

#: How long the front has to answer HELLO before we reconnect.
HANDSHAKE_TIMEOUT = 10.0
#: After cancelling scopes at the graceful timeout, how long they get to end.
CANCEL_GRACE = 2.0
#: Bound on writing the last frames (ENDs) before closing the link.
CLOSE_TIMEOUT = 5.0
#: While draining, how often to look for scopes opened after DRAIN left.
DRAIN_POLL = 0.05
#: A link that lived this long resets the reconnect backoff.
STABLE_LINK = 5.0
#: The name of every scope's task.
SCOPE_TASK_NAME = "pagi scope"
#: sockaddr_un.sun_path is 108 bytes including the terminating NUL.
MAX_UNIX_PATH = 107


class Backoff:
    """Delays between connection attempts: 0.1 s doubling to 5 s, jittered."""

    def __init__(self, first: float = 0.1, cap: float = 5.0) -> None:
        self._first = first
        self._cap = cap
        self._delay = first
        self.announced = False  # the "waiting" line was logged at INFO
        self.report = WaitReport()  # when to explain a long wait

    def next(self) -> float:
        delay = self._delay
        self._delay = min(delay * 2, self._cap)
        return random.uniform(delay / 2, delay)

    def reset(self) -> None:
        self._delay = self._first
        self.announced = False
        self.report.reset()


class Worker:
    def __init__(self, config: WorkerConfig, app: App) -> None:
        self.config = config
        self.app = app
        self.interface: Interface = PAGI_INTERFACE
        self.state: dict[str, object] = {}
        self.stopping = False
        # Each running scope's task. A scope removes its own entry when its app
        # is over (scope_done), not through a done callback: a done callback
        # costs every request one more turn of the event loop before its
        # response is written.
        self.tasks: dict[RunnableScope, asyncio.Task[None]] = {}
        #: The process's channel hub (attached to each link whose front offers channels).
        self.channels = install_hub(DEFAULT_CAPACITY)
        self._drained = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future[None] | None = None

    def start_scope(self, scope: RunnableScope) -> None:
        """Run one scope's app as its own task (called by the session on OPEN).

        The task is named :data:`SCOPE_TASK_NAME` unless a task factory is
        set: Python 3.11 formats a unique ``Task-<n>`` name for every task
        created without one (about 0.4 µs a request)."""
        loop = self._loop
        assert loop is not None
        if loop.get_task_factory() is None:
            task = asyncio.Task(scope.run(), loop=loop, name=SCOPE_TASK_NAME)
        else:
            task = loop.create_task(scope.run())
        self.tasks[scope] = task

    def scope_done(self, scope: RunnableScope) -> None:
        """The scope's app is over and its END is queued: forget its task."""
        self.tasks.pop(scope, None)

    def _forget_finished_tasks(self) -> None:
        """Drop tasks that ended without :meth:`scope_done` (only a
        ``BaseException`` escaping a scope can do that)."""
        for scope, task in list(self.tasks.items()):
            if task.done():
                del self.tasks[scope]

    async def main(self) -> int:
        """Everything after the app is loaded; returns the exit status."""
        self.interface, why = resolve(self.config.interface, self.app)
        logger.info(
            "serving the app through the %s interface (%s)", self.interface.name.upper(), why
        )
        loop = self._loop = asyncio.get_running_loop()
        stop = self._stop = loop.create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        config = self.config
        lifespan = Lifespan(self.app, config.lifespan, config.worker_num, config.graceful_timeout)
        self.state = lifespan.state
        startup = loop.create_task(lifespan.startup())
        await asyncio.wait({startup, stop}, return_when=asyncio.FIRST_COMPLETED)
        if not startup.done():
            logger.info("stopped during lifespan startup")
            startup.cancel()
            lifespan.cancel()
            await asyncio.wait({startup}, timeout=CANCEL_GRACE)
            return 0
        try:
            startup.result()
        except LifespanStartupFailed as exc:
            print(
                f"pagi-worker: lifespan startup failed: {exc.message}", file=sys.stderr, flush=True
            )
            return 3
        code = await self._serve()
        if not self._drained:
            await self._finish_tasks()
        await lifespan.shutdown()
        logger.info("worker stopped")
        return code

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self.stopping:
            logger.warning("%s again: exiting now", name)
            sys.stderr.flush()
            os._exit(1)
        self._begin_stop(f"{name} received")

    def request_stop(self) -> None:
        """The front sent DRAIN (reload, scale down, recycling): stop as on SIGTERM."""
        if not self.stopping:
            self._begin_stop("the front asked this worker to drain")

    def _begin_stop(self, why: str) -> None:
        self.stopping = True
        logger.info("%s: stopping gracefully (up to %.1f s)", why, self.config.graceful_timeout)
        if self._stop is not None and not self._stop.done():
            self._stop.set_result(None)

    # --- the link ---------------------------------------------------------------------

    async def _serve(self) -> int:
        """Connect, serve, reconnect, until stopped (0) or rejected (1)."""
        assert self._stop is not None
        stop = self._stop
        backoff = Backoff()
        path = self.config.socket_path
        while not self.stopping:
            sock = await self._connect(backoff)
            if sock is None:
                break
            session = Session(self, sock)
            handshake: set[asyncio.Future[Any]] = {session.welcomed, stop}
            await asyncio.wait(
                handshake,
                timeout=HANDSHAKE_TIMEOUT,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if session.reject_reason is not None:
                return 1
            if not (session.welcomed.done() and session.welcomed.result()):
                timed_out = not session.welcomed.done()
                session.link.abort()
                if self.stopping:
                    break
                if timed_out:
                    logger.warning("no WELCOME from pagi-front within %.0f s", HANDSHAKE_TIMEOUT)
                else:
                    logger.warning("pagi-front closed the link during the handshake")
                if not await self._sleep(backoff.next()):
                    break
                continue
            backoff.announced = False
            backoff.report.reset()
            connected_at = asyncio.get_running_loop().time()
            logger.info(
                "connected to pagi-front at %s as %r (worker id %s)",
                path,
                self.config.display_name,
                session.worker_id,
            )
            serving: set[asyncio.Future[Any]] = {session.closed, stop}
            await asyncio.wait(serving, return_when=asyncio.FIRST_COMPLETED)
            if session.reject_reason is not None:
                return 1
            if self.stopping:
                await self._drain(session)
                break
            logger.warning("lost the link to pagi-front; reconnecting")
            if asyncio.get_running_loop().time() - connected_at >= STABLE_LINK:
                backoff.reset()
            elif not await self._sleep(backoff.next()):
                break  # a link that keeps dropping at once: back off, do not spin
        return 0

    async def _connect(self, backoff: Backoff) -> socket.socket | None:
        """A connected socket, or None once stopping."""
        assert self._loop is not None
        path = self.config.socket_path
        while not self.stopping:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await self._loop.sock_connect(sock, path)
                return sock
            except OSError as exc:
                sock.close()
                quiet = backoff.announced
                backoff.announced = True
                if exc.errno in (errno.ENOENT, errno.ECONNREFUSED):
                    logger.log(
                        logging.DEBUG if quiet else logging.INFO,
                        "waiting for pagi-front at %s (retrying)",
                        path,
                    )
                else:
                    logger.log(
                        logging.DEBUG if quiet else logging.WARNING,
                        "cannot connect to pagi-front at %s: %s (retrying)",
                        path,
                        exc,
                    )
                now = self._loop.time()
                report = backoff.report
                if report.due(now):
                    logger.warning(
                        "still waiting for pagi-front at %s after %.0f s: %s",
                        path,
                        report.waited(now),
                        explain(self.config.socket_dir, exc),
                    )
                delay = min(backoff.next(), report.until_due(now))
            if not await self._sleep(delay):
                break
        return None

    async def _sleep(self, delay: float) -> bool:
        """Sleep ``delay`` seconds unless stopped first; False if stopping."""
        assert self._stop is not None
        await asyncio.wait({self._stop}, timeout=delay)
        return not self.stopping

    # --- stopping -------------------------------------------------------------------

    async def _drain(self, session: Session) -> None:
        """DRAIN, then serve until the front closes the link (it does so once it
        routes nothing more here and every scope it routed has ended), so an
        OPEN already on its way when DRAIN left is served, not lost."""
        session.link.send(m.drain())
        if self.tasks:
            logger.info("draining %d open scope(s)", len(self.tasks))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.graceful_timeout
        closed = session.closed
        while not closed.done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            waiting: set[asyncio.Future[Any]] = {closed, *self.tasks.values()}
            await asyncio.wait(
                waiting, timeout=min(remaining, DRAIN_POLL), return_when=asyncio.FIRST_COMPLETED
            )
            self._forget_finished_tasks()
        await self._finish_tasks(deadline)
        await session.link.close_gracefully(CLOSE_TIMEOUT)

    async def _finish_tasks(self, deadline: float | None = None) -> None:
        """Wait for every scope task (new ones too) up to the graceful timeout
        (or ``deadline``), then cancel what is left; their END says "cancelled
        at shutdown"."""
        self._drained = True
        loop = asyncio.get_running_loop()
        if deadline is None:
            deadline = loop.time() + self.config.graceful_timeout
        while self.tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait(set(self.tasks.values()), timeout=remaining)
            self._forget_finished_tasks()
        if self.tasks:
            logger.warning(
                "graceful timeout (%.1f s): cancelling %d scope(s)",
                self.config.graceful_timeout,
                len(self.tasks),
            )
            for task in list(self.tasks.values()):
                task.cancel()
            await asyncio.wait(set(self.tasks.values()), timeout=CANCEL_GRACE)


def run(config: WorkerConfig) -> int:
    """The whole worker process; returns its exit status."""
    try:
        setup_logging(config.log_level, config.worker_num, config.use_colors, config.log_config)
    except LogConfigError as exc:
        print(f"pagi-worker: --log-config: {exc}", file=sys.stderr, flush=True)
        return 2
    setproctitle.setproctitle(f"pagi-worker: {config.display_name}")
    add_app_dir(config.app_dir)
    try:
        app = load_app(config.app, factory=config.factory)
    except AppLoadError as failed:  # not ``exc``: mypyc types a name by its first binding
        if failed.cause is not None:
            traceback.print_exception(failed.cause, file=sys.stderr)
        print(f"pagi-worker: {failed.message}", file=sys.stderr, flush=True)
        return 2
    if len(os.fsencode(config.socket_path)) > MAX_UNIX_PATH:
        print(
            f"pagi-worker: socket path {config.socket_path!r} is too long for a UNIX socket "
            f"(at most {MAX_UNIX_PATH} bytes)",
            file=sys.stderr,
        )
        return 1
    logger.info(
        "pagi-worker %r starting (pid %d, app %s)", config.display_name, os.getpid(), config.app
    )
    return uvloop.run(Worker(config, app).main())
