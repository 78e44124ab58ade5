"""The pagi-front process: sockets, workers, signals, orderly shutdown.

:func:`run` is the whole life of the process and returns its exit status:

* 0 — stopped by SIGTERM/SIGINT after draining;
* 1 — could not start (socket in use, bind failed, another front running on
  the same socket dir), or a second signal cut the drain short;
* 2 / 3 — in embedded mode, a worker could not load the app (2) or its
  lifespan startup failed (3); the front stops with the worker's status.

SIGHUP reloads the TLS certificate and key (``docs/tls.md``): new
handshakes use the new pair, open connections keep theirs; in embedded mode
it also rolls fresh workers in (``docs/operations.md``).

Startup order: worker socket (fails fast if another front owns it), client
listeners (:class:`~.client_sockets.ClientSockets`), the control socket and
metrics listener, signal handlers, then (embedded mode) the workers. Each
client listener is logged as ``listening on http://HOST:PORT`` or ``listening
on unix:PATH`` with the address actually bound; by then signals are handled
and ``pagi-ctl`` is answered. With ``--handover`` the sockets come from the
running front instead (handover.py).

Shutdown order (first signal): stop accepting; ``conn.shutdown()`` on every
client connection; wait up to ``--graceful-timeout`` for them to finish;
``conn.abort("server_shutdown")`` on the rest (:mod:`.connection_drain`);
stop embedded workers (SIGTERM, up to ``--graceful-timeout`` + 1 s, then
SIGKILL); close the worker links and remove ``workers.sock``. A second
signal skips the waiting.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

import uvloop
from pagi.protocol.log_config import LogConfigError

from .access_format import compile_format
from .access_log import set_access_format, start_access_writer, stop_access_writer
from .channels import ChannelsError, make_broker, start_relay
from .client_sockets import ClientSockets
from .config import FrontConfig
from .connection_drain import drain_connections
from .connections import FrontContext
from .control_plane import ControlPlane
from .control_socket import CONTROL_SOCKET_NAME
from .dev_reload import FileWatcher, watch_app_files
from .handover import (
    Handover,
    HandoverError,
    adopt,
    confirm_when_ready,
    own,
    take_sockets,
)
from .handover_source import HandoverSource
from .link.pool import WorkerPool
from .listeners import (
    ListenError,
)
from .logs import setup_logging
from .pid_file import PidFile, PidFileError
from .rolling import Operations
from .sd_notify import Notifier
from .service_notify import ServiceNotifier
from .supervisor import Supervisor
from .tls.contexts import TlsConfigError
from .worker_health import WorkerHealth
from .worker_socket import WorkerSocket

if TYPE_CHECKING:
    from .channels.redis_relay import RedisRelay

logger = logging.getLogger("pagi.front")


class FrontServer:
    """State of one running front; :meth:`serve` is its lifetime."""

    def __init__(self, config: FrontConfig) -> None:
        self.config = config
        self.pool = WorkerPool(make_broker(config))
        self.ctx = FrontContext(config=config, pool=self.pool)
        self.exit_code = 0
        self._stop = asyncio.Event()
        self._force = asyncio.Event()
        self._signals = 0
        self.clients = ClientSockets(self.ctx, config)
        self._workers: WorkerSocket | None = None
        self._supervisor: Supervisor | None = None
        self._private_dir: str | None = None
        self._ops: Operations | None = None
        self._control: ControlPlane | None = None
        self._health: WorkerHealth | None = None
        self._watcher: FileWatcher | None = None
        self._handed: Handover | None = None  # sockets taken from the previous front
        self._handover_task: asyncio.Task[None] | None = None
        self._relay: RedisRelay | None = None  # --channels redis://...
        self._pid_file = PidFile(config.pid_file) if config.pid_file else None
        self.notify = ServiceNotifier(Notifier.from_environ(), self._is_ready, self.describe)

    def _is_ready(self) -> bool:
        """Listening, and at least one worker takes requests (systemd's READY=1)."""
        return self.clients.accepting and len(self.pool) > 0

    def describe(self) -> str:
        """One line of live counts (systemd's STATUS=)."""
        links = self.pool.links
        draining = sum(1 for link in links if link.draining)
        return (
            f"{len(links) - draining} worker(s) ready, {draining} draining; "
            f"{len(self.ctx.connections)} connection(s)"
        )

    # --- lifetime ---------------------------------------------------------------

    async def serve(self) -> int:
        start_access_writer(asyncio.get_running_loop())
        try:
            if not await self._start():
                if self._supervisor is not None:
                    await self._supervisor.stop(self.config.graceful_timeout)
                return 1
            await self._stop.wait()
            self.notify.stopping()
            await self._shutdown()
        finally:
            if self._watcher is not None:
                await self._watcher.close()
            if self._health is not None:
                await self._health.close()
            if self._ops is not None:
                await self._ops.close()
            if self._control is not None:
                await self._control.close()
            self._cleanup()
            await self.notify.close()
            stop_access_writer()
        logger.info("stopped (exit status %d)", self.exit_code)
        return self.exit_code

    async def _start(self) -> bool:
        config = self.config
        loop = asyncio.get_running_loop()
        if config.private_socket_dir:
            self._private_dir = tempfile.mkdtemp(prefix="pagi-")
            config.socket_dir = self._private_dir
        self._workers = WorkerSocket(config, self.pool)
        handed: Handover | None = None
        try:
            if config.handover:
                handed = self._take_over()
            else:
                self._workers.open()
                self.clients.open()
            self.clients.prepare_tls()
        except (ListenError, HandoverError, TlsConfigError) as exc:
            logger.error("%s", exc)
            return False
        if config.app is not None:
            # Spawned before the front imports its protocol modules and opens the
            # rest: the workers' own start-up (interpreter, app, lifespan) runs
            # alongside; they connect to the worker socket, already open.
            self._supervisor = Supervisor(config, self._on_fatal, self._on_respawn)
            self._supervisor.start()
            await asyncio.sleep(0)  # let the spawn tasks fork now

        try:
            self._relay = start_relay(config, self.pool.channels)
        except ChannelsError as exc:
            logger.error("%s", exc)
            return False

        await self.clients.start()
        ctx = self.ctx
        self._ops = Operations(
            config, self.pool, ctx.metrics, self._supervisor, self._on_reload_state, self._set_title
        )
        self._control = ControlPlane(config, ctx, self._ops, lambda: self.clients.listeners)
        try:
            control = handed.of_role("control") if handed is not None else []
            await self._control.open(adopt(control[0]) if control else None)
        except ListenError as exc:
            logger.error("%s", exc)
            return False
        if self._control.control_socket is not None:
            self._control.handover = HandoverSource(
                lambda: self.clients.listeners,
                self._workers,
                self._control.control_socket,
                lambda: self._private_dir,
                self._handed_over,
            )
        # Before the "listening on" lines, which scripts take as "ready": signals
        # are handled and the control socket answers from then on.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        self.clients.log_listening()
        if self._pid_file is not None:
            try:
                self._pid_file.write()
            except PidFileError as exc:
                logger.error("%s", exc)
                return False
        self._set_title()
        self.notify.start()

        self._health = WorkerHealth(
            config, self.pool, ctx.metrics, self._ops.recycle, self._ops.unresponsive
        )
        self._health.start()
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        loop.add_signal_handler(signal.SIGTTIN, self._ops.scale_by, 1)
        loop.add_signal_handler(signal.SIGTTOU, self._ops.scale_by, -1)
        if self._supervisor is not None:
            if config.reload:
                self._watcher = watch_app_files(config, self._ops)
        else:
            logger.info("waiting for pagi-worker processes (--socket-dir %s)", config.socket_dir)
        if handed is not None:
            self._handover_task = loop.create_task(self._confirm_take_over(handed))
        return True

    # --- hand-over (handover.py) ---------------------------------------------------

    def _take_over(self) -> Handover:
        """Receive the running front's sockets instead of binding our own."""
        assert self._workers is not None
        handed = take_sockets(os.path.join(self.config.socket_dir, CONTROL_SOCKET_NAME))
        self._handed = handed
        self.clients.listeners = [adopt(s) for s in handed.of_role("client")]
        workers = handed.of_role("workers")
        if not workers:
            raise HandoverError("the running front passed no worker socket")
        self._workers.adopt(adopt(workers[0]))
        return handed

    async def _confirm_take_over(self, handed: Handover) -> None:
        target = self.config.workers if self.config.app is not None else 1
        if not await confirm_when_ready(
            handed, lambda: len(self.pool) >= target, self.config.reload_timeout
        ):
            logger.error(
                "no worker ready within %g s: hand-over abandoned (the old front serves on)",
                self.config.reload_timeout,
            )
            self.exit_code = 1
            self._stop.set()
            return
        assert self._workers is not None and self._control is not None
        control = self._control.control_socket
        control_listener = control.listener if control is not None else None
        own(handed, [*self.clients.listeners, self._workers.listener, control_listener])
        if handed.private_dir:
            self._private_dir = handed.private_dir
        logger.info("took over the sockets; the old front is stopping")

    def _handed_over(self) -> None:
        """The new front serves on our sockets: stop (its socket dir is its now)."""
        self._private_dir = None
        self._stop.set()

    def _set_title(self) -> None:
        try:
            from setproctitle import setproctitle
        except ImportError:  # pragma: no cover - a declared dependency
            return
        where = " ".join(
            listener.url.removeprefix("http://") for listener in self.clients.listeners
        )
        if self._supervisor is not None:
            setproctitle(f"pagi-front: {where} workers={self._supervisor.target}")
        else:
            setproctitle(f"pagi-front: {where} socket-dir={self.config.socket_dir}")

    def _on_signal(self, sig: int) -> None:
        self._signals += 1
        name = signal.Signals(sig).name
        if self._signals == 1:
            logger.info(
                "%s received: shutting down (up to %g s for open requests)",
                name,
                self.config.graceful_timeout,
            )
            self._stop.set()
        else:
            logger.warning("%s received again: stopping now", name)
            self.exit_code = self.exit_code or 1
            self._force.set()
            self._stop.set()

    def _on_sighup(self) -> None:
        """Reload the TLS certificate (if any) and roll fresh embedded workers in."""
        tls = self.clients.tls
        if tls is not None:
            tls.reload()
        if self._ops is None or self._supervisor is None:
            if tls is None:
                logger.info("SIGHUP: nothing to reload in the production layout")
            return
        logger.info("SIGHUP received: rolling reload of the workers")
        asyncio.get_running_loop().create_task(self._ops.reload(wait=False))

    def _on_respawn(self) -> None:
        self.ctx.metrics.respawns += 1

    def _on_reload_state(self, running: bool) -> None:
        if running:
            self.notify.reloading("reloading workers")
        else:
            self.notify.reloaded()

    def _on_fatal(self, code: int) -> None:
        if not self._stop.is_set():
            self.exit_code = code
            self._stop.set()

    async def _shutdown(self) -> None:
        ctx = self.ctx
        ctx.shutting_down = True
        self.clients.stop_accepting()
        timeout = self.config.graceful_timeout
        await drain_connections(ctx.connections, timeout, self._force)

        if self._supervisor is not None:
            if self._force.is_set():
                await self._supervisor.kill()
            else:
                stopping = asyncio.ensure_future(self._supervisor.stop(timeout + 1.0))
                # A second signal during this wait kills the workers at once.
                force = asyncio.ensure_future(self._force.wait())
                await asyncio.wait({stopping, force}, return_when=asyncio.FIRST_COMPLETED)
                force.cancel()
                if not stopping.done():
                    await self._supervisor.kill()
                    await stopping
        if self._relay is not None:
            await self._relay.close()

    def _cleanup(self) -> None:
        self.clients.stop_accepting()
        if self._workers is not None:
            self._workers.close()
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
        if self._pid_file is not None:
            self._pid_file.remove()


def run(config: FrontConfig, warnings: Sequence[str] = ()) -> int:
    """Run the front until it stops; return the process exit status.

    ``warnings`` (from the command line checks) are logged once logging is set up.
    """
    try:
        setup_logging(config.log_level, config.access_log, config.use_colors, config.log_config)
    except LogConfigError as exc:
        print(f"Error: --log-config: {exc}", file=sys.stderr)
        return 2
    for warning in warnings:
        logger.warning("%s", warning)
    if config.access_log_format is not None:
        set_access_format(compile_format(config.access_log_format))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(FrontServer(config).serve())
