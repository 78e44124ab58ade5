"""The front's end of a link's body ring: large response bodies read from shared memory.

A worker that was offered a ring (WELCOME ``body_ring``) sends ``RING`` with
a read-only descriptor of a ``memfd``; from then on a large response body
piece arrives as ``HTTP_RESPONSE_RING [offset, length, more]`` and its bytes
lie in that file (docs/worker-protocol.md, "Large bodies through the ring").
:class:`RingReader` reads such a piece with one ``pread`` — the only copy of
those bytes in the front before the client socket — and the link passes it on
exactly as an ``HTTP_RESPONSE_BODY`` with the same bytes, so flow control,
HTTP/2, TLS, chunked framing and trailers see no difference. Each piece read
is counted for a ``RING_DONE``, which lets the worker reuse its space.

Invariants:

* The front never maps the file: a worker that truncates it or names a range
  outside it is caught by the size check or a short read, never by a
  ``SIGBUS``; either is a :class:`~.io.LinkViolation` (the link is dropped).
* The descriptor is closed exactly once, by :meth:`RingReader.close`, which the
  link calls when it is torn down.
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import Any

from pagi.protocol.fields import RING_LENGTH, RING_MORE, RING_OFFSET, SCOPE_ID
from pagi.protocol.kinds import EVENT, HTTP_RESPONSE_BODY

from .io import LinkViolation

#: The largest ring a worker may announce (the front offers less).
MAX_RING_SIZE = 256 * 1024 * 1024


class RingReader:
    """The ring's descriptor and size, as the worker announced them."""

    __slots__ = ("fd", "size")

    def __init__(self, fd: int, size: int) -> None:
        """Take ownership of ``fd``; raise :class:`LinkViolation` (after closing
        it) if it cannot be the ring the worker announced."""
        self.fd = fd
        self.size = size
        problem = None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                problem = "the RING descriptor is not a regular file"
            elif size > MAX_RING_SIZE or st.st_size < size:
                problem = f"RING of {size} bytes on a file of {st.st_size}"
        except OSError as exc:
            problem = f"cannot stat the RING descriptor: {exc.strerror or exc}"
        if problem is not None:
            self.close()
            raise LinkViolation(problem)

    def as_body(self, msg: list[Any]) -> list[Any]:
        """The HTTP_RESPONSE_BODY message with the bytes an HTTP_RESPONSE_RING
        ``msg`` names (read now; raises :class:`LinkViolation`)."""
        sid = msg[SCOPE_ID]
        data = self.read(sid, msg[RING_OFFSET], msg[RING_LENGTH])
        return [EVENT, sid, HTTP_RESPONSE_BODY, data, msg[RING_MORE]]

    def read(self, sid: int, offset: int, length: int) -> bytes:
        """The piece ``[offset, offset + length)``; raises :class:`LinkViolation`
        for a range outside the ring or a file that no longer holds it."""
        if offset + length > self.size:
            raise LinkViolation(
                f"scope {sid}: HTTP_RESPONSE_RING [{offset}, {offset + length}) "
                f"outside the ring of {self.size} bytes"
            )
        try:
            data = os.pread(self.fd, length, offset)
        except OSError as exc:
            raise LinkViolation(f"reading the body ring failed: {exc.strerror or exc}") from None
        if len(data) != length:
            raise LinkViolation(f"scope {sid}: the body ring holds {len(data)} of {length} bytes")
        return data

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
