"""What an ``sse`` scope adds to its HTTP stream: :class:`EventStream`.

An :class:`~.http_stream.HTTPStream` of an ``sse`` scope holds one
:class:`EventStream` (``stream.sse``; None for an ``http`` scope, so a plain
request pays one ``is None`` test per hook and nothing more). It owns the two
things the front does for an event stream on its own, each created only when
asked for:

* the idle comments (:class:`~.sse.SSEKeepalive`), from the worker's first
  ``SSE_KEEPALIVE`` with an interval;
* the resumption on another worker (:class:`~.resume.SSEResume`), from the
  request on when ``--sse-resume`` is on (docs/resume.md).

Invariant: it writes no field of the stream; the stream calls it at the
points named after its methods and carries out what it decides (a re-OPEN
through :meth:`~.http_stream.HTTPStream.reopen`, a cut through
:meth:`~.http_stream.HTTPStream.end_moved`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .resume import SSEResume, with_extension
from .sse import SSEKeepalive

if TYPE_CHECKING:
    from pagi.protocol import BodyMode

    from ..link.handle import Headers as RequestHeaders
    from ..link.handle import LinkHandle
    from .http_stream import HTTPStream
    from .interfaces import Headers


class EventStream:
    """The keepalive and the resumption of one ``sse`` scope (see the module doc)."""

    __slots__ = ("_stream", "keepalive", "resume")

    def __init__(self, stream: HTTPStream) -> None:
        self._stream = stream
        self.keepalive: SSEKeepalive | None = None
        self.resume: SSEResume | None = None

    def start(self, raw_path: bytes, query: bytes, headers: RequestHeaders, mode: BodyMode) -> None:
        """The request head is known: keep what a resumption replays (``--sse-resume``)."""
        stream = self._stream
        if stream.conn.ctx.config.sse_resume:
            self.resume = SSEResume(stream, raw_path, query, headers, mode)

    def first_extras(self, extras: dict[str, Any]) -> dict[str, Any]:
        """OPEN's ``extras`` for the first scope (with ``pagi.resume`` attempt 0)."""
        if self.resume is None:
            return extras
        return with_extension(extras, self.resume.extension(None))

    def opened(self, link: LinkHandle, sid: int) -> None:
        """A scope of the stream was OPENed on ``link`` as ``sid``."""
        if self.resume is not None:
            self.resume.origin = (link, sid)

    def request_body(self, body: bytes) -> None:
        if self.resume is not None:
            self.resume.record_body(body)

    def swallow_start(self, status: int, headers: Headers) -> bool:
        """True: this response start is a re-opened scope's, not the stream's own."""
        return self.resume is not None and self.resume.swallow_start(status, headers)

    def body_written(self, body: bytes) -> None:
        """A piece of the streaming body was written to the client."""
        if self.keepalive is not None:
            self.keepalive.touch()
        if self.resume is not None:
            self.resume.feed(body)

    def configure_keepalive(self, interval: float, comment: str) -> None:
        """``SSE_KEEPALIVE``: start, change or stop (``interval`` 0) the idle comments."""
        if self.keepalive is None:
            if interval <= 0:
                return
            self.keepalive = SSEKeepalive(self._stream)
        self.keepalive.configure(interval, comment)

    def refuse_resume(self) -> None:
        """The app's ``sse.start`` refused resumption."""
        if self.resume is not None:
            self.resume.refuse()

    def worker_draining(self) -> None:
        if self.resume is not None:
            self.resume.worker_draining()

    def worker_lost(self) -> bool:
        """The worker died: True if the stream is being resumed, False if it must end."""
        return self.resume is not None and self.resume.worker_lost()

    def stop(self) -> None:
        """The response is over: no more comments."""
        if self.keepalive is not None:
            self.keepalive.stop()
