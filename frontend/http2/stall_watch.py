"""The zero-window watchdog of one HTTP/2 connection.

A client that never opens its flow-control window would hold a stream's
response (and its scope in the worker) for ever. Invariants:

* a stream is in :attr:`StallWatch.since` only while its writer holds output
  the windows do not let it send, with the time it was first found so;
* one timer per connection, armed only while some stream is stalled, looks
  every half :attr:`timeout`; a stream stalled for the whole ``timeout`` is
  reset (``CANCEL``) and its scope told ``write_timeout``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pagi.protocol import reasons

from . import frames as F
from .writer import H2Writer

logger = logging.getLogger("pagi.front")


class StallWatch:
    """Which streams of a connection wait on a closed window, and since when."""

    __slots__ = ("_loop", "_timer", "_wake", "_writers", "peer", "since", "timeout")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        timeout: float,
        writers: dict[int, H2Writer],
        wake: Callable[[], None],
    ) -> None:
        self._loop = loop
        self.timeout = timeout
        self._writers = writers
        self._wake = wake  # the connection's flush, after a reset
        self._timer: asyncio.TimerHandle | None = None
        self.since: dict[int, float] = {}
        self.peer = "-"

    def pushed(self, writer: H2Writer, now: float) -> None:
        """``writer`` just handed out what the windows allowed."""
        if writer.out.pending:
            self.since.setdefault(writer.sid, now)
            if self._timer is None:
                self._timer = self._loop.call_later(self.timeout / 2, self._check)
        else:
            self.since.pop(writer.sid, None)

    def forget(self, sid: int) -> None:
        self.since.pop(sid, None)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        self._timer = None
        deadline = self._loop.time() - self.timeout
        for sid, since in list(self.since.items()):
            writer = self._writers.get(sid)
            if writer is None or writer.finished or not writer.out.pending:
                self.since.pop(sid, None)
            elif since <= deadline:
                logger.info(
                    "%s HTTP/2 stream %d: flow-control window closed for %g s, resetting",
                    self.peer,
                    sid,
                    self.timeout,
                )
                self.since.pop(sid, None)
                writer.reset(F.CANCEL)
                if writer.http is not None:
                    writer.http.abort(reasons.WRITE_TIMEOUT)
                elif writer.ws is not None:
                    writer.ws.abort(reasons.WRITE_TIMEOUT)
        if self.since:
            self._timer = self._loop.call_later(self.timeout / 2, self._check)
        self._wake()
