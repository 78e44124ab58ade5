"""Streaming a response body from a file descriptor the worker passed us.

The worker opens the file with its own permissions and sends the descriptor
with ``HTTP_RESPONSE_FILE`` (``SCM_RIGHTS``); the front never opens a path.
A :class:`FileBody` owns that descriptor from then on and reads it with
:func:`os.pread` (positional: the descriptor's offset is never moved, so a
descriptor shared with another process is not disturbed).

Invariants:

* The descriptor is closed exactly once, by :meth:`FileBody.close` (idempotent);
  the connection calls it when the body is written, the scope ends or the
  client goes away.
* :meth:`FileBody.pump` writes at most ``max_chunks`` chunks per call and
  stops as soon as the sink reports back-pressure, so one large file neither
  buffers in memory nor monopolises the event loop.
* Reads never go past ``remaining`` bytes (the response's declared length);
  a file that ends sooner leaves :attr:`FileBody.short` true.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

CHUNK_SIZE = 64 * 1024
#: Chunks written per :meth:`FileBody.pump` call before yielding to the loop.
MAX_CHUNKS_PER_PUMP = 16

#: Results of :meth:`FileBody.pump`.
PUMP_DONE = 0  # everything written (or the file ended)
PUMP_BLOCKED = 1  # the sink is paused; pump again when it resumes
PUMP_YIELD = 2  # the per-call budget is used up; pump again soon


def regular_file_length(fd: int, offset: int, length: int | None) -> int | None:
    """Bytes a response of ``length`` (None: to end of file) from ``offset`` will have.

    ``None`` when ``fd`` is not a regular file (its size means nothing).
    Raises :class:`OSError` if ``fd`` cannot be stat'ed.
    """
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        return None
    available = max(0, st.st_size - offset)
    return available if length is None else min(length, available)


class FileBody:
    """A file descriptor being copied to the client, ``chunk_size`` bytes at a time."""

    __slots__ = ("chunk_size", "fd", "position", "remaining", "sent")

    def __init__(
        self, fd: int, offset: int, remaining: int | None, chunk_size: int = CHUNK_SIZE
    ) -> None:
        self.fd = fd
        self.position = offset
        self.remaining = remaining  # None: until end of file
        self.chunk_size = chunk_size
        self.sent = 0  # bytes handed to the sink

    @property
    def closed(self) -> bool:
        return self.fd < 0

    @property
    def short(self) -> bool:
        """The file ended before ``remaining`` bytes could be read."""
        return self.remaining is not None and self.remaining > 0

    def read(self) -> bytes:
        """The next chunk, or ``b""`` at the end. Raises :class:`OSError`."""
        n = self.chunk_size
        remaining = self.remaining
        if remaining is not None:
            if remaining <= 0:
                return b""
            n = min(n, remaining)
        data = os.pread(self.fd, n, self.position)
        if not data:
            return b""
        self.position += len(data)
        if remaining is not None:
            self.remaining = remaining - len(data)
        return data

    def pump(
        self,
        write: Callable[[bytes], None],
        paused: Callable[[], bool],
        max_chunks: int = MAX_CHUNKS_PER_PUMP,
    ) -> int:
        """Copy chunks to ``write`` until done, ``paused()`` or ``max_chunks``.

        Returns :data:`PUMP_DONE`, :data:`PUMP_BLOCKED` or :data:`PUMP_YIELD`.
        ``paused`` is checked before every read, so ``write`` may trigger the
        pause itself (asyncio transports call ``pause_writing`` inside
        ``write``). Raises :class:`OSError` from reading.
        """
        for _ in range(max_chunks):
            if paused():
                return PUMP_BLOCKED
            data = self.read()
            if not data:
                return PUMP_DONE
            self.sent += len(data)
            write(data)
        if self.remaining is not None and self.remaining <= 0:
            return PUMP_DONE
        return PUMP_YIELD

    def close(self) -> None:
        fd = self.fd
        if fd >= 0:
            self.fd = -1
            try:
                os.close(fd)
            except OSError:
                pass
