"""The control socket's routes (HTTP/1.1 + JSON).

==================  ===========================================================
``GET /status``     the front and each worker (``pagi-ctl status``)
``GET /connections`` every client connection (``pagi-ctl connections``)
``GET /stats``      every counter as JSON (``pagi-ctl stats --json``)
``GET /metrics``    Prometheus text exposition
``POST /reload``    rolling reload; ``?wait=1`` answers when it is over
``POST /scale``     ``{"workers": N}`` (embedded mode)
``POST /drain``     ``{"worker": ID | NAME | PID}``: drain one worker
``POST /handover``  the listening sockets, as SCM_RIGHTS (a new front; handover.py)
``POST /handover/done`` the new front serves: stop
==================  ===========================================================

Errors are JSON ``{"error": "..."}`` with a fitting status: 400 for a bad
argument, 404 for an unknown path or worker, 405 for a wrong method, 409 when
the operation does not apply (e.g. ``scale`` without ``--app``), 501 when an
optional dependency is missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from .control_http import ControlRequest, ControlResponse


class OperationError(Exception):
    """An operation cannot be done; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ControlTarget(Protocol):
    """What the control plane needs from the running front."""

    def status(self) -> dict[str, object]: ...

    def connections(self) -> list[dict[str, object]]: ...

    def stats(self) -> dict[str, object]: ...

    def metrics_exposition(self) -> tuple[bytes, str]:
        """(body, content type); raises OperationError(501) without prometheus_client."""
        ...

    async def reload(self, wait: bool) -> dict[str, object]: ...

    def scale(self, workers: int) -> dict[str, object]: ...

    def drain(self, worker: str) -> dict[str, object]: ...

    def hand_over(self, closed: asyncio.Future[None] | None) -> tuple[dict[str, object], list[int]]:
        """The listening sockets for a new front: (description, descriptors)."""
        ...

    def handover_done(self) -> dict[str, object]: ...


Route = Callable[[ControlTarget, ControlRequest], Awaitable[ControlResponse]]


async def _status(target: ControlTarget, request: ControlRequest) -> ControlResponse:
    return ControlResponse.of_json(200, target.status())


async def _connections(target: ControlTarget, request: ControlRequest) -> ControlResponse:
    return ControlResponse.of_json(200, {"connections": target.connections()})


async def _stats(target: ControlTarget, request: ControlRequest) -> ControlResponse:
    return ControlResponse.of_json(200, target.stats())


async def _metrics(target: ControlTarget, request: ControlRequest) -> ControlResponse:
    body, content_type = target.metrics_exposition()
    return ControlResponse(200, body, content_type)


async def _reload(target: ControlTarget, request: ControlRequest) -> ControlResponse:
    wait = request.query.get("wait", "0") in ("1", "true", "yes")
    result = await target.reload(wait)
    return ControlResponse.of_json(200 if wait else 202, result)


async def _scale(target: ControlTarget, request: ControlRequest) -> ControlResponse:
    body = _json_body(request)
    workers = body.get("workers")
    if type(workers) is not int or workers < 1:
        raise OperationError(400, "'workers' must be an integer >= 1")
    return ControlResponse.of_json(202, target.scale(workers))


async def _drain(target: ControlTarget, request: ControlRequest) -> ControlResponse:
    body = _json_body(request)
    worker = body.get("worker")
    if isinstance(worker, int) and not isinstance(worker, bool):
        worker = str(worker)
    if not isinstance(worker, str) or not worker:
        raise OperationError(400, "'worker' must name a worker (id, name or pid)")
    return ControlResponse.of_json(202, target.drain(worker))


async def _handover(target: ControlTarget, request: ControlRequest) -> ControlResponse:
    info, fds = target.hand_over(request.connection_closed)
    response = ControlResponse.of_json(200, info)
    response.fds = fds
    return response


async def _handover_done(target: ControlTarget, request: ControlRequest) -> ControlResponse:
    return ControlResponse.of_json(200, target.handover_done())


def _json_body(request: ControlRequest) -> dict[str, object]:
    try:
        return request.json()
    except ValueError as exc:
        raise OperationError(400, f"bad JSON body: {exc}") from None


ROUTES: dict[str, tuple[str, Route]] = {
    "/status": ("GET", _status),
    "/connections": ("GET", _connections),
    "/stats": ("GET", _stats),
    "/metrics": ("GET", _metrics),
    "/reload": ("POST", _reload),
    "/scale": ("POST", _scale),
    "/drain": ("POST", _drain),
    "/handover": ("POST", _handover),
    "/handover/done": ("POST", _handover_done),
}


def make_handler(target: ControlTarget) -> Callable[[ControlRequest], Awaitable[ControlResponse]]:
    """The control socket's request handler for ``target``."""

    async def handle(request: ControlRequest) -> ControlResponse:
        entry = ROUTES.get(request.path.rstrip("/") or "/")
        if entry is None:
            return ControlResponse.error(404, f"no such endpoint: {request.path}")
        method, route = entry
        if request.method != method:
            response = ControlResponse.error(405, f"{request.path} takes {method}")
            response.headers.append(("allow", method))
            return response
        try:
            return await route(target, request)
        except OperationError as exc:
            return ControlResponse.error(exc.status, str(exc))

    return handle
