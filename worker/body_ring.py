"""The worker's end of a link's body ring: large response bodies in shared memory.

A body piece of at least :data:`RING_MIN` bytes does not travel inside an
``HTTP_RESPONSE_BODY`` frame: the worker copies it into a ``memfd`` it shares
with the front (one ``memcpy`` into pages that stay mapped) and sends a small
``HTTP_RESPONSE_RING`` frame naming its offset and length. The front reads
the piece straight from the descriptor (``pread``) and answers ``RING_DONE``
with the number of pieces it has copied out; they are released here, oldest
first (docs/worker-protocol.md, "Large bodies through the ring"). This takes
the body bytes off the link socket, whose copies and buffer allocations were
most of the cost of a large response (docs/performance.md, workload 4).

Invariants:

* Pieces are placed in the order their frames are queued on the link, each in
  one contiguous range; a piece that does not fit before the end of the ring
  starts again at offset 0, and the skipped tail is released with it.
* :meth:`BodyRing.place` never overwrites bytes of a piece not yet released:
  when there is no room it returns -1 and the caller sends the piece inline,
  so a slow front never makes the app wait for the ring (the response
  window still bounds what the app may send).
* :meth:`BodyRing.release` of more pieces than are outstanding raises
  :class:`~pagi.protocol.LinkError` (the front broke the protocol).
"""

from __future__ import annotations

import collections
import mmap
import os

from pagi.protocol import LinkError

#: Body pieces shorter than this travel inline (a frame copy costs less than
#: the ring's bookkeeping for them).
RING_MIN = 32 * 1024


class BodyRing:
    """A fixed-size ring buffer in a memfd, written here and read by the front."""

    __slots__ = ("_ends", "_front_fd", "_head", "_map", "_used", "size")

    def __init__(self, size: int) -> None:
        """Raises :class:`OSError` if the memfd cannot be made or mapped."""
        self.size = size
        fd = os.memfd_create("pagi-body-ring", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size)  # holds its own descriptor of the file
            self._front_fd = _read_only(fd)
        finally:
            os.close(fd)
        self._head = 0  # where the next piece may start
        self._used = 0  # bytes held by unreleased pieces (and skipped tails)
        # per unreleased piece: the bytes it holds (its length, plus a skipped tail)
        self._ends: collections.deque[int] = collections.deque()

    def take_descriptor(self) -> int:
        """The read-only descriptor of the ring's file for the front; the
        caller owns it (-1 once taken). Read-only, so the front can neither
        write the worker's pages nor resize the file."""
        fd, self._front_fd = self._front_fd, -1
        return fd

    def place(self, data: bytes | memoryview) -> int:
        """Copy ``data`` into the ring; its offset, or -1 if there is no room now."""
        n = len(data)
        size = self.size
        head = self._head
        held = n
        if head + n > size:
            held = n + size - head  # the tail is skipped
            head = 0
        if self._used + held > size:
            return -1
        self._map[head : head + n] = data
        self._used += held
        self._ends.append(held)
        self._head = head + n
        return head

    def append(self, data: bytes | memoryview, end: int) -> bool:
        """Copy ``data`` right behind the newest piece, which must end at
        ``end``, and make the two one piece; False (nothing copied) if that
        piece ends elsewhere or there is no room behind it."""
        n = len(data)
        if not self._ends or self._head != end or end + n > self.size:
            return False
        if self._used + n > self.size:
            return False
        self._map[end : end + n] = data
        self._ends[-1] += n
        self._used += n
        self._head = end + n
        return True

    def release(self, pieces: int) -> None:
        """The front has copied out the ``pieces`` oldest pieces."""
        ends = self._ends
        if pieces > len(ends):
            raise LinkError(f"RING_DONE for {pieces} pieces; {len(ends)} outstanding")
        for _ in range(pieces):
            self._used -= ends.popleft()
        if not ends:
            self._head = 0  # empty: start at the beginning again (fewer pages touched)

    @property
    def outstanding(self) -> int:
        """Pieces placed and not yet released."""
        return len(self._ends)

    def close(self) -> None:
        """Unmap (idempotent); a descriptor the front holds stays valid."""
        self._map.close()
        fd, self._front_fd = self._front_fd, -1
        if fd >= 0:
            os.close(fd)


def _read_only(fd: int) -> int:
    """A new read-only descriptor of the memfd ``fd`` (through ``/proc``; without
    it, a duplicate of ``fd``, which is writable)."""
    try:
        return os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return os.dup(fd)
