"""Which response event an app may send when, per scope type, and what it is told otherwise.

Each scope keeps its progress as one small integer state that only moves
forward; the constants below name those states. A well-formed event sent in a
state that does not allow it fails the app's ``send`` with
:class:`~.http_events.UnexpectedEvent`; the functions here word that error
(pure: they read the state they are given and change nothing).

* http (:class:`~.http_scope.HTTPScope`): INIT -> BODY -> [FINAL] ->
  [TRAILERS] -> DONE (FINAL while a final body waits for window, TRAILERS
  when they were announced).
* sse (:class:`~.sse_scope.SSEScope`): what the first response event made of
  the scope: NOTHING yet, a STREAM (``sse.start``) or DECLINED
  (``http.response.start``); the http states above track the bytes.
* websocket (:class:`~.websocket_scope.WebSocketScope`): CONNECTING -> OPEN ->
  CLOSED, CONNECTING -> CLOSED, or CONNECTING -> DENYING -> CLOSED.
"""

from __future__ import annotations

from . import http_events
from .http_events import UnexpectedEvent
from .sse_events import DECLINE_BODY, DECLINE_START
from .sse_events import START as SSE_START
from .websocket_events import ACCEPT

# http response states
INIT = 0  # nothing sent yet
BODY = 1  # started; body events may follow
FINAL = 2  # the final body is being sent (waiting for window)
TRAILERS = 3  # final body sent; trailers were announced and must follow
DONE = 4  # response complete

# what the app's first response event made of an sse scope
NOTHING = 0
STREAM = 1  # sse.start
DECLINED = 2  # http.response.start (a decline)

# websocket handshake states
CONNECTING = 0  # nothing decisive sent yet
DENYING = 1  # a denial response started; its body follows
OPEN = 2  # accepted
CLOSED = 3  # the app closed (after accept, or as a denial) or the denial is complete


def http_order_error(etype: str, state: int, trailers: bool) -> UnexpectedEvent:
    """``etype`` is not allowed in http ``state`` (``trailers``: announced)."""
    if state == INIT:
        return UnexpectedEvent(f"{etype}: http.response.start has not been sent")
    if etype == http_events.START:
        return UnexpectedEvent(f"{etype}: the response has already started")
    if etype == http_events.TRAILERS:
        if not trailers:
            return UnexpectedEvent(
                f"{etype}: trailers were not announced (http.response.start had no trailers=True)"
            )
        if state == BODY:
            return UnexpectedEvent(
                f"{etype}: the body is not finished; send http.response.body with more=False first"
            )
    elif state == TRAILERS:
        return UnexpectedEvent(
            f"{etype}: the body is already complete; only http.response.trailers may follow"
        )
    if state == FINAL:
        return UnexpectedEvent(f"{etype}: the final body is still being sent")
    return UnexpectedEvent(f"{etype}: the response is already complete")


def sse_order_error(etype: str, kind: int, state: int, broken: bool) -> UnexpectedEvent:
    """``etype`` is not allowed on an sse scope that is ``kind`` (NOTHING,
    STREAM, DECLINED) in http ``state``; ``broken``: a write was cut half-way."""
    if etype in (SSE_START, DECLINE_START):
        if kind == STREAM:
            return UnexpectedEvent(
                f"{etype}: the stream has already started (sse.start was sent)"
                + ("; it can no longer be declined" if etype == DECLINE_START else "")
            )
        return UnexpectedEvent(f"{etype}: the request was already declined with {DECLINE_START}")
    if etype == DECLINE_BODY:
        if kind == NOTHING:
            return UnexpectedEvent(f"{etype}: {DECLINE_START} has not been sent")
        if kind == STREAM:
            return UnexpectedEvent(
                f"{etype}: the stream was started with sse.start; it cannot be declined"
            )
        if state == FINAL:
            return UnexpectedEvent(f"{etype}: the final body is still being sent")
        return UnexpectedEvent(f"{etype}: the response is already complete")
    # stream events: sse.send, sse.comment, sse.keepalive, sse.close
    if kind == NOTHING:
        return UnexpectedEvent(f"{etype}: sse.start has not been sent")
    if kind == DECLINED:
        return UnexpectedEvent(
            f"{etype}: the request was declined with {DECLINE_START}; stream events are not allowed"
        )
    if broken:
        return UnexpectedEvent(
            f"{etype}: an earlier sse.send was cancelled half-way through; "
            "the stream cannot continue"
        )
    return UnexpectedEvent(f"{etype}: the stream is closed (sse.close was sent)")


def websocket_order_error(
    etype: str, state: int, refuse_start: str, refuse_body: str
) -> UnexpectedEvent:
    """``etype`` is not allowed in websocket ``state``; ``refuse_start`` and
    ``refuse_body`` are the app's denial event types (PAGI or ASGI names)."""
    if state == DENYING:
        if etype == refuse_start:
            return UnexpectedEvent(f"{etype}: the denial response has already started")
        return UnexpectedEvent(
            f"{etype}: a denial response has started; only {refuse_body} may follow"
        )
    if state == OPEN:
        if etype == ACCEPT:
            return UnexpectedEvent(f"{etype}: the connection has already been accepted")
        return UnexpectedEvent(
            f"{etype}: the connection has already been accepted; a denial response is "
            f"only possible before {ACCEPT}"
        )
    # CONNECTING
    if etype == refuse_body:
        return UnexpectedEvent(f"{etype}: {refuse_start} has not been sent")
    return UnexpectedEvent(
        f"{etype}: the connection has not been accepted yet (send {ACCEPT} first)"
    )
