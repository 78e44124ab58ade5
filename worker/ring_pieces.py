"""One http scope's response body pieces in its link's body ring.

A body piece of :data:`~.body_ring.RING_MIN` bytes or more is copied into the
link's ring (:class:`~.body_ring.BodyRing`) and announced with an
``HTTP_RESPONSE_RING`` frame (docs/worker-protocol.md). Invariant: a piece
that follows this scope's previous one in the ring, while that one's frame
is still the last one queued on the link, joins it, so the app's sends of one
loop turn leave as one piece (one pread, one write and one grant in the
front). ``send`` returning False means no ring or no room in it now: the
caller sends the piece inline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pagi.protocol import encode
from pagi.protocol.kinds import EVENT as _EVENT
from pagi.protocol.kinds import HTTP_RESPONSE_RING as _RING

if TYPE_CHECKING:
    from .scope_session import ScopeSession


class RingPieces:
    """The ring frames of one scope; remembers the last one while it may grow."""

    __slots__ = ("_session", "_sid", "_tail")

    def __init__(self, session: ScopeSession, sid: int) -> None:
        self._session = session
        self._sid = sid
        # the last HTTP_RESPONSE_RING frame queued: (frame, offset, length)
        self._tail: tuple[bytes, int, int] | None = None

    def send(self, data: bytes | memoryview, more: bool) -> bool:
        """Put ``data`` in the ring and queue its frame; False: send it inline."""
        ring = self._session.ring
        if ring is None:
            return False
        link = self._session.link
        tail = self._tail
        if tail is not None and link.unqueue_last(tail[0]):
            # the previous piece's frame has not left: grow it instead of queuing another
            _frame, offset, length = tail
            if ring.append(data, offset + length):
                self._queue(offset, length + len(data), more)
                return True
            link.send_frame(tail[0])  # back where it was
        offset = ring.place(data)
        if offset < 0:
            return False
        self._queue(offset, len(data), more)
        return True

    def _queue(self, offset: int, length: int, more: bool) -> None:
        frame = encode([_EVENT, self._sid, _RING, offset, length, more])
        self._session.link.send_frame(frame)
        self._tail = (frame, offset, length) if more else None
