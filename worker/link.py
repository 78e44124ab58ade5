"""The worker's I/O shell around the sans-I/O link codec: one UNIX socket.

Reading: the socket is non-blocking and watched with ``loop.add_reader``; each
readable event does one ``recv`` and feeds :class:`~pagi.protocol.LinkDecoder`,
and every complete message goes to the handler in order. Malformed input (a
:class:`~pagi.protocol.LinkError` from the decoder *or* from the handler, which
raises it for messages that are well-formed but break the rules, such as more
request body than granted) is logged and closes the link.

Writing: messages are encoded as they are queued and written in bounded
batches: one write as soon as :data:`BATCH_MESSAGES` frames or
:data:`BATCH_BYTES` bytes have gathered, and one at the end of the loop
iteration (one ``call_soon``) for the rest. Bounded batches let the front
start on the first responses while this process works on the next ones. A
batch of small frames is joined and sent with one ``send``; a large body
frame is queued as separate buffers (:meth:`Link.send_parts`) and leaves with
a scatter-gather ``sendmsg``, so the app's bytes are never copied in user
space. What the kernel does not take waits, as the same buffers, in
``_pending`` until the socket is writable (``loop.add_writer``). A failed
write is acted on in a later callback, never inside a send method, so an
app's ``send`` is not re-entered by the link's teardown.

A file descriptor queued with a frame rides as ``SCM_RIGHTS`` on the
``sendmsg`` that carries the first unsent byte at or before that frame, so it
reaches the front no later than the frame's first byte; our copy is closed as
soon as that ``sendmsg`` succeeds.

Invariants: bytes leave in the order queued; ``_sent <= position of every
queued fd < _queued``; after :meth:`Link.abort` nothing is sent, every fd not
yet sent is closed, and the handler has been told exactly once.
"""

from __future__ import annotations

import array
import asyncio
import collections
import itertools
import logging
import os
import socket
from typing import Any, Protocol

from pagi.protocol import DEFAULT_MAX_FRAME_SIZE, LinkDecoder, LinkError, encode

logger = logging.getLogger("pagi.worker")

Message = list[Any]

READ_SIZE = 256 * 1024
#: Linux refuses more descriptors than this in one SCM_RIGHTS message.
MAX_FDS_PER_SEND = 253
#: A batch is written once it holds this many frames (sixteen small responses:
#: START with its body, and END), without waiting for the end of the loop
#: iteration; see docs/performance.md, "bounded batches".
BATCH_MESSAGES = 32
#: ... or this many bytes, so a large body frame leaves at once.
BATCH_BYTES = 64 * 1024
#: Queued buffers adding up to less than this are joined into one ``send``.
JOIN_BELOW = 64 * 1024
#: Most buffers handed to one ``sendmsg`` (Linux's IOV_MAX is 1024).
MAX_IOVECS = 512

Buffer = bytes | memoryview


class LinkHandler(Protocol):
    def message_received(self, msg: Message) -> None:
        """One decoded, codec-validated message; may raise LinkError."""

    def link_lost(self, exc: BaseException | None) -> None:
        """The link is closed (EOF, error, malformed input or our own close)."""


