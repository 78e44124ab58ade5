"""A response body the worker passed as a file descriptor, on its way to the writer.

A :class:`FileResponse` belongs to one :class:`~.http_stream.HTTPStream`
(``stream.file``) from ``HTTP_RESPONSE_FILE`` until the body is written or
the stream ends. It sizes the body (:meth:`start`), copies the descriptor
through a :class:`~.file_body.FileBody` into the stream's writer, at most
``MAX_CHUNKS_PER_PUMP`` chunks per loop iteration and never while the writer
is blocked (the stream pumps again from ``on_writable``), holds the app's
trailers if they arrive before the file is out, and ends the body once it is.

It writes no stream state: it sees the stream as a :class:`FileSink` — the
head through :meth:`FileSink.file_head`, every chunk through
:meth:`FileSink.write_body`, a read error through :meth:`FileSink.file_failed`
and the end as the link's events would give it (``on_response_body`` with the
last, empty piece, or ``on_response_trailers``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .file_body import PUMP_DONE, PUMP_YIELD, FileBody

if TYPE_CHECKING:
    from .interfaces import Headers, HTTPWriter, StreamHost


class FileSink(Protocol):
    """The stream as its :class:`FileResponse` sees it."""

    @property
    def conn(self) -> StreamHost: ...
    @property
    def writer(self) -> HTTPWriter: ...
    @property
    def file(self) -> FileResponse | None: ...
    @property
    def done(self) -> bool: ...
    @property
    def trailers(self) -> bool:
        """The app announced trailers: the body ends with them."""

    def file_head(self, known_length: int | None) -> bool:
        """Send the head now if it is not out yet; False: refused (the stream ended)."""

    def write_body(self, data: bytes) -> None:
        """Write a piece of the file to the client."""

    def file_failed(self, message: str) -> None:
        """The file cannot be sent (``message`` for the log): 500 or a cut."""

    def close_file(self) -> None:
        """Forget the file (and close its descriptor)."""

    def on_response_body(self, body: bytes, more: bool) -> None: ...

    def on_response_trailers(self, headers: Headers) -> None: ...


class FileResponse:
    """The file part of one response, and the trailers that wait behind it."""

    __slots__ = ("body", "stream", "trailers")

    def __init__(self, stream: FileSink, fd: int, offset: int) -> None:
        self.stream = stream
        self.body = FileBody(fd, offset, None)
        self.trailers: Headers | None = None  # arrived while the file is still going out

    def start(self, length: int | None) -> None:
        """Size the body (``length``: the app's, or None for the rest of the
        file), have the head sent, and start copying."""
        stream = self.stream
        known = self.body.length_of(length)
        if isinstance(known, str):
            stream.file_failed(known)
        elif stream.file_head(known):
            self.body.remaining = stream.writer.room(known)
            self.pump()

    def pump(self) -> None:
        """Copy what the writer takes now; schedule the rest or end the body."""
        stream = self.stream
        if stream.file is not self or stream.done:
            return
        try:
            result = self.body.pump(stream.write_body, stream.writer.blocked)
        except OSError as exc:
            stream.file_failed(f"reading the response file failed: {exc.strerror or exc}")
            return
        if result == PUMP_YIELD:
            stream.conn.loop.call_soon(self.pump)
        elif result == PUMP_DONE:
            self._sent()
        # else blocked: the stream's on_writable pumps again

    def _sent(self) -> None:
        """The whole file is out (one that shrank since fstat is caught by the
        writer's end): end the body, or wait for (or send) the trailers."""
        stream = self.stream
        stream.close_file()
        if not stream.trailers:
            stream.on_response_body(b"", False)
            return
        stream.writer.flush()
        if self.trailers is not None:
            stream.on_response_trailers(self.trailers)

    def close(self) -> None:
        self.body.close()
