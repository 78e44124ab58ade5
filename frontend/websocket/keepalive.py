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


class PingPolicy:
    """Which pings one WebSocket gets, and the :class:`Keepalive` that sends them.

    The app's ``websocket.keepalive`` wins (it may come before the accept and
    is kept until then), else ``--ws-ping-interval``. Pings run only while the
    WebSocket is open: from :meth:`opened` until :meth:`stop`.
    """

    __slots__ = ("_default", "_keepalive", "_make", "_open", "_ping_timeout", "_wanted")

    def __init__(self, interval: float, timeout: float | None) -> None:
        self._make: Callable[[], Keepalive] | None = None  # builds the timer on first use
        self._default = (interval, timeout or interval) if interval > 0 else None
        self._ping_timeout = timeout  # for an app's keepalive without a timeout
        self._wanted: tuple[float, float] | None = None
        self._keepalive: Keepalive | None = None
        self._open = False

    def app_wants(self, interval: float, timeout: float | None) -> None:
        """``websocket.keepalive`` from the app (``timeout`` None: the default)."""
        if timeout is None:
            timeout = self._ping_timeout or interval
        self._wanted = (interval, timeout)
        if self._open:
            self._configure(interval, timeout)

    def opened(self, make: Callable[[], Keepalive]) -> None:
        """The WebSocket is open; ``make`` builds its ping timer when one is needed."""
        self._make = make
        self._open = True
        wanted = self._wanted or self._default
        if wanted is not None:
            self._configure(*wanted)

    def pong(self) -> None:
        if self._keepalive is not None:
            self._keepalive.pong()

    def stop(self) -> None:
        self._open = False
        if self._keepalive is not None:
            self._keepalive.stop()

    def _configure(self, interval: float, timeout: float) -> None:
        keepalive = self._keepalive
        if keepalive is None:
            if interval <= 0 or self._make is None:
                return
            keepalive = self._keepalive = self._make()
        keepalive.configure(interval, timeout)
