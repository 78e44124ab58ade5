"""The limits of one HTTP/2 connection and the floods it refuses.

Each cap counts events in a fixed window of :attr:`H2Limits.flood_window`
seconds (the count restarts when a window has passed). Crossing a cap ends the
connection with GOAWAY ``ENHANCE_YOUR_CALM`` (0xb) naming the last stream the
server will still finish; ``docs/http2.md`` lists what a client sees for each.
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024


@dataclass(frozen=True, slots=True)
class H2Limits:
    """Advertised SETTINGS and the flood caps. Defaults are the documented ones."""

    #: SETTINGS_MAX_CONCURRENT_STREAMS: a client opening more is refused.
    max_concurrent_streams: int = 100
    #: SETTINGS_MAX_HEADER_LIST_SIZE (decoded bytes, RFC 9113 section 6.5.2).
    max_header_list_size: int = 64 * KiB
    #: SETTINGS_INITIAL_WINDOW_SIZE: request body bytes buffered per stream.
    stream_window: int = 64 * KiB
    #: Request body bytes buffered per connection (the connection window).
    connection_window: int = 1024 * KiB
    #: SETTINGS_MAX_FRAME_SIZE we accept (RFC minimum, so frames stay small).
    max_frame_size: int = 16 * KiB
    #: Window over which the flood caps below count, seconds.
    flood_window: float = 10.0
    #: Streams the client may reset (RST_STREAM) per window: Rapid Reset.
    max_resets: int = 200
    #: SETTINGS frames the client may send per window.
    max_settings: int = 50
    #: PING frames the client may send per window.
    max_pings: int = 50
    #: DATA frames without payload and without END_STREAM per window.
    max_empty_data: int = 100
    #: A stream whose response waits on a zero window this long is reset.
    stall_timeout: float = 30.0


class WindowCounter:
    """Counts events in fixed windows; :meth:`hit` says whether the cap is crossed."""

    __slots__ = ("_count", "_limit", "_start", "_window")

    def __init__(self, limit: int, window: float) -> None:
        self._limit = limit
        self._window = window
        self._start = 0.0
        self._count = 0

    def hit(self, now: float) -> bool:
        """Count one event at ``now``; True if this one is over the cap."""
        if now - self._start >= self._window:
            self._start = now
            self._count = 0
        self._count += 1
        return self._count > self._limit
