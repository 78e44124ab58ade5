"""The worker's part in resumption (docs/resume.md): reading the app's refusal.

The front resumes event streams on another worker by itself; the worker only
merges the front's ``pagi.resume`` extension into the scope (as it does every
extension OPEN carries) and passes on an app's refusal: ``sse.start`` with
``"pagi.resume": False`` makes the worker send ``SSE_NO_RESUME`` right after
the stream's head, and the front then ends that stream with its worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pagi.protocol.resume import START_KEY

from .http_events import InvalidEvent, type_name


def refuses_resume(etype: str, event: Mapping[str, Any]) -> bool:
    """True if ``event`` (an ``sse.start``) refuses resumption; ``None`` or
    absent means the server's default. Raises naming the key if it is not a bool."""
    value = event.get(START_KEY)
    if value is None:
        return False
    if type(value) is not bool:
        raise InvalidEvent(
            f"{etype}: {START_KEY!r} must be a bool (False refuses resumption), got "
            f"{type_name(value)} {value!r:.60}"
        )
    return not value
