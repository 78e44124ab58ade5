"""The opening of an ``http`` or ``sse`` scope: its request head on the way to a worker.

:meth:`HTTPStream.start <.http_stream.HTTPStream.start>` calls
:func:`open_http`: the pool picks a ready worker and :func:`open_on` OPENs the
scope there at once (the hot path: nothing is allocated for it), or no worker
is ready and an :class:`HTTPOpening` keeps the request head (raw path, query,
headers, body mode) through the wait (:func:`~.opening.wait_for_worker`,
admission, the 503) as the stream's :class:`~.opening.Openable`.
:func:`open_on` puts OPEN's fields together (an event stream's first extras
included, :meth:`~.event_stream.EventStream.first_extras`); an event stream
re-opened on another worker (:mod:`.resume`) comes back to it with its own
extras through :meth:`HTTPStream.reopen <.http_stream.HTTPStream.reopen>`.

Invariants: a stream is opened at most once here, and after a wait only while
it still waits for a worker (:func:`~.opening.open_scope`'s rule); nothing
here writes the stream's fields: the stream takes the link, the scope id and
the request window in :meth:`HTTPStream.attach <.http_stream.HTTPStream.attach>`
and the wait task in :meth:`HTTPStream.wait <.http_stream.HTTPStream.wait>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .opening import open_fields, pick_link, wait_for_worker

if TYPE_CHECKING:
    import asyncio

    from pagi.protocol import BodyMode

    from ..link.handle import Headers as RequestHeaders
    from ..link.handle import LinkHandle
    from .http_stream import HTTPStream
    from .interfaces import ExtraHeaders, StreamHost


def open_http(
    stream: HTTPStream, raw_path: bytes, query: bytes, headers: RequestHeaders, mode: BodyMode
) -> None:
    """Open ``stream``'s scope on a ready worker now, or wait for one."""
    link = pick_link(stream.conn)
    if link is None:
        wait_for_worker(HTTPOpening(stream, raw_path, query, headers, mode))
    else:
        open_on(stream, link, raw_path, query, headers, mode, None)


def open_on(
    stream: HTTPStream,
    link: LinkHandle,
    raw_path: bytes,
    query: bytes,
    headers: RequestHeaders,
    mode: BodyMode,
    extras: dict[str, Any] | None,
) -> None:
    """OPEN ``stream``'s scope (``http``, or ``sse`` for an event stream) on
    ``link``; ``extras``: OPEN's extras for a re-OPEN, None for the first
    (the connection's, with an event stream's own)."""
    conn = stream.conn
    sse = stream.sse
    if extras is None:
        extras = conn.scope_extras if sse is None else sse.first_extras(conn.scope_extras)
    fields = open_fields(
        conn,
        "http" if sse is None else "sse",
        stream.http_version,
        stream.method,
        conn.scheme,
        raw_path,
        query,
        headers,
        extras,
        mode,
    )
    stream.attach(link, fields, mode)


class HTTPOpening:
    """A request head waiting for a worker (the :class:`~.opening.Openable` of its stream)."""

    __slots__ = ("_headers", "_mode", "_query", "_raw_path", "conn", "stream")

    def __init__(
        self,
        stream: HTTPStream,
        raw_path: bytes,
        query: bytes,
        headers: RequestHeaders,
        mode: BodyMode,
    ) -> None:
        self.stream = stream
        self.conn: StreamHost = stream.conn
        self._raw_path = raw_path
        self._query = query
        self._headers = headers
        self._mode = mode

    def wait(self, task: asyncio.Task[None] | None) -> None:
        self.stream.wait(task)

    def waiting(self) -> bool:
        return self.stream.waiting()

    def label(self) -> str:
        return self.stream.label()

    def open(self, link: LinkHandle) -> None:
        open_on(self.stream, link, self._raw_path, self._query, self._headers, self._mode, None)

    def opened_late(self) -> None:
        self.stream.writer.resume_input()

    def reply(self, status: int, message: str, extra: ExtraHeaders) -> None:
        self.stream.reply(status, message, extra)

    def abort_wait(self) -> None:
        self.stream.writer.abort()
