"""What a worker process has learned about whether its app speaks the ``sse`` scope.

With ``--sse-scope auto`` an ``sse`` scope is first offered as such; an app
that declines it (returns or raises before any ``sse.*`` event, without
touching the request body) is served ``http`` scopes for event streams from
then on, and one that sends an ``sse.*`` event is known to speak it. The
verdict is per app object and per process, learned once and never reset.
"""

from __future__ import annotations

# What a worker process knows about whether its app speaks the sse scope.
UNKNOWN = 0
SPEAKS_SSE = 1
HTTP_ONLY = 2

#: id(app) -> (app, verdict). The app object is kept so that its id is never reused.
_verdicts: dict[int, tuple[object, int]] = {}


def app_verdict(app: object) -> int:
    """UNKNOWN, SPEAKS_SSE or HTTP_ONLY, as learned so far in this process."""
    entry = _verdicts.get(id(app))
    return entry[1] if entry is not None and entry[0] is app else UNKNOWN


def set_app_verdict(app: object, verdict: int) -> None:
    _verdicts[id(app)] = (app, verdict)
