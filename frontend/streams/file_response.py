"""A response body the worker passed as a file descriptor, on its way to the writer.

A :class:`FileResponse` belongs to one :class:`~.http_stream.HTTPStream`
(``stream.file``) from ``HTTP_RESPONSE_FILE`` until the body is written or
the stream ends. It copies the descriptor through a
:class:`~.file_body.FileBody` into the stream's writer, at most
``MAX_CHUNKS_PER_PUMP`` chunks per loop iteration and never while the writer
is blocked (the stream pumps again from ``on_writable``), and holds the
app's trailers if they arrive before the file is out.

It writes no stream state: every chunk goes through
:meth:`~.http_stream.HTTPStream.file_chunk`, the end through
:meth:`~.http_stream.HTTPStream.file_sent` and a read error through
:meth:`~.http_stream.HTTPStream.file_failed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .file_body import PUMP_DONE, PUMP_YIELD, FileBody
from .http_phase import DONE

if TYPE_CHECKING:
    from .http_stream import HTTPStream
    from .interfaces import Headers


class FileResponse:
    """The file part of one response, and the trailers that wait behind it."""

    __slots__ = ("body", "stream", "trailers")

    def __init__(self, stream: HTTPStream, fd: int, offset: int) -> None:
        self.stream = stream
        self.body = FileBody(fd, offset, None)
        self.trailers: Headers | None = None  # arrived while the file is still going out

    def pump(self) -> None:
        """Copy what the writer takes now; schedule the rest or report the end."""
        stream = self.stream
        if stream.file is not self or stream.phase == DONE:
            return
        try:
            result = self.body.pump(stream.file_chunk, stream.writer.blocked)
        except OSError as exc:
            stream.file_failed(f"reading the response file failed: {exc.strerror or exc}")
            return
        if result == PUMP_YIELD:
            stream.conn.loop.call_soon(self.pump)
        elif result == PUMP_DONE:
            stream.file_sent(self.trailers)
        # else blocked: the stream's on_writable pumps again

    def close(self) -> None:
        self.body.close()
