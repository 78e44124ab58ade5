"""The worker's part in resumption (docs/resume.md): the app's resume keys and events.

The front resumes event streams and moves WebSockets by itself; the worker
merges the front's ``pagi.resume`` extension into the scope (as it does every
extension OPEN carries) and passes on what the app says:

* ``sse.start`` with ``"pagi.resume": False`` refuses resumption of that
  stream: ``SSE_NO_RESUME`` follows the stream's head.
* ``websocket.accept`` with ``"pagi.resume": True`` on a scope whose
  extensions offer ``pagi.resume`` makes the connection movable:
  ``WS_RESUMABLE`` follows ``WS_ACCEPT``. Without the offer the key is ignored.
* ``{"type": "pagi.resume.state", "state": bytes}`` (at most
  :data:`~pagi.protocol.resume.MAX_STATE` bytes) attaches the state token the
  scope the connection moves to receives (``extensions["pagi.resume"]["state"]``).

Every check raises :class:`~.http_events.InvalidEvent` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pagi.protocol.resume import EXTENSION, MAX_STATE, START_KEY, STATE_EVENT

from .http_events import InvalidEvent, type_name


def _flag(etype: str, event: Mapping[str, Any], meaning: str) -> bool | None:
    value = event.get(START_KEY)
    if value is None or type(value) is bool:
        return value
    raise InvalidEvent(
        f"{etype}: {START_KEY!r} must be a bool ({meaning}), got {type_name(value)} {value!r:.60}"
    )


def refuses_resume(etype: str, event: Mapping[str, Any]) -> bool:
    """True if ``event`` (an ``sse.start``) refuses resumption; None or absent
    means the server's default."""
    return _flag(etype, event, "False refuses resumption") is False


def accepts_move(etype: str, event: Mapping[str, Any], scope: Mapping[str, Any]) -> bool:
    """True if ``event`` (a ``websocket.accept``) makes the connection movable
    and the front offered it (the scope's extensions hold ``pagi.resume``)."""
    wanted = _flag(etype, event, "True lets the connection move between workers")
    return bool(wanted) and EXTENSION in (scope.get("extensions") or {})


def check_state(event: Mapping[str, Any]) -> bytes:
    """The ``state`` of a ``pagi.resume.state`` event."""
    state = event.get("state")
    if type(state) is not bytes:
        raise InvalidEvent(
            f"{STATE_EVENT}: 'state' must be bytes, got {type_name(state)} {state!r:.60}"
        )
    if len(state) > MAX_STATE:
        raise InvalidEvent(
            f"{STATE_EVENT}: 'state' is {len(state)} bytes; at most {MAX_STATE} are allowed"
        )
    return state
