"""The ``date`` header line of every response the front writes.

* :func:`imf_fixdate` — RFC 9110 §5.6.7's preferred date format.
* :class:`DateHeader` — the ``date: <IMF-fixdate>\\r\\n`` line, formatted at
  most once per wall-clock second; :data:`date_header` is the process-wide
  one every connection (HTTP/1.1 and HTTP/2) uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def imf_fixdate(seconds: int) -> bytes:
    """RFC 9110 §5.6.7's preferred date format, e.g. ``Sun, 06 Nov 1994 08:49:37 GMT``
    (formatted here: ``email.utils`` costs the front about 1 MiB and its import)."""
    t = time.gmtime(seconds)
    return b"%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        _DAYS[t.tm_wday].encode(),
        t.tm_mday,
        _MONTHS[t.tm_mon - 1].encode(),
        t.tm_year,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
    )


class DateHeader:
    """The ``date: <IMF-fixdate>\\r\\n`` line, re-formatted when the second changes.

    ``clock`` is injectable for tests; it returns POSIX seconds like
    :func:`time.time`.
    """

    __slots__ = ("_clock", "_line", "_second")

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._second = -1
        self._line = b""

    def line(self) -> bytes:
        now = int(self._clock())
        if now != self._second:
            self._second = now
            self._line = b"date: " + imf_fixdate(now) + b"\r\n"
        return self._line


#: The process-wide cache every connection uses.
date_header = DateHeader()
