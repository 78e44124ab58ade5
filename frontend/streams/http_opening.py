"""The opening of an ``http`` or ``sse`` scope: its request head on the way to a worker.

:meth:`HTTPStream.start <.http_stream.HTTPStream.start>` makes one
:class:`HTTPOpening` per request and hands it to :func:`~.opening.open_scope`,
for which it is the :class:`~.opening.Openable`: it keeps the request head
(raw path, query, headers, body mode) until a worker takes the scope, at once
or after a wait, and then puts OPEN's fields together (an event stream's first
extras included, :meth:`~.event_stream.EventStream.first_extras`).

Invariants: an opening opens its stream at most once, and only while the
stream still waits for a worker (:func:`~.opening.open_scope` checks
:meth:`waiting` after a wait); it writes none of the stream's fields: the
stream takes the link, the scope id and the request window in
:meth:`HTTPStream.attach <.http_stream.HTTPStream.attach>`, and the wait task
through :meth:`HTTPStream.wait <.http_stream.HTTPStream.wait>`. A re-OPEN on
another worker (an event stream's resumption, :mod:`.resume`) builds its
fields with an opening of its own (:meth:`HTTPOpening.fields`) in
:meth:`HTTPStream.reopen <.http_stream.HTTPStream.reopen>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .opening import open_fields

if TYPE_CHECKING:
    import asyncio

    from pagi.protocol import BodyMode

    from ..link.handle import Headers as RequestHeaders
    from ..link.handle import LinkHandle, OpenFields
    from .http_stream import HTTPStream
    from .interfaces import ExtraHeaders, StreamHost


class HTTPOpening:
    """One request's head waiting for a worker (the :class:`~.opening.Openable` of its stream)."""

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
        stream = self.stream
        extras = self.conn.scope_extras
        if stream.sse is not None:
            extras = stream.sse.first_extras(extras)
        stream.attach(link, self.fields(extras), self._mode)

    def fields(self, extras: dict[str, Any]) -> OpenFields:
        """OPEN's fields for the stream's scope (``http``, or ``sse`` for an
        event stream) with OPEN's ``extras``."""
        stream = self.stream
        conn = self.conn
        return open_fields(
            conn,
            "http" if stream.sse is None else "sse",
            stream.http_version,
            stream.method,
            conn.scheme,
            self._raw_path,
            self._query,
            self._headers,
            extras,
            self._mode,
        )

    def opened_late(self) -> None:
        self.stream.writer.resume_input()

    def reply(self, status: int, message: str, extra: ExtraHeaders) -> None:
        self.stream.reply(status, message, extra)

    def abort_wait(self) -> None:
        self.stream.writer.abort()
