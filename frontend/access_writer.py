"""The access log's fast path: lines batched per loop turn, written straight to stderr.

Through :mod:`logging`, one access line costs a ``LogRecord`` (with the caller's
frame looked up), a formatter pass with ``strftime``, a lock and a
``write``+``flush`` system call: about as much CPU as the rest of a keep-alive
request. When the logging set-up is the one pagi-front installs itself — the
``pagi.access`` logger propagating to the single stderr handler of
:mod:`.logs`, with no filter and nothing else attached anywhere on the way —
that whole path has exactly one observable effect, the text it writes to
stderr. :class:`AccessWriter` produces the same text (same timestamp, level,
pid and colours, byte for byte) without a record, and writes all the lines of
one event-loop turn with one ``write``.

Invariants:

* the fast path is chosen once, after the logging set-up (``--log-config``
  included), by :func:`eligible_handler`; any other configuration (a handler
  on ``pagi.access``, a replaced root handler, a filter, a custom formatter)
  keeps the ``logging`` path, so ``--log-config`` routes lines as before;
* nothing the front logs itself overtakes an access line: the stderr handler
  flushes the pending lines before it emits any record (``FrontHandler``);
* a line waits at most until the end of the current loop turn (``call_soon``),
  or less when :data:`MAX_PENDING` lines are queued; :meth:`AccessWriter.flush`
  at shutdown writes what is left;
* each ``write`` holds whole lines and at most ``PIPE_BUF`` bytes (unless one
  line alone is longer), so on a pipe shared with the workers, which write
  their own log lines to the same stderr, no other line can land inside one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import time

from pagi.protocol.log_colors import LEVEL_COLORS

from .logs import FrontHandler, installed_handler

MAX_PENDING = 256  # lines; a loop turn rarely completes more requests than this
#: Largest write the kernel keeps whole on a pipe (POSIX: at least 512; Linux 4096).
WRITE_MAX = select.PIPE_BUF


def eligible_handler(logger: logging.Logger) -> FrontHandler | None:
    """The front's stderr handler if it is the only place ``logger``'s INFO lines go."""
    if not logger.isEnabledFor(logging.INFO) or logger.filters:
        return None
    handler = installed_handler()
    if handler is None or handler.filters or handler.level > logging.INFO:
        return None
    if handler.formatter is not handler.front_formatter:
        return None
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        found.extend(current.handlers)
        current = current.parent if current.propagate else None
    if found != [handler]:
        return None
    try:
        handler.stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None  # not a real file (a test's capture, a closed stream)
    return handler


class AccessWriter:
    """Formats access lines as the stderr handler would and writes them in batches."""

    __slots__ = ("_encoding", "_fd", "_loop", "_middle", "_pending", "_second", "_stamp")

    def __init__(self, handler: FrontHandler, loop: asyncio.AbstractEventLoop) -> None:
        stream = handler.stream
        self._fd = stream.fileno()
        self._encoding = getattr(stream, "encoding", None) or "utf-8"
        self._loop = loop
        level = logging.getLevelName(logging.INFO)
        if handler.front_colors:
            level = f"{LEVEL_COLORS[logging.INFO]}{level}\x1b[0m"
        # FORMAT is "%(asctime)s %(levelname)s front[%(process)d] %(message)s".
        self._middle = f" {level} front[{os.getpid()}] "
        self._pending: list[bytes] = []
        self._second = -1
        self._stamp = ""
        handler.before_emit = self.flush

    def write(self, message: str) -> None:
        """Queue one line (``message`` as the logger would get it)."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        pending = self._pending
        line = f"{self._stamp},{int((now - second) * 1000):03d}{self._middle}{message}\n"
        pending.append(line.encode(self._encoding, "backslashreplace"))
        if len(pending) == 1:
            self._loop.call_soon(self.flush)
        elif len(pending) >= MAX_PENDING:
            self.flush()

    def flush(self) -> None:
        """Write every queued line, whole lines at most ``WRITE_MAX`` bytes a call."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        chunk: list[bytes] = []
        size = 0
        try:
            for line in pending:
                if chunk and size + len(line) > WRITE_MAX:
                    self._write(b"".join(chunk))
                    chunk.clear()
                    size = 0
                chunk.append(line)
                size += len(line)
            self._write(b"".join(chunk))
        except BlockingIOError:
            return  # a non-blocking stderr that is full: drop the rest, never stall
        except OSError:
            return  # stderr closed (EPIPE): as logging, lose the line, not the request

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
