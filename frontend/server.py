"""The pagi-front process: sockets, workers, signals, orderly shutdown.

:func:`run` is the whole life of the process and returns its exit status:

* 0 — stopped by SIGTERM/SIGINT after draining;
* 1 — could not start (socket in use, bind failed, another front running on
  the same socket dir), or a second signal cut the drain short;
* 2 / 3 — in embedded mode, a worker could not load the app (2) or its
  lifespan startup failed (3); the front stops with the worker's status.

SIGHUP reloads the TLS certificate and key (``docs/tls.md``): new
handshakes use the new pair, open connections keep theirs.

Startup order: worker socket (fails fast if another front owns it), client
listeners, then (embedded mode) the workers. Each client listener is logged
as ``listening on http://HOST:PORT`` or ``listening on unix:PATH`` with the
address actually bound.

Shutdown order (first signal): stop accepting; ``conn.shutdown()`` on every
client connection; wait up to ``--graceful-timeout`` for them to finish;
``conn.abort("server_shutdown")`` on the rest; stop embedded workers (SIGTERM,
up to ``--graceful-timeout`` + 1 s, then SIGKILL); close the worker links and
remove ``workers.sock``. A second signal skips the waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence

import uvloop
from pagi.protocol import reasons
from pagi.protocol.log_config import LogConfigError

from .access_format import compile_format
from .access_log import set_access_format
from .admission import Admission, connection_factory, reap_idle
from .config import FrontConfig
from .connections import FrontContext
from .link.pool import WorkerPool
from .listeners import (
    Listener,
    ListenError,
    close_listeners,
    open_listeners,
)
from .logs import setup_logging
from .pid_file import PidFile, PidFileError
from .supervisor import Supervisor
from .tls.acceptor import TlsAcceptor
from .tls.contexts import ServerContexts, TlsConfigError, tls_settings
from .worker_socket import WorkerSocket

logger = logging.getLogger("pagi.front")


class FrontServer:
    """State of one running front; :meth:`serve` is its lifetime."""

    def __init__(self, config: FrontConfig) -> None:
        self.config = config
        self.pool = WorkerPool()
        self.ctx = FrontContext(config=config, pool=self.pool)
        self.exit_code = 0
        self._stop = asyncio.Event()
        self._force = asyncio.Event()
        self._signals = 0
        self._listeners: list[Listener] = []
        self._servers: list[asyncio.AbstractServer] = []
        self._tls: ServerContexts | None = None
        self._acceptors: list[TlsAcceptor] = []
        self._workers: WorkerSocket | None = None
        self._supervisor: Supervisor | None = None
        self._private_dir: str | None = None
        self._pid_file = PidFile(config.pid_file) if config.pid_file else None

    # --- lifetime ---------------------------------------------------------------

    async def serve(self) -> int:
        try:
            if not await self._start():
                return 1
            await self._stop.wait()
            await self._shutdown()
        finally:
            self._cleanup()
        logger.info("stopped (exit status %d)", self.exit_code)
        return self.exit_code

    async def _start(self) -> bool:
        config = self.config
        loop = asyncio.get_running_loop()
        if config.private_socket_dir:
            self._private_dir = tempfile.mkdtemp(prefix="pagi-")
            config.socket_dir = self._private_dir
        self._workers = WorkerSocket(config, self.pool)
        try:
            self._workers.open()
            self._listeners = open_listeners(
                config.listen_addresses(), config.uds, config.fds, config.backlog
            )
            if any(listener.tls for listener in self._listeners):
                alpn = ("h2", "http/1.1") if config.http2 else ("http/1.1",)
                self._tls = ServerContexts(tls_settings(config, alpn))
        except (ListenError, TlsConfigError) as exc:
            logger.error("%s", exc)
            return False

        from .selector import ProtocolSelector

        ctx = self.ctx
        admission = Admission(
            ctx.connections,
            config.max_connections,
            config.max_connections_per_ip,
            lambda: reap_idle(ctx.connections),
        )
        for listener in self._listeners:
            if listener.tls:
                assert self._tls is not None
                acceptor = TlsAcceptor(
                    listener.sock,
                    self._tls,
                    ProtocolSelector(self.ctx, listener),
                    config.ssl_handshake_timeout,
                    config.server_header,
                )
                acceptor.start()
                self._acceptors.append(acceptor)
                continue
            factory = connection_factory(
                admission, ProtocolSelector(ctx, listener), config.server_header
            )
            server = await loop.create_server(factory, sock=listener.sock, backlog=config.backlog)
            self._servers.append(server)
        # Handlers first: whoever reads "listening on" may signal us at once.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        if self._tls is not None:
            loop.add_signal_handler(signal.SIGHUP, self._tls.reload)
        for listener in self._listeners:
            logger.info("listening on %s", listener.url)
        if self._pid_file is not None:
            try:
                self._pid_file.write()
            except PidFileError as exc:
                logger.error("%s", exc)
                return False
        self._set_title()
        if config.app is not None:
            self._supervisor = Supervisor(config, self._on_fatal)
            self._supervisor.start()
        else:
            logger.info("waiting for pagi-worker processes (--socket-dir %s)", config.socket_dir)
        return True

    def _set_title(self) -> None:
        try:
            from setproctitle import setproctitle
        except ImportError:  # pragma: no cover - a declared dependency
            return
        where = " ".join(listener.url.removeprefix("http://") for listener in self._listeners)
        if self.config.app is not None:
            setproctitle(f"pagi-front: {where} workers={self.config.workers}")
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

    def _on_fatal(self, code: int) -> None:
        if not self._stop.is_set():
            self.exit_code = code
            self._stop.set()

    async def _shutdown(self) -> None:
        ctx = self.ctx
        ctx.shutting_down = True
        self._close_acceptors()
        for server in self._servers:
            server.close()
        close_listeners(self._listeners)
        self._listeners = []

        timeout = self.config.graceful_timeout
        for conn in list(ctx.connections):
            try:
                conn.shutdown()
            except Exception:
                logger.exception("error in connection.shutdown()")
        if ctx.connections and not self._force.is_set():
            logger.info("waiting for %d open connection(s)", len(ctx.connections))
            await self._wait_for(lambda: not ctx.connections, timeout)
        if ctx.connections:
            logger.warning(
                "closing %d connection(s) still open after the graceful timeout",
                len(ctx.connections),
            )
            for conn in list(ctx.connections):
                try:
                    conn.abort(reasons.SERVER_SHUTDOWN)
                except Exception:
                    logger.exception("error in connection.abort()")

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

    async def _wait_for(self, condition: Callable[[], bool], timeout: float) -> None:
        """Poll ``condition()`` every 50 ms until true, ``timeout`` s, or a second signal."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition() and not self._force.is_set() and loop.time() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._force.wait(), 0.05)

    def _close_acceptors(self) -> None:
        for acceptor in self._acceptors:
            acceptor.close()
        self._acceptors = []

    def _cleanup(self) -> None:
        self._close_acceptors()
        for server in self._servers:
            server.close()
        close_listeners(self._listeners)
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
