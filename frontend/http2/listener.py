"""What the HTTP/2 engine tells its owner: direct calls, no event objects.

The engine (:class:`~.engine.H2Engine`) calls an :class:`H2Listener` as it
reads each frame (one call per request, DATA frame, reset...), which costs
less than building an event object per frame and dispatching on its type.
Every call comes *after* the engine has updated its own state, so a listener
may send, reset or consume from inside the call.

:class:`H2Guard` is asked before a frame that a flood cap watches is acted
on; a reason back ends the connection with GOAWAY ``ENHANCE_YOUR_CALM``.
"""

from __future__ import annotations

from typing import Protocol

Fields = list[tuple[bytes, bytes]]

#: The frames the flood caps count (:meth:`H2Guard.over_cap`).
CAP_RESET = 0  # RST_STREAM from the client on an open stream (Rapid Reset)
CAP_SETTINGS = 1
CAP_PING = 2
CAP_EMPTY_DATA = 3  # DATA without payload and without END_STREAM


class H2Listener(Protocol):
    """The owner of an engine: the connection shell (or a test's recorder)."""

    def on_request(self, sid: int, fields: Fields, ended: bool) -> None:
        """A new stream's request header block (``ended``: END_STREAM was on it)."""

    def on_data(self, sid: int, data: bytes, ended: bool) -> None:
        """Request DATA (padding is already acknowledged; ``data`` may be empty)."""

    def on_trailers(self, sid: int, fields: Fields) -> None:
        """The request's trailer section (the request has ended)."""

    def on_reset(self, sid: int, code: int) -> None:
        """The stream is reset: by the client, or by the engine for a stream error."""

    def on_window(self, sid: int) -> None:
        """Send window opened: one stream (``sid``), or every stream (0)."""

    def on_goaway(self, code: int, last_stream: int) -> None:
        """The client sent GOAWAY."""


class H2Guard(Protocol):
    """The flood caps."""

    def over_cap(self, kind: int) -> str | None:
        """Count one frame of ``kind``; the reason if that crosses its cap."""