class Link:
    __slots__ = (
        "_closed",
        "_decoder",
        "_drained",
        "_fd",
        "_fds",
        "_flush_handle",
        "_handler",
        "_loop",
        "_out",
        "_out_frames",
        "_out_size",
        "_pending",
        "_pending_size",
        "_queued",
        "_recv_buffer",
        "_recv_view",
        "_sent",
        "_sock",
        "_writing",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        handler: LinkHandler,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        sock.setblocking(False)
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._handler = handler
        self._decoder = LinkDecoder("worker", max_frame_size)
        # One receive buffer for the link's life (a fresh 256 KiB bytes object
        # per recv cost three memory-mapping system calls per read).
        self._recv_buffer = bytearray(READ_SIZE)
        self._recv_view = memoryview(self._recv_buffer)
        self._closed = False
        self._out: list[Buffer] = []  # buffers of the frames queued this iteration
        self._out_frames = 0  # how many frames they hold
        self._out_size = 0  # their total length
        # flushed but not yet accepted by the kernel, oldest first
        self._pending: collections.deque[Buffer] = collections.deque()
        self._pending_size = 0
        self._fds: collections.deque[tuple[int, int]] = collections.deque()  # (pos, fd)
        self._queued = 0  # stream position after the last queued byte
        self._sent = 0  # stream position after the last sent byte
        self._flush_handle: asyncio.Handle | None = None
        self._writing = False  # add_writer is active
        self._drained: asyncio.Future[None] | None = None
        loop.add_reader(self._fd, self._on_readable)

    @property
    def closed(self) -> bool:
        return self._closed

    # --- sending ---------------------------------------------------------------

    def send(self, msg: Message) -> None:
        """Queue one message (dropped if closed); see the module doc for when it leaves."""
        self.send_frame(encode(msg))

    def send_frame(self, frame: bytes) -> None:
        """Queue an already encoded frame (see :meth:`send`)."""
        if self._closed:
            return
        self._out.append(frame)
        # _queued_frame(len(frame)), inline: two of every request's frames come this way
        size = len(frame)
        self._queued += size
        out_size = self._out_size = self._out_size + size
        self._out_frames += 1
        if self._out_frames >= BATCH_MESSAGES or out_size >= BATCH_BYTES:
            self._flush()
        elif self._flush_handle is None:
            self._flush_handle = self._loop.call_soon(self._flush_soon)

    def send_parts(self, parts: tuple[Buffer, ...]) -> None:
        """Queue one frame given as consecutive buffers (from
        :func:`~pagi.protocol.codec.encode_with_data`); they are written as
        they are, so none of them may change afterwards."""
        if self._closed:
            return
        self._out.extend(parts)
        self._queued_frame(sum(map(len, parts)))

    def _queued_frame(self, size: int) -> None:
        """Account one frame of ``size`` bytes just added to ``_out``; write
        the batch now if it is full, else make sure it leaves this iteration."""
        self._queued += size
        self._out_size += size
        self._out_frames += 1
        if self._out_frames >= BATCH_MESSAGES or self._out_size >= BATCH_BYTES:
            self._flush()
        elif self._flush_handle is None:
            self._flush_handle = self._loop.call_soon(self._flush_soon)

    def unqueue_last(self, frame: bytes) -> bool:
        """Take back ``frame`` if it is the last frame queued and not yet
        written (True); otherwise leave everything as it is (False).

        The HTTP scope uses this to fold a response's first body into its
        START frame when nothing was queued in between.
        """
        out = self._out
        if not out or out[-1] is not frame:
            return False
        out.pop()
        size = len(frame)
        self._queued -= size
        self._out_size -= size
        self._out_frames -= 1
        return True

    def send_with_fd(self, msg: Message, fd: int) -> None:
        """Queue a message that carries ``fd``; the link now owns (closes) it."""
        if self._closed:
            os.close(fd)
            return
        self._fds.append((self._queued, fd))
        self.send(msg)

    def _flush_soon(self) -> None:
        self._flush_handle = None
        self._flush()

    def _flush(self) -> None:
        """Write what was queued; what the kernel does not take waits in ``_pending``."""
        out = self._out
        if self._closed or not out:
            return
        size = self._out_size
        self._out = []
        self._out_size = 0
        self._out_frames = 0
        if not self._pending and size < JOIN_BELOW and not self._fds:
            # the common case: a few small frames, one send
            data = out[0] if len(out) == 1 else b"".join(out)
            try:
                n = self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError as exc:
                self._loop.call_soon(self._lost, exc)
                return
            self._sent += n
            if n == len(data):
                return
            self._pending.append(memoryview(data)[n:])
            self._pending_size = len(data) - n
        else:
            self._pending.extend(out)
            self._pending_size += size
            if self._writing:
                return  # the writer callback sends it, in order
            try:
                self._send_pending()
            except OSError as exc:
                self._loop.call_soon(self._lost, exc)
                return
            if not self._pending:
                return
        # The socket is full: the writer callback sends the rest.
        self._writing = True
        self._loop.add_writer(self._fd, self._write_pending)

    def _send_pending(self) -> None:
        """Send from ``_pending`` until it is empty or the socket is full."""
        pending = self._pending
        while pending:
            if len(pending) > 1 and (self._fds or self._pending_size < JOIN_BELOW):
                joined = b"".join(pending)
                pending.clear()
                pending.append(joined)
            n = self._write(pending)
            if n == 0:
                return
            self._pending_size -= n
            while n:
                head = pending[0]
                if n >= len(head):
                    pending.popleft()
                    n -= len(head)
                else:
                    pending[0] = memoryview(head)[n:]
                    n = 0

    def _write(self, pending: collections.deque[Buffer]) -> int:
        """One send of a prefix of the unsent stream; 0 on EAGAIN.

        With descriptors waiting, ``pending`` holds one buffer (joined by the
        caller)."""
        fds = self._fds
        try:
            if not fds:
                if len(pending) == 1:
                    n = self._sock.send(pending[0])
                else:
                    n = self._sock.sendmsg(list(itertools.islice(pending, MAX_IOVECS)))
            else:
                data = pending[0]
                count = min(len(fds), MAX_FDS_PER_SEND)
                batch = array.array("i", (fds[i][1] for i in range(count)))
                if len(fds) > count:
                    # the rest must ride on a later send that starts at or
                    # before their frames: stop this one short of them
                    limit = fds[count][0] - self._sent
                    if limit < len(data):
                        data = memoryview(data)[:limit]
                ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, batch)]
                n = self._sock.sendmsg([data], ancillary)
                for _ in range(count):
                    os.close(fds.popleft()[1])
        except (BlockingIOError, InterruptedError):
            return 0
        self._sent += n
        return n

    def _write_pending(self) -> None:
        """The writer callback: armed exactly while ``_pending`` is not empty."""
        try:
            self._send_pending()
        except OSError as exc:
            self._lost(exc)
            return
        if not self._pending:
            if self._writing:
                self._writing = False
                self._loop.remove_writer(self._fd)
            if self._drained is not None and not self._drained.done():
                self._drained.set_result(None)

    # --- receiving -------------------------------------------------------------

    def _on_readable(self) -> None:
        try:
            size = self._sock.recv_into(self._recv_buffer)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(exc)
            return
        if not size:
            try:
                self._decoder.check_eof()
            except LinkError as exc:
                logger.error("link to pagi-front: %s", exc)
                self._lost(exc)
                return
            self._lost(None)
            return
        try:
            messages = self._decoder.feed(self._recv_view[:size])
            handler = self._handler
            for msg in messages:
                if self._closed:
                    return
                handler.message_received(msg)
            if self._flush_handle is None and not self._closed:
                # Scheduled behind the first steps of the scopes these messages
                # opened, so what they send leaves in this loop iteration
                # rather than after one more turn of the loop.
                self._flush_handle = self._loop.call_soon(self._flush_soon)
        except LinkError as exc:
            logger.error("malformed input from pagi-front (%s); dropping the link", exc)
            self._lost(exc)
        except Exception as exc:
            logger.exception("internal error while handling a link message; dropping the link")
            self._lost(exc)

    # --- closing -----------------------------------------------------------------

    def abort(self, exc: BaseException | None = None) -> None:
        """Close now, dropping anything unsent."""
        self._lost(exc)

    async def close_gracefully(self, timeout: float) -> None:
        """Write out everything queued (up to ``timeout`` seconds), then close."""
        if self._closed:
            return
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._flush()
        if self._pending and not self._closed:
            self._drained = self._loop.create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._drained), timeout)
            except TimeoutError:
                logger.warning(
                    "could not write the last %d bytes to pagi-front", self._pending_size
                )
        self._lost(None)

    def _lost(self, exc: BaseException | None) -> None:
        if self._closed:
            return
        self._closed = True
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._loop.remove_reader(self._fd)
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)
        self._sock.close()
        while self._fds:
            os.close(self._fds.popleft()[1])
        self._out = []
        self._pending.clear()
        self._pending_size = 0
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._handler.link_lost(exc)
