"""The response side of one HTTP/2 stream: head, body, file, trailers, within the windows.

:class:`StreamOutput` holds what the worker sent and the client may not take
yet, and hands it to h2 as the stream's and the connection's flow-control
windows allow (:meth:`StreamOutput.flush`). Invariants:

* The head goes out with the first body piece, the file, the trailers or the
  end (so a response without a body is one HEADERS frame with END_STREAM).
* At most ``window`` bytes of link-credited body are held (the front's
  response window per scope); each byte is re-granted to the worker as it is
  handed to h2, never before (``credit`` returns the count to grant).
* File bodies are read (``pread``) only as far as the windows allow: a 1 GiB
  file costs one frame's worth of memory.
* Exactly one final frame (END_STREAM on DATA or trailers) is sent; after it
  :attr:`StreamOutput.complete` is true and nothing more is written.
"""

from __future__ import annotations

import os

import h2.connection

from ..streams.file_body import FileBody
from .heads import Headers

FILE_CHUNK = 16 * 1024


class StreamOutput:
    """Pending response data of one stream."""

    __slots__ = (
        "_buf",
        "_credit",
        "_file",
        "_final",
        "_head",
        "_trailers",
        "complete",
        "expect_trailers",
        "head_sent",
        "no_body",
        "sent",
        "sid",
    )

    def __init__(self, sid: int, no_body: bool) -> None:
        self.sid = sid
        self.no_body = no_body  # HEAD: body bytes are counted and dropped
        self._head: Headers | None = None
        self.head_sent = False
        self._buf = bytearray()
        self._credit = 0  # link-credited bytes in _buf
        self._final = False  # the worker's body is complete
        self._file: FileBody | None = None
        self.expect_trailers = False
        self._trailers: Headers | None = None
        self.complete = False  # the final frame was handed to h2
        self.sent = 0  # body bytes handed to h2 (access log)

    @property
    def started(self) -> bool:
        return self._head is not None or self.head_sent

    @property
    def pending(self) -> bool:
        """Body bytes wait for window."""
        return bool(self._buf) or self._file is not None

    # --- from the worker ------------------------------------------------------------

    def start(self, head: Headers, trailers: bool) -> None:
        self._head = head
        self.expect_trailers = trailers

    def body(self, data: bytes, more: bool, credited: bool = True) -> int:
        """Queue body bytes; returns the credit to grant at once (dropped bytes)."""
        if not more:
            self._final = True
        if self.no_body or self.complete:
            return len(data) if credited else 0
        self._buf += data
        if credited:
            self._credit += len(data)
        return 0

    def file(self, fd: int, offset: int, length: int | None) -> None:
        if self.no_body or self.complete:
            os.close(fd)
        else:
            self._file = FileBody(fd, offset, length, FILE_CHUNK)
        self._final = True

    def trailers(self, headers: Headers) -> None:
        self._trailers = headers

    def close(self) -> None:
        """Drop what is pending (the stream is being reset)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._buf.clear()

    # --- to h2 ----------------------------------------------------------------------

    def flush(self, conn: h2.connection.H2Connection, window: int, frame_size: int) -> int:
        """Hand h2 what ``window`` allows, in frames of ``frame_size`` at most;
        return the link credit to grant.

        Raises :class:`OSError` if the file cannot be read.
        """
        if self.complete or (self._head is None and not self.head_sent):
            return 0
        done_body = self._final and not self._buf and self._file is None
        if not self.head_sent:
            assert self._head is not None
            ends = done_body and not self.expect_trailers
            if not (ends or self._buf or self._file is not None or self._trailers is not None):
                return 0  # the head waits for the first body event
            conn.send_headers(self.sid, self._head, end_stream=ends)
            self._head = None
            self.head_sent = True
            if ends:
                self.complete = True
                return 0
        granted = 0
        while window > 0:
            if not self._buf:
                if self._file is None:
                    break
                data = self._file.read()
                if not data:
                    self._file.close()
                    self._file = None
                    break
                self._buf += data
            n = min(window, len(self._buf), frame_size)
            last = (
                n == len(self._buf)
                and self._final
                and (self._file is None or self._file.remaining == 0)
                and not self.expect_trailers
            )
            if last and self._file is not None:
                self._file.close()
                self._file = None
            conn.send_data(self.sid, bytes(self._buf[:n]), end_stream=last)
            del self._buf[:n]
            window -= n
            self.sent += n
            grant = min(n, self._credit)
            self._credit -= grant
            granted += grant
            if last:
                self.complete = True
                return granted
        if self._final and not self._buf and self._file is None:
            if not self.expect_trailers:
                conn.send_data(self.sid, b"", end_stream=True)
                self.complete = True
            elif self._trailers is not None:
                conn.send_headers(self.sid, self._trailers, end_stream=True)
                self.complete = True
        return granted
