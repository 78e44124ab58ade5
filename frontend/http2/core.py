"""One server-side HTTP/2 connection without I/O: bytes in, listener calls and bytes out.

:class:`H2Core` is pagi's HTTP/2 engine (:class:`~.engine.H2Engine`, with its
send side :class:`~.engine_output.Sender` as :attr:`H2Core.out`) under
pagi's limits and flood caps. The I/O shell feeds it what the socket read
(:meth:`H2Core.receive`), hears of requests, DATA and resets through its
:class:`~.listener.H2Listener`, and writes what :meth:`H2Core.outbound` returns.

Invariants:

* The server preface (our SETTINGS, and the connection window raised to
  :attr:`~.limits.H2Limits.connection_window`) is the first outbound data.
* :meth:`receive` never raises for anything the client sent: a protocol
  violation (bad preface, frame size, stream state, HPACK, flow control...)
  or a crossed flood cap queues a GOAWAY with the right error code and sets
  :attr:`H2Core.error`; after that nothing more is read.
* Received DATA is *not* acknowledged here: the stream layer calls
  :meth:`consumed` as the bytes are forwarded to the worker, so the client's
  window only reopens as fast as the app reads (a slow app slows its client).
"""

from __future__ import annotations

from collections.abc import Callable

from . import frames as F
from .engine import PREFACE, H2Engine
from .engine_output import Sender
from .limits import H2Limits, WindowCounter
from .listener import CAP_EMPTY_DATA, CAP_PING, CAP_RESET, CAP_SETTINGS, H2Listener

__all__ = ["PREFACE", "H2Core"]

_CAP_REASONS = {
    CAP_RESET: "too many streams reset by the client (Rapid Reset)",
    CAP_SETTINGS: "SETTINGS flood",
    CAP_PING: "PING flood",
    CAP_EMPTY_DATA: "empty DATA frame flood",
}


class H2Core:
    """The HTTP/2 state of one client connection."""

    __slots__ = ("_caps", "_clock", "engine", "last_stream", "limits", "out")

    def __init__(self, limits: H2Limits, clock: Callable[[], float], listener: H2Listener) -> None:
        self.limits = limits
        self._clock = clock
        self.engine = H2Engine(limits, listener, self)
        self.out: Sender = self.engine.out
        #: Set by :meth:`goaway` (or the client's GOAWAY): the last stream id served.
        self.last_stream: int | None = None
        window = limits.flood_window
        self._caps = {
            CAP_RESET: WindowCounter(limits.max_resets, window),
            CAP_SETTINGS: WindowCounter(limits.max_settings, window),
            CAP_PING: WindowCounter(limits.max_pings, window),
            CAP_EMPTY_DATA: WindowCounter(limits.max_empty_data, window),
        }

    @property
    def error(self) -> tuple[int, str] | None:
        """Why the connection is over from our side: ``(error code, reason)``."""
        return self.engine.error

    @property
    def highest_stream(self) -> int:
        return self.engine.highest_inbound_stream_id

    def over_cap(self, kind: int) -> str | None:
        """:class:`~.listener.H2Guard`: count a watched frame against its cap."""
        if self._caps[kind].hit(self._clock()):
            return _CAP_REASONS[kind]
        return None

    # --- input ---------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Act on ``data``; on a violation, :attr:`error` is set and GOAWAY queued."""
        self.engine.receive(data)

    def calm_down(self, reason: str) -> None:
        """End the connection with GOAWAY ENHANCE_YOUR_CALM."""
        self.fail(F.ENHANCE_YOUR_CALM, reason)

    def fail(self, code: int, reason: str) -> None:
        """End the connection with GOAWAY ``code``."""
        self.engine.fail(code, reason)

    # --- flow control ------------------------------------------------------------

    def consumed(self, stream_id: int, nbytes: int) -> None:
        """The stream layer has taken ``nbytes`` of DATA: reopen the windows."""
        self.out.consumed(stream_id, nbytes)

    def send_window(self, stream_id: int) -> int:
        """Response bytes the stream may send now (the smaller of both windows)."""
        return self.out.window(stream_id)

    # --- output --------------------------------------------------------------------

    def outbound(self) -> bytes:
        """Everything queued for the client since the last call."""
        return self.out.data_to_send()

    def goaway(self) -> int:
        """Graceful shutdown: GOAWAY NO_ERROR naming the last stream we will finish.

        The streams up to that id go on normally; the caller refuses streams
        opened after it. Returns that id.
        """
        last = self.engine.highest_inbound_stream_id
        if self.engine.error is None and self.last_stream is None:
            self.last_stream = last
            self.out.write(F.goaway(last, F.NO_ERROR))
        return last
