"""Server pings for one WebSocket (``websocket.keepalive`` / ``--ws-ping-interval``).

One timer per connection, only while keepalive is on. The cycle: send a ping,
wait up to ``timeout`` for a pong, then ping again ``interval`` after the
previous ping. Any pong from the client ends the wait (RFC 6455 lets a pong
answer the latest ping only, and an unsolicited pong is a heartbeat anyway).
No pong in time calls ``on_timeout``.

While the connection is not reading the client (back-pressure: the app is not
draining its messages), a pong could not be seen, so the deadline is pushed
back instead of expiring: a client whose data is waiting in the socket is not
dead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Keepalive:
    __slots__ = (
        "_interval",
        "_loop",
        "_on_timeout",
        "_ping",
        "_pinged_at",
        "_reading",
        "_seq",
        "_timeout",
        "_timer",
        "_waiting",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        ping: Callable[[bytes], None],
        on_timeout: Callable[[], None],
        reading: Callable[[], bool],
    ) -> None:
        self._loop = loop
        self._ping = ping  # writes a ping frame with this payload
        self._on_timeout = on_timeout
        self._reading = reading  # is the connection reading the client now?
        self._interval = 0.0
        self._timeout = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._waiting = False  # a ping is out, its pong has not come
        self._pinged_at = 0.0
        self._seq = 0

    @property
    def active(self) -> bool:
        return self._interval > 0

    def configure(self, interval: float, timeout: float) -> None:
        """Ping every ``interval`` s (0 stops); a pong must come within ``timeout`` s."""
        self.stop()
        self._interval = interval
        self._timeout = timeout if timeout > 0 else interval
        if interval > 0:
            self._timer = self._loop.call_later(interval, self._send)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._interval = 0.0
        self._waiting = False

    def pong(self) -> None:
        """The client sent a pong."""
        if not self._waiting:
            return
        self._waiting = False
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(self._pinged_at + self._interval, self._send)

    def _send(self) -> None:
        self._seq += 1
        self._waiting = True
        self._pinged_at = self._loop.time()
        self._timer = self._loop.call_later(self._timeout, self._expired)
        self._ping(self._seq.to_bytes(4, "big"))

    def _expired(self) -> None:
        if not self._reading():
            self._timer = self._loop.call_later(self._timeout, self._expired)
            return
        self._timer = None
        self._waiting = False
        self._interval = 0.0
        self._on_timeout()
