"""The state of one HTTP/2 stream as the engine keeps it (RFC 9113 section 5.1).

An :class:`H2Stream` exists from the client's HEADERS until both sides have
ended it or it is reset; only such streams are in the engine's table and
count against SETTINGS_MAX_CONCURRENT_STREAMS. The states map to flags:

* ``open``: ``remote_open`` and ``local_open``;
* ``half-closed (remote)``: the client's END_STREAM arrived, ``remote_open`` false;
* ``half-closed (local)``: our END_STREAM was sent, ``local_open`` false;
* ``closed``: both false, or reset: the stream leaves the table and its id is
  remembered in :class:`ClosedStreams` with how it closed.

Idle streams have no object: an id above the highest the client has used.

Receive windows follow one rule (:func:`window_increment`): bytes the
application has consumed are given back in one WINDOW_UPDATE once they reach
half the window, or sooner when the window is used up, so a slow reader keeps
its sender waiting and a fast one costs few frames.
"""

from __future__ import annotations

#: How a stream closed (what a late frame on it means, section 5.1 "closed").
ENDED = 0  # both sides sent END_STREAM: a later frame is a connection error
RESET_BY_PEER = 1  # the client sent RST_STREAM: a later frame is a stream error
RESET_BY_US = 2  # we sent RST_STREAM: frames in flight are ignored


class H2Stream:
    """One stream that is not closed."""

    __slots__ = (
        "expected_length",
        "local_open",
        "received",
        "recv_processed",
        "recv_window",
        "remote_open",
        "send_window",
        "sid",
    )

    def __init__(self, sid: int, send_window: int, recv_window: int, remote_open: bool) -> None:
        self.sid = sid
        self.remote_open = remote_open
        self.local_open = True
        #: Response bytes the client allows on this stream now.
        self.send_window = send_window
        #: Request bytes the client may still send before a WINDOW_UPDATE.
        self.recv_window = recv_window
        #: Request bytes consumed since the last WINDOW_UPDATE.
        self.recv_processed = 0
        #: The request's content-length, or -1 (checked against the DATA, section 8.1.1).
        self.expected_length = -1
        self.received = 0


def window_increment(window: int, maximum: int, processed: int) -> int:
    """The WINDOW_UPDATE increment due for ``processed`` consumed bytes (0: not yet)."""
    if processed >= maximum // 2 or (window <= 0 and processed > min(1024, maximum // 4)):
        return min(processed, maximum - window)
    return 0


class ClosedStreams:
    """The ids of recently closed streams and how each closed (bounded)."""

    __slots__ = ("_limit", "_reasons")

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._reasons: dict[int, int] = {}

    def add(self, sid: int, reason: int) -> None:
        reasons = self._reasons
        if len(reasons) >= self._limit:
            # keep the newer half (deleting the oldest one at a time would make
            # finding the oldest walk the dict's deleted slots)
            keep = list(reasons.items())[self._limit // 2 :]
            reasons = self._reasons = dict(keep)
        reasons[sid] = reason

    def reason(self, sid: int) -> int:
        """How ``sid`` closed; -1 if it was never opened (or is long forgotten)."""
        return self._reasons.get(sid, -1)
