"""What ``pagi-ctl status`` and ``pagi-ctl connections`` show, as plain JSON.

Pure readers: they look at the pool, its links and the open client
connections at one instant and never change them. Times are seconds; ages
are measured on the front's loop clock.

A client connection is read through :class:`~.connections.ClientConnection`
(``peer``, ``protocol``, ``opened_at``, ``bytes_in()``, ``bytes_out()``); the
request in progress through its ``current_stream()`` (HTTP/1.1, WebSocket) or
its ``current()`` summary (HTTP/2).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .connections import ClientConnection
    from .link.pool import WorkerPool
    from .link.worker_link import WorkerLink

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_of(pid: int | None) -> int | None:
    """Resident set size of a process in bytes (Linux ``/proc``), None if unknown."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def worker_state(link: WorkerLink) -> str:
    return "draining" if link.draining else "ready"


def worker_entry(link: WorkerLink, now: float) -> dict[str, object]:
    """One worker's line of ``status``."""
    last_pong = link.last_pong
    return {
        "id": link.worker_id,
        "name": link.name,
        "pid": link.pid,
        "app": link.app,
        "state": worker_state(link),
        "age": round(now - link.joined_at, 3) if link.joined_at else None,
        "in_flight": link.open_scopes,
        "served": link.scopes_opened,
        "capacity": link.capacity,
        "rss": rss_of(link.pid),
        "last_heartbeat": round(now - last_pong, 3) if last_pong else None,
    }


def worker_entries(pool: WorkerPool, now: float) -> list[dict[str, object]]:
    return [worker_entry(link, now) for link in sorted(pool.links, key=lambda ln: ln.worker_id)]


def _current_request(conn: ClientConnection) -> dict[str, object] | None:
    """The scope an HTTP/1.1 or WebSocket connection serves now (None when idle;
    an HTTP/2 connection's streams are summed up by ``current()`` instead)."""
    current_stream = getattr(conn, "current_stream", None)
    stream = current_stream() if callable(current_stream) else None
    if stream is None:
        summary = conn.current()
        return {"type": "streams", "summary": summary} if summary else None
    raw = stream.target
    target = raw.decode("ascii", "backslashreplace") if isinstance(raw, bytes) else str(raw)
    method = getattr(stream, "method", None)  # a WebSocket stream has none
    kind = "websocket" if method is None else "sse" if getattr(stream, "sse", False) else "http"
    return {
        "type": kind,
        "method": method,
        "path": target.partition("?")[0],
        "target": target,
        "worker": stream.worker,
        "bytes_out": stream.body_bytes,
    }


def connection_entry(conn: ClientConnection, now: float) -> dict[str, object]:
    """One client connection's line of ``connections``."""
    return {
        "peer": conn.peer,
        "protocol": conn.protocol,
        "age": round(now - conn.opened_at, 3),
        "bytes_in": conn.bytes_in(),
        "bytes_out": conn.bytes_out(),
        "request": _current_request(conn),
    }


def connection_entries(
    connections: Iterable[ClientConnection], now: float
) -> list[dict[str, object]]:
    return [connection_entry(conn, now) for conn in list(connections)]


def connections_by_protocol(connections: Iterable[ClientConnection]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for conn in list(connections):
        key = conn.protocol
        counts[key] = counts.get(key, 0) + 1
    return counts
