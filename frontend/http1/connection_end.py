"""How an HTTP/1.x connection ends other than by keep-alive: errors, abort, lingering close.

The cold paths of :class:`~.connection.HTTP11Connection`, acting on it only
through its methods (``close``, ``abort_transport``, ``write``,
``end_keep_alive``, ``current_stream``, ``stop_input``), on its request
queue and on the transport it hands out:

* :func:`request_error` — the parser failed or a limit was hit: no more
  input is taken; the error is answered in its turn (:func:`reject`), or by
  :func:`body_error` when it is inside the body of the request being served:
  the stream answers (or cuts) it, the connection does not stay open.
* :func:`reject` — a malformed request the app never sees: a status of the
  front's own, then a lingering close.
* :func:`abort` — close at once, giving a request that had no response yet a
  last ``503`` (flushed for at most :data:`~..connections.LINGER_TIMEOUT`).
* :func:`linger` — the half-close: our response is complete and the client's
  input is drained (discarded) until it closes or the linger timer runs out,
  so the client reads the response rather than a reset (RFC 9112 §9.6).

Invariant: each ends the connection at most once (``closing`` guards close
and abort); nothing is written after it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..connections import LINGER_TIMEOUT
from .responses import server_response

if TYPE_CHECKING:
    from ..streams.http_stream import HTTPStream
    from .connection import HTTP11Connection
    from .parser import ParseError
    from .timers import ConnectionTimers

logger = logging.getLogger("pagi.front")


def request_error(conn: HTTP11Connection, exc: ParseError) -> None:
    """The parser failed or a limit was hit: take no more input; answer in turn."""
    conn.stop_input()
    conn.timers.head_done()
    queue = conn.queue
    cur = conn.current_stream()
    if cur is not None and not conn.request_parsed():
        # The error is inside the body of the request being served.
        queue.clear()
        body_error(conn, cur, exc)
        return
    queue.drop_partial()
    queue.push_error(exc)
    conn.process()


def body_error(conn: HTTP11Connection, cur: HTTPStream, exc: ParseError) -> None:
    """The request being served has a malformed or too large body."""
    logger.info("%s bad request: %d %s", conn.peer, exc.status, exc.reason)
    conn.writer.keep_alive = False
    if not cur.fail_request(exc.status, exc.reason):
        conn.close(linger=True)


def reject(conn: HTTP11Connection, exc: ParseError) -> None:
    """Answer a malformed request (the app never sees it) and close."""
    logger.info("%s bad request: %d %s", conn.peer, exc.status, exc.reason)
    conn.write(server_response(exc.status, exc.reason, server_header=conn.config.server_header))
    conn.close(linger=True)


def abort(conn: HTTP11Connection, reason: str) -> None:
    """Close at once; the current scope (if any) gets CLOSE(``reason``)."""
    cur = conn.current_stream()
    if conn.closing or cur is None:
        if cur is not None:
            cur.release(reason)
        conn.abort_transport()
        return
    conn.end_keep_alive()
    if cur.abort(reason):
        conn.loop.call_later(LINGER_TIMEOUT, conn.transport().abort)
    else:
        conn.abort_transport()


def linger(transport: asyncio.Transport, read_paused: bool, timers: ConnectionTimers) -> None:
    """Half-close ``transport`` and read (discarding) until the client closes
    or the linger timer closes it; ``read_paused``: reading must resume first."""
    try:
        transport.write_eof()
    except (OSError, RuntimeError):
        transport.close()
        return
    if read_paused:
        transport.resume_reading()
    timers.linger(transport.close)
