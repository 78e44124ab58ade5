"""One scope on a worker link, as seen from the front: the response direction.

:class:`LinkScope` checks the worker's response events of one scope against
the order the link protocol allows and against the response window, and
passes them on to the scope's :class:`~.handlers.HTTPScopeHandler`.

Invariants:

* The events follow ``START (BODY* more=True) (BODY more=False | FILE)
  [TRAILERS if announced]``, where a START that carries a body piece counts as
  START followed by that BODY, with SSE_KEEPALIVE allowed only between START
  and the final BODY; anything else raises
  :class:`~.link_io.LinkViolation` (the link then drops the whole worker).
* The response body bytes never exceed ``window``, which starts at the
  WELCOME ``window`` and grows with every grant; exceeding it is a violation.
* The state only moves forward, also when ``handler`` is None (after
  ``close_scope``), so a worker that ignores CLOSE is still held to the rules.
* A descriptor passed to :meth:`LinkScope.on_event` is either handed to the
  handler (which then owns it) or closed before the method returns.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pagi.protocol import Event
from pagi.protocol.fields import (
    BODY,
    FILE_LENGTH,
    FILE_OFFSET,
    KEEPALIVE_INTERVAL,
    MORE,
    SSE_KEEPALIVE_COMMENT,
    START_BODY,
    START_HEADERS,
    START_MORE,
    START_STATUS,
    START_TRAILERS,
    TRAILERS_HEADERS,
)
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as _BODY
from pagi.protocol.kinds import HTTP_RESPONSE_FILE as _FILE
from pagi.protocol.kinds import HTTP_RESPONSE_START as _START
from pagi.protocol.kinds import SSE_KEEPALIVE as _SSE_KEEPALIVE
from pagi.protocol.kinds import SSE_NO_RESUME as _SSE_NO_RESUME

from .io import LinkViolation

if TYPE_CHECKING:
    from .handlers import HTTPScopeHandler

# Response state of a scope, as the worker's events move it forward.
_BEFORE_START = 0
_IN_BODY = 1  # started; body events may follow
_AWAIT_TRAILERS = 2  # body complete; announced trailers must follow
_COMPLETE = 3  # nothing more but END


class LinkScope:
    """The link's record of one open scope (kept until the worker's END)."""

    __slots__ = ("handler", "state", "trailers", "window")

    def __init__(self, handler: HTTPScopeHandler, window: int) -> None:
        self.handler: HTTPScopeHandler | None = handler  # None once close_scope was called
        self.state = _BEFORE_START
        self.trailers = False  # announced by HTTP_RESPONSE_START
        self.window = window  # response body bytes the worker may still send

    def on_event(self, sid: int, code: int, msg: list[Any], fd: int) -> None:
        """Apply one validated response EVENT (``msg``) for scope ``sid``.

        ``fd`` is the descriptor claimed for an HTTP_RESPONSE_FILE, else -1.
        """
        try:
            handler = self.handler
            if code == _BODY:
                if self.state != _IN_BODY:
                    raise LinkViolation(f"scope {sid}: HTTP_RESPONSE_BODY {_when(self.state)}")
                body = msg[BODY]
                more = msg[MORE]
                self._take_body(sid, body, more)
                if handler is not None:
                    handler.on_response_body(body, more)
            elif code == _START:
                if self.state != _BEFORE_START:
                    raise LinkViolation(f"scope {sid}: second HTTP_RESPONSE_START")
                self.state = _IN_BODY
                self.trailers = trailers = msg[START_TRAILERS]
                if len(msg) == 8:  # START carrying the first body piece
                    body = msg[START_BODY]
                    more = msg[START_MORE]
                    # _take_body(), inline: every short response comes this way
                    window = self.window = self.window - len(body)
                    if window < 0:
                        self._take_body(sid, b"", more)  # raises
                    if not more:
                        self.state = _AWAIT_TRAILERS if trailers else _COMPLETE
                    if handler is not None:
                        handler.on_response(
                            msg[START_STATUS], msg[START_HEADERS], trailers, body, more
                        )
                elif handler is not None:
                    handler.on_response_start(msg[START_STATUS], msg[START_HEADERS], trailers)
            elif code == _FILE:
                if self.state != _IN_BODY:
                    raise LinkViolation(f"scope {sid}: HTTP_RESPONSE_FILE {_when(self.state)}")
                self.state = _AWAIT_TRAILERS if self.trailers else _COMPLETE
                if handler is not None:
                    claimed, fd = fd, -1
                    handler.on_response_file(claimed, msg[FILE_OFFSET], msg[FILE_LENGTH])
            elif code in (_SSE_KEEPALIVE, _SSE_NO_RESUME):
                # only while a response streams (an http scope's handler ignores them)
                if self.state != _IN_BODY:
                    raise LinkViolation(f"scope {sid}: {Event(code).name} {_when(self.state)}")
                if handler is None:
                    pass
                elif code == _SSE_KEEPALIVE:
                    handler.on_sse_keepalive(msg[KEEPALIVE_INTERVAL], msg[SSE_KEEPALIVE_COMMENT])
                else:
                    handler.on_sse_no_resume()
            else:  # HTTP_RESPONSE_TRAILERS (the codec admits no other code from a worker)
                if self.state != _AWAIT_TRAILERS:
                    if self.state != _COMPLETE:
                        problem = _when(self.state)
                    elif self.trailers:
                        problem = "sent twice"
                    else:
                        problem = "not announced in HTTP_RESPONSE_START"
                    raise LinkViolation(f"scope {sid}: HTTP_RESPONSE_TRAILERS {problem}")
                self.state = _COMPLETE
                if handler is not None:
                    handler.on_response_trailers(msg[TRAILERS_HEADERS])
        finally:
            if fd >= 0:
                os.close(fd)

    def _take_body(self, sid: int, body: bytes, more: bool) -> None:
        """Count a body piece against the window; a final one completes the body."""
        self.window -= len(body)
        if self.window < 0:
            raise LinkViolation(
                f"scope {sid}: response body exceeds the granted window by {-self.window} bytes"
            )
        if not more:
            self.state = _AWAIT_TRAILERS if self.trailers else _COMPLETE


def _when(state: int) -> str:
    if state == _BEFORE_START:
        return "before HTTP_RESPONSE_START"
    if state == _IN_BODY:
        return "before the response body was complete"
    return "after the response body was complete"
