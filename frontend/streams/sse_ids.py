"""Following an event stream's bytes the way a browser parses them: the last event id.

To resume an ``sse`` scope on another worker the front must know what the
client's ``EventSource`` holds as its *last event ID* after every byte it was
sent, and whether those bytes end between two events (so the next worker's
bytes cannot merge into a half-written one). :class:`SSEIdTracker` is that
knowledge, sans-I/O: :meth:`~SSEIdTracker.feed` it the response body bytes in
the order they are written.

Parsing follows the ``text/event-stream`` interpretation of the HTML standard
as far as these two facts need: lines end with CRLF, LF or CR (a CRLF split
across two pieces is one line end); a line starting with ``:`` is a comment;
a field line named ``id`` (``id``, ``id:VALUE`` or ``id: VALUE``) sets the id
*buffer* unless the value holds NUL; a blank line dispatches, which makes the
buffer the last event ID (the standard does this even for an event without
data). Other fields are only noted as "an event is under way".

Invariants:

* :attr:`last_id` is the client's last event ID after everything fed (None:
  no id was ever dispatched on this stream, and none came with the request).
* :attr:`at_boundary` is True exactly when the bytes fed end at a line end and
  no field line came after the last blank line (comments do not count: they
  add nothing to an event).
* Memory is bounded: an unfinished line is kept only while it may be an ``id``
  line, and only up to :data:`MAX_ID_LINE` bytes; a longer one makes the
  stream :attr:`unusable` for resumption (its id cannot be known), and it
  stays so.

Cost: a piece with no ``id`` in it that ends with a blank line (most pieces of
a feed without ids) is one substring search and one suffix test; other
pieces are split into lines once.
"""

from __future__ import annotations

#: Longest unfinished ``id`` line kept between pieces.
MAX_ID_LINE = 64 * 1024

_COLON = 0x3A


class SSEIdTracker:
    """The last event id and the event boundary of one event stream (see the module doc)."""

    __slots__ = ("_buffer", "_cr", "_partial", "_pending", "last_id", "unusable")

    def __init__(self, last_id: bytes | None = None) -> None:
        #: the client's last event ID (the request's ``Last-Event-ID`` until an id is dispatched)
        self.last_id = last_id
        #: the id buffer: becomes ``last_id`` at the next blank line
        self._buffer = last_id
        self._partial = b""  # an unfinished line that may be an id line (or a 1-byte stand-in)
        self._pending = False  # a field line came after the last blank line
        self._cr = False  # the last piece ended with CR: a leading LF is part of that line end
        #: an id line too long to follow: the stream cannot be resumed
        self.unusable = False

    @property
    def at_boundary(self) -> bool:
        """The bytes fed so far end between two events."""
        return not self._pending and not self._partial

    def feed(self, data: bytes) -> None:
        """Follow ``data``, the next bytes of the stream."""
        if self._cr:
            self._cr = False
            if data[:1] == b"\n":
                data = data[1:]
        if not data:
            return
        if not self._partial and b"id" not in data and b"\r" not in data and data[-2:] == b"\n\n":
            # whole lines ending in a blank one, and no id line among them
            self.last_id = self._buffer
            self._pending = False
            return
        if b"\r" in data:
            self._cr = data[-1:] == b"\r"
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._partial:
            data = self._partial + data
            self._partial = b""
        lines = data.split(b"\n")
        tail = lines.pop()
        for line in lines:
            self._line(line)
        if tail:
            self._keep(tail)

    def _line(self, line: bytes) -> None:
        if not line:
            self.last_id = self._buffer  # dispatch
            self._pending = False
            return
        if line[0] == _COLON:
            return  # a comment
        self._pending = True
        if line[:2] != b"id":
            return
        if len(line) == 2:
            value = b""
        elif line[2] == _COLON:
            value = line[4:] if line[3:4] == b" " else line[3:]
        else:
            return  # another field whose name starts with "id"
        if b"\x00" not in value:
            self._buffer = value

    def _keep(self, tail: bytes) -> None:
        """Hold the unfinished last line: whole if it may be an id line, else a
        stand-in that is only a comment or a field line, as the line is."""
        if tail[:3] == b"id:" or (tail[:2] == b"id" and len(tail) == 2) or tail == b"i":
            if len(tail) > MAX_ID_LINE:
                self.unusable = True
                self._partial = b"x"  # still an unfinished field line
                return
            self._partial = tail
        else:
            self._partial = b":" if tail[0] == _COLON else b"x"
