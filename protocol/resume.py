"""The link messages of resumption (version 5; ``docs/resume.md``).

A resumed or moved scope is an ordinary OPEN whose ``extras.extensions``
carries ``pagi.resume`` (the worker merges it into the scope's ``extensions``
like any other extension). The new events:

| code | event | direction | fields |
|---:|---|---|---|
| 27 | WS_RESUMABLE | worker -> front | (none) |
| 28 | WS_RESUME_STATE | worker -> front | ``state: bytes`` (at most :data:`MAX_STATE`) |
| 29 | WS_MOVE | front -> worker | (none) |
| 41 | SSE_NO_RESUME | worker -> front | (none) |

* ``SSE_NO_RESUME`` follows the stream's ``HTTP_RESPONSE_START`` when the
  app's ``sse.start`` said ``"pagi.resume": False``: the front then ends that
  stream with its worker instead of resuming it elsewhere. Valid where
  ``SSE_KEEPALIVE`` is.
* ``WS_RESUMABLE`` follows ``WS_ACCEPT`` when the app's ``websocket.accept``
  said ``"pagi.resume": True``: the front may move the connection.
* ``WS_RESUME_STATE`` carries the app's latest opaque state token
  (``pagi.resume.state``); the front keeps the last one and hands it to the
  scope the connection moves to. Valid after ``WS_RESUMABLE`` until END.
* ``WS_MOVE``: the connection moves to another worker. The worker delivers
  the client messages it holds, then ``websocket.disconnect`` with code
  1012 and reason ``moved``; the app's sends before that still go out, later
  ones are dropped (a state token is still taken); then END as usual. The
  front sends nothing more for the scope and opens the new one after END.

:mod:`.messages` merges these tables into its own.
"""

from __future__ import annotations

from collections.abc import Callable

from .kinds import Event

#: The scope extension key of a resumable / resumed scope.
EXTENSION = "pagi.resume"
#: The key of ``sse.start`` / ``websocket.accept`` that refuses / asks for resumption.
START_KEY = "pagi.resume"
#: The app event that attaches a state token to a movable WebSocket.
STATE_EVENT = "pagi.resume.state"
#: Largest state token, bytes.
MAX_STATE = 4096
#: What a moved scope's app hears (``websocket.disconnect``).
MOVED_CODE = 1012
MOVED_REASON = "moved"


def _is_state(v: object) -> bool:
    return type(v) is bytes and len(v) <= MAX_STATE


#: Field checks after ``[EVENT, scope_id, code]``, per new event code.
EVENT_FIELDS: dict[int, tuple[Callable[[object], bool], ...]] = {
    Event.WS_RESUMABLE: (),
    Event.WS_RESUME_STATE: (_is_state,),
    Event.WS_MOVE: (),
    Event.SSE_NO_RESUME: (),
}
#: The new event codes a worker may send / a front may send.
EVENTS_FROM_WORKER = frozenset({Event.WS_RESUMABLE, Event.WS_RESUME_STATE, Event.SSE_NO_RESUME})
EVENTS_FROM_FRONT = frozenset({Event.WS_MOVE})
