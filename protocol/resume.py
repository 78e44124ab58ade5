"""The link messages of resumption (version 5; ``docs/resume.md``).

The front moves long-lived scopes between workers on its own: a resumed scope
is an ordinary OPEN whose ``extras.extensions`` carries ``pagi.resume`` (the
worker merges it into the scope's ``extensions`` like any other extension),
so the only new message is the app's refusal:

| code | event | direction | fields |
|---:|---|---|---|
| 41 | SSE_NO_RESUME | worker -> front | (none) |

``SSE_NO_RESUME`` follows the stream's ``HTTP_RESPONSE_START`` when the app's
``sse.start`` said ``"pagi.resume": False``: the front then ends the stream
with its worker instead of resuming it elsewhere. It is valid only between
the stream's start and its final body, like ``SSE_KEEPALIVE``.

:mod:`.messages` merges these tables into its own.
"""

from __future__ import annotations

from collections.abc import Callable

from .kinds import Event

#: The scope extension key of a resumable / resumed scope.
EXTENSION = "pagi.resume"
#: The key of ``sse.start`` by which an app refuses resumption (``False``).
START_KEY = "pagi.resume"

#: Field checks after ``[EVENT, scope_id, code]``, per new event code.
EVENT_FIELDS: dict[int, tuple[Callable[[object], bool], ...]] = {
    Event.SSE_NO_RESUME: (),
}
#: The new event codes a worker may send / a front may send.
EVENTS_FROM_WORKER = frozenset({Event.SSE_NO_RESUME})
EVENTS_FROM_FRONT: frozenset[Event] = frozenset()
