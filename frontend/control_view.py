"""What ``pagi-ctl status`` and ``pagi-ctl connections`` show, as plain JSON.

Pure readers: they look at the pool, its links and the open client
connections at one instant and never change them. Times are seconds; ages
are measured on the front's loop clock.

A client connection is read through :class:`ClientConnectionView`: the
attributes every connection class of the front has (``peer``), plus optional
ones read when present (``protocol``, ``connected_at``, ``bytes_in``,
``bytes_out``, and the request in progress). A missing one shows as ``null``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
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


class ClientConnectionView(Protocol):
    """The part of a client connection every front connection class has."""

    @property
    def peer(self) -> str: ...


def protocol_of(conn: object) -> str:
    """``http/1.1``, ``websocket``, ... (the connection's own word when it has one)."""
    declared = getattr(conn, "protocol", None)
    if isinstance(declared, str):
        return declared
    name = type(conn).__name__.lower()
    if "websocket" in name:
        return "websocket"
    if "http11" in name or "http1" in name:
        return "http/1.1"
    return name


def _current_request(conn: object) -> dict[str, object] | None:
    cur = getattr(conn, "_cur", None)
    if cur is None:
        target = getattr(conn, "_target", None)
        if isinstance(target, bytes):  # a WebSocket connection: its one scope
            text = target.decode("ascii", "backslashreplace")
            return {
                "type": "websocket",
                "path": text.partition("?")[0],
                "target": text,
                "worker": getattr(conn, "worker", None),
            }
        return None
    raw = getattr(cur, "target", b"")
    target = raw.decode("ascii", "backslashreplace") if isinstance(raw, bytes) else ""
    return {
        "type": "sse" if getattr(cur, "sse", False) else "http",
        "method": getattr(cur, "method", None),
        "path": target.partition("?")[0],
        "target": target,
        "worker": getattr(cur, "worker", None),
        "bytes_out": getattr(cur, "body_bytes", None),
    }


def connection_entry(conn: ClientConnectionView, now: float) -> dict[str, object]:
    """One client connection's line of ``connections``."""
    connected_at = getattr(conn, "connected_at", None)
    return {
        "peer": conn.peer,
        "protocol": protocol_of(conn),
        "age": round(now - connected_at, 3) if isinstance(connected_at, float) else None,
        "bytes_in": getattr(conn, "bytes_in", None),
        "bytes_out": getattr(conn, "bytes_out", None),
        "request": _current_request(conn),
    }


def connection_entries(
    connections: Iterable[ClientConnectionView], now: float
) -> list[dict[str, object]]:
    return [connection_entry(conn, now) for conn in list(connections)]


def connections_by_protocol(connections: Iterable[object]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for conn in list(connections):
        key = protocol_of(conn)
        counts[key] = counts.get(key, 0) + 1
    return counts
