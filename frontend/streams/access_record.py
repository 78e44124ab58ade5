"""The one access-log line and request metric per stream (HTTP, SSE, WebSocket).

Called exactly once per stream, when its outcome is known: the response was
completed, answered by the front, abandoned (``499``: nothing was sent; the
metric records no status) or, for a WebSocket, closed (the line carries the
close code). Reads the stream's fields; writes none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..access_log import log_access

if TYPE_CHECKING:
    from .http_stream import HTTPStream
    from .ws_stream import WSStream


def log_http(stream: HTTPStream, status: int) -> None:
    """The line for an ``http`` or ``sse`` request answered ``status``."""
    conn = stream.conn
    duration = conn.loop.time() - stream.started_at
    kind = "sse" if stream.sse else "http"
    sent = None if status == 499 else status
    conn.ctx.metrics.request_done(kind, sent, duration, stream.body_bytes)
    log_access(
        conn.peer,
        stream.method,
        stream.target,
        stream.http_version,
        status,
        stream.body_bytes,
        duration,
        stream.worker,
    )


def log_ws(stream: WSStream, status: int, close_code: int | None) -> None:
    """The line for a WebSocket: ``status`` 101 is the accept (``close_code``:
    the close that ended it); over HTTP/2 it is logged as the client saw it,
    ``CONNECT`` answered ``200`` (RFC 8441)."""
    conn = stream.conn
    body = 0 if status == 101 and close_code is None else stream.body_bytes
    duration = conn.loop.time() - stream.started_at
    sent = None if status == 499 else status
    conn.ctx.metrics.request_done("websocket", sent, duration, body)
    method = "GET"
    if stream.http_version == "2":
        method = "CONNECT"
        if status == 101:
            status = 200
    log_access(
        conn.peer,
        method,
        stream.target,
        stream.http_version,
        status,
        body,
        duration,
        stream.worker,
        close_code,
    )
