"""The front's control plane: the control socket, the metrics listener, and
the answers both give (:class:`~.control_api.ControlTarget`).

* ``<socket-dir>/control.sock`` serves every route of :mod:`.control_api`.
* ``--metrics-bind HOST:PORT`` serves ``GET /metrics`` (Prometheus) and
  ``GET /healthz`` (200 while at least one worker is ready, else 503), for
  scrapers and load-balancer or Kubernetes readiness checks. Nothing else is
  reachable over TCP: operations need the control socket.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable

from .config import FrontConfig
from .connections import FrontContext
from .control_api import OperationError, make_handler
from .control_http import ControlRequest, ControlResponse, serve_connection
from .control_socket import ControlSocket
from .control_view import connection_entries, connections_by_protocol, worker_entries
from .handover_source import HandoverSource
from .listeners import Listener, ListenError, bind_tcp, close_listeners, parse_bind
from .metrics_export import Exporter, MetricsSource, MetricsUnavailable, load_exporter
from .rolling import Operations

logger = logging.getLogger("pagi.front")


class ControlPlane:
    """Implements :class:`~.control_api.ControlTarget` for one running front."""

    def __init__(
        self,
        config: FrontConfig,
        ctx: FrontContext,
        operations: Operations,
        listeners: Callable[[], list[Listener]],
    ) -> None:
        self._config = config
        self._ctx = ctx
        self._ops = operations
        self._listeners = listeners
        self._loop = asyncio.get_running_loop()
        self._started = time.time()
        self._started_loop = self._loop.time()
        self._socket: ControlSocket | None = None
        self._metrics_listener: Listener | None = None
        self._metrics_server: asyncio.AbstractServer | None = None
        self._exporter: Exporter | None = None
        self.handover: HandoverSource | None = None  # set once the sockets are open

    # --- lifetime ---------------------------------------------------------------------

    @property
    def control_socket(self) -> ControlSocket | None:
        return self._socket

    async def open(self, adopted: Listener | None = None) -> None:
        """Open the control socket (or use one handed over) and the metrics
        listener (ListenError on failure)."""
        if self._config.metrics_bind is not None:
            # Needed now: a --metrics-bind without prometheus_client is refused at start.
            try:
                self._load_exporter()
            except MetricsUnavailable as exc:
                raise ListenError(f"--metrics-bind: {exc}") from None
        if self._config.control_socket:
            self._socket = ControlSocket(
                self._config.socket_dir, self._config.control_socket_mode, make_handler(self)
            )
            await self._socket.open(adopted)
        if self._config.metrics_bind is not None:
            try:
                addr = parse_bind(self._config.metrics_bind)
            except ValueError as exc:
                raise ListenError(str(exc)) from None
            self._metrics_listener = bind_tcp(addr, 64)
            self._metrics_server = await asyncio.start_server(
                self._metrics_connection, sock=self._metrics_listener.sock
            )
            logger.info("metrics on %s/metrics", self._metrics_listener.url)

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
            self._socket = None
        if self._metrics_server is not None:
            self._metrics_server.close()
            self._metrics_server = None
        if self._metrics_listener is not None:
            close_listeners([self._metrics_listener])
            self._metrics_listener = None

    async def _metrics_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await serve_connection(reader, writer, self._metrics_route)

    async def _metrics_route(self, request: ControlRequest) -> ControlResponse:
        if request.method != "GET":
            return ControlResponse.error(405, "GET only")
        if request.path == "/metrics":
            body, content_type = self.metrics_exposition()
            return ControlResponse(200, body, content_type)
        if request.path == "/healthz":
            ready = len(self._ctx.pool) > 0 and not self._ctx.shutting_down
            text = b"ok\n" if ready else b"no worker ready\n"
            return ControlResponse(200 if ready else 503, text, "text/plain")
        return ControlResponse.error(404, "only /metrics and /healthz here")

    # --- ControlTarget ----------------------------------------------------------------

    def status(self) -> dict[str, object]:
        now = self._loop.time()
        ctx = self._ctx
        last = self._ops.last_reload
        current = self._ops.current_reload
        return {
            "front": {
                "pid": os.getpid(),
                "uptime": round(now - self._started_loop, 3),
                "started_at": self._started,
                "mode": "embedded" if self._config.app is not None else "split",
                "app": self._config.app,
                "socket_dir": self._config.socket_dir,
                "listeners": [
                    {"url": listener.url, "name": listener.name or None}
                    for listener in self._listeners()
                ],
                "connections": connections_by_protocol(ctx.connections),
                "shutting_down": ctx.shutting_down,
                "target_workers": self._ops.target_workers,
            },
            "reload": {
                "running": current.as_json() if current is not None else None,
                "last": last.as_json() if last is not None else None,
            },
            "workers": worker_entries(ctx.pool, now),
        }

    def connections(self) -> list[dict[str, object]]:
        return connection_entries(self._ctx.connections, self._loop.time())

    def stats(self) -> dict[str, object]:
        snapshot = self._ctx.metrics.snapshot()
        links = self._ctx.pool.links
        snapshot["in_flight"] = sum(link.open_scopes for link in links)
        snapshot["connections"] = connections_by_protocol(self._ctx.connections)
        snapshot["workers"] = {
            "ready": sum(1 for link in links if not link.draining),
            "draining": sum(1 for link in links if link.draining),
        }
        return snapshot

    def _load_exporter(self) -> Exporter:
        """The exporter, built on first use: prometheus_client (about 5 MiB and tens of
        ms) is imported only once metrics are asked for, or at start for --metrics-bind."""
        if self._exporter is None:
            source = MetricsSource(self._ctx.metrics, self._ctx.pool, lambda: self._ctx.connections)
            self._exporter = load_exporter(source)
        return self._exporter

    def metrics_exposition(self) -> tuple[bytes, str]:
        try:
            exporter = self._load_exporter()
        except MetricsUnavailable as exc:
            raise OperationError(501, str(exc)) from None
        return exporter.render()

    async def reload(self, wait: bool) -> dict[str, object]:
        return await self._ops.reload(wait)

    def scale(self, workers: int) -> dict[str, object]:
        return self._ops.scale(workers)

    def drain(self, worker: str) -> dict[str, object]:
        return self._ops.drain(worker)

    def hand_over(self, closed: asyncio.Future[None] | None) -> tuple[dict[str, object], list[int]]:
        if self.handover is None:
            raise OperationError(409, "this front cannot hand its sockets over")
        return self.handover.give(closed)

    def handover_done(self) -> dict[str, object]:
        if self.handover is None:
            raise OperationError(409, "no hand-over under way")
        return self.handover.done()
