"""A complete HTTP/1.x request head becomes the stream that serves it.

:func:`start_request` is the HTTP/1.1 counterpart of
:mod:`..http2.opening`: it readies the connection's one
:class:`~.writer.HTTP11Writer` for the request, makes its
:class:`~..streams.http_stream.HTTPStream` (an ``sse`` scope when the request
asks for an event stream, whose unsent output is then kept small,
:func:`~..streams.sse.limit_unsent`) and starts it with the wire facts of
:mod:`.request_head`.

Invariant: nothing here calls the connection back: the stream's start only
queues OPEN or begins a wait (:mod:`..streams.http_opening`), so the
connection makes the returned stream its current one before any event of
it can arrive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..streams.http_stream import HTTPStream
from ..streams.sse import limit_unsent
from ..streams.sse_detect import is_sse_request
from .request_head import body_mode, scope_headers, split_target

if TYPE_CHECKING:
    import asyncio

    from ..streams.interfaces import StreamHost
    from .parser import RequestHead
    from .writer import HTTP11Writer


def start_request(
    conn: StreamHost, writer: HTTP11Writer, transport: asyncio.Transport, head: RequestHead
) -> HTTPStream:
    """The started stream of ``head`` on ``conn`` (answered through ``writer``)."""
    writer.begin(head)
    sse = is_sse_request(head)
    stream = HTTPStream(
        conn, writer, head.method, head.target, head.http_version, sse, conn.loop.time()
    )
    if sse:
        limit_unsent(transport)
    raw_path, query = split_target(head.target)
    stream.start(raw_path, query, scope_headers(head.headers), body_mode(head))
    return stream
