"""The socket half of a worker link: receiving frames and descriptors, coalesced sends.

:class:`LinkIO` is the base of :class:`~.worker_link.WorkerLink`. It owns the
accepted UNIX stream socket and nothing about the protocol beyond framing: it
reads with ``recvmsg``, feeds a :class:`~pagi.protocol.LinkDecoder`, and hands
each decoded message to :meth:`LinkIO._dispatch`, which the subclass provides.
Everything runs as loop callbacks: no task per link.

Invariants:

* Descriptors that arrive as ``SCM_RIGHTS`` ancillary data wait in ``_fds``
  (oldest first) until the subclass claims them; at most
  :data:`MAX_PENDING_FDS` may wait. On teardown every unclaimed one is closed
  here, so none leaks.
* Messages queued with :meth:`LinkIO._send` are encoded at once and leave in
  batches: one ``send`` when :data:`BATCH_MESSAGES` frames or
  :data:`BATCH_BYTES` bytes have gathered, and one at the end of the loop
  iteration for the rest. Bytes the socket did not take wait in ``_out``
  behind the writer callback, which is armed exactly while ``_out`` is not
  empty; more than ``config.max_link_buffer`` waiting drops the link.
* Grants queued with :meth:`LinkIO._send_credit` while a batch gathers leave
  as one CREDITS message (one CREDIT if there is only one) at the place of the
  first of them. A grant may thus overtake other frames of its batch, but
  never the OPEN of its own scope: that has left before any response arrived
  to grant for. Body-ring pieces copied out (:meth:`LinkIO._ring_piece_done`)
  leave the same way, as one RING_DONE per batch.
* A send never tears the link down from inside :meth:`LinkIO._send`: a failed
  or stuck write is acted on in a later callback, so a caller that is in the
  middle of opening a scope is not re-entered by ``on_worker_lost``.
* A :class:`LinkViolation` raised by ``_dispatch`` (or a codec
  :class:`~pagi.protocol.LinkError`) drops the link; any other exception is
  logged and reading goes on with the next message.
* Once ``closed`` is set nothing is read, sent or dispatched any more, and
  :meth:`LinkIO._released` has been called exactly once.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import logging
import os
import socket
import sys
from collections import deque
from typing import Any

from pagi.protocol import Event, Kind, LinkDecoder, LinkError
from pagi.protocol import messages as m
from pagi.protocol.codec import encode

from ..config import FrontConfig

logger = logging.getLogger("pagi.front")

RECV_SIZE = 256 * 1024
#: Most descriptors accepted in one recvmsg (one per HTTP_RESPONSE_FILE frame).
MAX_FDS_PER_RECV = 64
ANCILLARY_SIZE = socket.CMSG_SPACE(MAX_FDS_PER_RECV * array.array("i").itemsize)
#: Descriptors received but not yet claimed by a FILE frame; more is a violation.
MAX_PENDING_FDS = 1024
#: A batch is written as soon as it holds this many frames, without waiting for
#: the end of the loop iteration. Bounded batches keep the front and the worker
#: busy at the same time: with one batch per iteration, 64 requests read in
#: one iteration travel to the worker as one block, and each process idles
#: while the other works through it (docs/performance.md, "bounded batches"
#: and "front batches of 8").
BATCH_MESSAGES = 8
#: ... or this many bytes, so a large request body is not held back either.
BATCH_BYTES = 64 * 1024
_RECV_FLAGS = getattr(socket, "MSG_CMSG_CLOEXEC", 0)


class LinkViolation(LinkError):
    """The worker broke the protocol in a way the codec cannot see (order, window)."""


class LinkIO:
    """Socket I/O of one link. Starts reading as soon as it is constructed.

    The subclass implements :meth:`_dispatch`, :meth:`_left` and
    :meth:`_released`; ``name`` is the peer's name in log lines.
    """

    __slots__ = (
        "_config",
        "_credit_slot",
        "_credits",
        "_decoder",
        "_fds",
        "_flush_scheduled",
        "_frames",
        "_frames_size",
        "_loop",
        "_out",
        "_recv_buffer",
        "_recv_view",
        "_ring_done",
        "_ring_slot",
        "_sock",
        "closed",
        "name",
    )

    def __init__(self, sock: socket.socket, config: FrontConfig, name: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._sock = sock
        self._config = config
        self._decoder = LinkDecoder("front", config.max_frame_size)
        self._fds: deque[int] = deque()
        self._frames: list[bytes] = []  # encoded, not yet written
        self._frames_size = 0
        self._credits: dict[int, int] = {}  # grants of this batch, by scope id
        self._credit_slot = 0  # their place in _frames (while _credits is not empty)
        self._ring_done = 0  # body-ring pieces copied out in this batch
        self._ring_slot = 0  # the place of their RING_DONE in _frames
        self._flush_scheduled = False
        self._out = bytearray()  # written partially; the writer callback is armed
        # One receive buffer for the link's life: a fresh 256 KiB bytes object
        # per recvmsg cost an mmap, an mremap and a munmap (plus page faults)
        # on every read.
        self._recv_buffer = bytearray(RECV_SIZE)
        self._recv_view = memoryview(self._recv_buffer)
        self.name = name
        self.closed = False
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._on_readable)

    @property
    def queued_bytes(self) -> int:
        """Bytes queued for the peer and not yet written (the link's backlog)."""
        return self._frames_size + len(self._out)

    def peer_pid(self) -> int | None:
        """The worker's pid as this process's kernel sees it (``SO_PEERCRED``);
        None when it lives in another pid namespace (a container)."""
        try:
            raw = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        except OSError:
            return None
        pid = int.from_bytes(raw[:4], sys.byteorder)
        return pid or None

    # --- the subclass's side ------------------------------------------------------

    def _dispatch(self, msg: list[Any]) -> None:
        """Act on one decoded message; raise :class:`LinkViolation` to drop the link."""
        raise NotImplementedError

    def _left(self) -> None:
        """The peer closed the connection (EOF, reset or broken pipe)."""
        raise NotImplementedError

    def _released(self) -> None:
        """Called once by :meth:`_teardown`, after the socket and descriptors are closed."""
        raise NotImplementedError

    # --- reading --------------------------------------------------------------

    def _on_readable(self) -> None:
        try:
            size, ancdata, flags, _addr = self._sock.recvmsg_into(
                (self._recv_buffer,), ANCILLARY_SIZE, _RECV_FLAGS
            )
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:  # it died with our messages unread
            self._left()
            return
        except OSError as exc:
            self._drop(f"receive failed: {exc.strerror or exc}")
            return
        if ancdata and not self._take_fds(ancdata, flags):
            return
        if not size:
            self._on_eof()
            return
        try:
            msgs = self._decoder.feed(self._recv_view[:size])
        except LinkError as exc:
            self._drop(str(exc))
            return
        for msg in msgs:
            try:
                self._dispatch(msg)
            except LinkViolation as exc:
                self._drop(str(exc))
                return
            except Exception:
                logger.exception("error handling %s from worker %s", _describe(msg), self.name)
            if self.closed:
                return

    def _take_fds(self, ancdata: list[tuple[int, int, bytes]], flags: int) -> bool:
        fds = array.array("i")
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
        self._fds.extend(fds)
        if flags & socket.MSG_CTRUNC:
            self._drop(
                f"more than {MAX_FDS_PER_RECV} file descriptors in one write (ancillary data cut)"
            )
            return False
        if len(self._fds) > MAX_PENDING_FDS:
            self._drop(f"more than {MAX_PENDING_FDS} file descriptors without FILE frames")
            return False
        return True

    def _on_eof(self) -> None:
        try:
            self._decoder.check_eof()
        except LinkError as exc:
            self._drop(str(exc))
            return
        self._left()

    # --- writing ----------------------------------------------------------------

    def _send(self, msg: list[Any]) -> None:
        if self.closed:
            return
        frame = encode(msg)
        frames = self._frames
        frames.append(frame)
        self._frames_size += len(frame)
        # _queued(), inline: this runs for every message the front sends
        if len(frames) >= BATCH_MESSAGES or self._frames_size >= BATCH_BYTES:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush_soon)

    def send_frame_bounded(self, frame: bytes, limit: int) -> bool:
        """Queue an encoded ``frame`` unless more than ``limit`` bytes already
        wait for this link (False: not queued). Channel fan-out uses it, so a
        worker that does not keep up loses channel messages, not its link."""
        if self.closed or len(self._out) + self._frames_size > limit:
            return False
        self._frames.append(frame)
        self._frames_size += len(frame)
        self._queued()
        return True

    def _send_credit(self, scope_id: int, nbytes: int) -> None:
        """Queue a grant of ``nbytes`` on a scope (see the class invariants)."""
        if self.closed:
            return
        credits = self._credits
        if credits:
            credits[scope_id] = credits.get(scope_id, 0) + nbytes
            return
        credits[scope_id] = nbytes
        self._credit_slot = len(self._frames)
        self._frames.append(b"")  # filled in by _flush
        self._queued()

    def _ring_piece_done(self) -> None:
        """Count one body-ring piece copied out, for this batch's RING_DONE."""
        if self.closed:
            return
        if self._ring_done:
            self._ring_done += 1
            return
        self._ring_done = 1
        self._ring_slot = len(self._frames)
        self._frames.append(b"")  # filled in by _flush
        self._queued()

    def _queued(self) -> None:
        """A frame joined the batch: write it now if full, else by the end of
        this loop iteration."""
        if len(self._frames) >= BATCH_MESSAGES or self._frames_size >= BATCH_BYTES:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        self._flush_scheduled = False
        self._flush()

    def _flush(self, final: bool = False) -> None:
        """Write every queued frame as one send; buffer the rest behind the writer.

        ``final``: best effort before closing, never arms the writer. Failures
        are acted on in a later callback (see the class invariants).
        """
        frames = self._frames
        if self.closed or not frames:
            return
        if self._credits:
            frames[self._credit_slot] = encode(m.credits(self._credits))
            self._credits.clear()
        if self._ring_done:
            frames[self._ring_slot] = encode(m.ring_done(self._ring_done))
            self._ring_done = 0
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        frames.clear()
        self._frames_size = 0
        if self._out:
            self._out += data
            if final:
                self._write_out()
            elif len(self._out) > self._config.max_link_buffer:
                self._loop.call_soon(self._drop_stuck)
            return
        try:
            sent = self._sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            if not final:
                self._loop.call_soon(self._send_failed, exc)
            return
        if sent < len(data) and not final:
            self._out += memoryview(data)[sent:]
            if len(self._out) > self._config.max_link_buffer:
                self._loop.call_soon(self._drop_stuck)
                return
            self._loop.add_writer(self._sock.fileno(), self._write_out)

    def _write_out(self) -> None:
        if self.closed:
            return
        try:
            sent = self._sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._send_failed(exc)
            return
        del self._out[:sent]
        if not self._out:
            self._loop.remove_writer(self._sock.fileno())

    def _send_failed(self, exc: OSError) -> None:
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            self._left()
        else:
            self._drop(f"send failed: {exc.strerror or exc}")

    def _drop_stuck(self) -> None:
        if self.closed:
            return
        self._drop(
            f"stuck: more than {self._config.max_link_buffer} bytes waiting to be written to it"
        )

    # --- ending -------------------------------------------------------------------

    def _finish(self, level: int, message: str) -> None:
        """End the link from our side: flush what is queued (best effort), then
        :meth:`_teardown`; nothing if it is closed already."""
        if not self.closed:
            self._flush(final=True)
            self._teardown(level, message)

    def _drop(self, reason: str) -> None:
        self._teardown(logging.WARNING, f"dropping worker {self.name}: {reason}")

    def _teardown(self, level: int, message: str) -> None:
        """Log ``message``, close the socket and unclaimed descriptors, then :meth:`_released`."""
        if self.closed:
            return
        self.closed = True
        logger.log(level, message)
        fileno = self._sock.fileno()
        if fileno >= 0:
            self._loop.remove_reader(fileno)
            if self._out:
                self._loop.remove_writer(fileno)
        self._sock.close()
        self._out.clear()
        self._frames.clear()
        self._credits.clear()
        self._ring_done = 0
        while self._fds:
            with contextlib.suppress(OSError):
                os.close(self._fds.popleft())
        self._released()


def _describe(msg: list[Any]) -> str:
    try:
        kind = Kind(msg[0])
    except ValueError:
        return "message"
    if kind == Kind.EVENT:
        return f"{Event(msg[2]).name} for scope {msg[1]}"
    return f"{kind.name} for scope {msg[1]}" if msg[1] else kind.name
