"""Opening a scope for a stream: one routine for every stream type.

A stream that is ready to go to a worker calls :func:`open_scope`. The pool
picks the ready worker with the fewest open scopes; if none is ready the
stream waits (one task, the only one a request ever gets) through the front's
admission (:mod:`..admission`: ``--queue-size`` waiting at most, each up to
``--worker-wait-timeout``), and is answered ``503`` with ``retry-after`` if it
is shed (admission logs and counts that). The stream then OPENs its scope on
that link, with the fields :func:`open_fields` puts together.

Invariants: a stream is opened at most once; the wait task is handed to
the stream (``stream.wait``) while it runs (the stream cancels it when it
ends early; it writes the field itself);
after the wait, a stream that is no longer waiting (the client went away, the
connection was aborted) is left alone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Protocol

from ..forwarded import scope_addresses

if TYPE_CHECKING:
    from pagi.protocol import BodyMode

    from ..link.handle import Headers, LinkHandle, LinkSource, LinkWaiter, OpenFields
    from .interfaces import StreamHost

logger = logging.getLogger("pagi.front")

#: Sent with a 503 when no worker could take a request in time.
RETRY_AFTER = ((b"retry-after", b"1"),)


class Openable(Protocol):
    """A stream as the opening routine sees it."""

    @property
    def conn(self) -> StreamHost: ...

    def wait(self, task: asyncio.Task[None] | None) -> None:
        """``task`` waits for a worker for the stream (None: the wait is over)."""

    def waiting(self) -> bool:
        """Still waiting for a worker (not ended meanwhile)."""

    def label(self) -> str:
        """``GET /path`` or ``WebSocket /path``, for log lines."""

    def open(self, link: LinkHandle) -> None:
        """OPEN the scope on ``link``."""

    def opened_late(self) -> None:
        """Called after :meth:`open` when the stream had to wait."""

    def reply(self, status: int, message: str, extra: tuple[tuple[bytes, bytes], ...]) -> None:
        """Answer with a response of the front's own and end."""

    def abort_wait(self) -> None:
        """The wait itself failed (a bug): drop the connection."""


def pick_link(conn: StreamHost) -> LinkHandle | None:
    """A ready worker's link for a new scope now (the pool's pick), or None."""
    pool: LinkSource = conn.ctx.pool
    return pool.pick()


async def wait_link(conn: StreamHost, what: str) -> LinkHandle | None:
    """A worker's link through the admission queue (``what`` names the request
    in its log), or None: shed."""
    admission: LinkWaiter = conn.ctx.admission
    return await admission.wait(what)


def open_scope(stream: Openable) -> None:
    """Open ``stream``'s scope on a worker now, or start waiting for one."""
    link = pick_link(stream.conn)
    if link is None:
        wait_for_worker(stream)
    else:
        stream.open(link)


def wait_for_worker(stream: Openable) -> None:
    """Start ``stream``'s wait for a worker (none was ready): it opens the
    scope, or answers 503, when the wait is over."""
    stream.wait(stream.conn.loop.create_task(_wait_for_worker(stream)))


async def _wait_for_worker(stream: Openable) -> None:
    """The slow path: no worker could take the stream at once."""
    conn = stream.conn
    try:
        link = await wait_link(conn, f"{stream.label()} from {conn.peer}")
        stream.wait(None)
        if not stream.waiting():
            return
        if link is None:  # shed (admission.py logged and counted it)
            stream.reply(503, "no worker is available", RETRY_AFTER)
            return
        stream.open(link)
        stream.opened_late()
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("error while waiting for a worker for %s", conn.peer)
        stream.abort_wait()


def open_fields(
    conn: StreamHost,
    kind: str,
    version: str,
    method: str,
    scheme: str,
    raw_path: bytes,
    query: bytes,
    headers: Headers,
    extras: dict[str, Any],
    mode: BodyMode,
) -> OpenFields:
    """OPEN's fields for a ``kind`` scope of ``conn``. Client, server and
    ``scheme`` are the connection's, or what a trusted proxy said of them
    (``--proxy-headers``, :mod:`..forwarded`)."""
    trusted = conn.ctx.trusted_proxies
    client, server = conn.client, conn.server
    if trusted is not None:
        ws = kind == "websocket"
        client, scheme, server = scope_addresses(trusted, client, scheme, server, headers, ws)
    return (kind, version, method, scheme, raw_path, query, headers, client, server, extras, mode)
