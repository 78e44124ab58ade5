"""Which requests become ``sse`` scopes: the client asked for ``text/event-stream``.

A request is an SSE request when it is not a WebSocket upgrade and its
``Accept`` header (all ``Accept`` fields together, as one comma-separated
list, RFC 9110 section 12.5.1) holds a media range that is exactly
``text/event-stream`` with a weight above zero. The method does not matter
(``POST`` streams, as htmx and datastar make, are SSE requests too).

Parsing rules, decided here:

* type and subtype compare case-insensitively; parameters other than ``q``
  (``charset=utf-8``...) do not matter, and quoted parameter values may hold
  commas and semicolons;
* wildcards do **not** count: ``*/*`` and ``text/*`` say the client takes
  anything, not that it wants a stream (every browser sends ``*/*``);
* ``q=0`` means "not acceptable": a ``text/event-stream`` range with weight 0
  makes the request an ordinary one, even if the range is listed again with a
  weight above zero (an explicit refusal wins);
* a malformed weight (not ``0``-``1`` with at most three decimals) makes its
  range be ignored, and so does anything else that does not parse as
  ``type/subtype``.

The common request has no ``event-stream`` anywhere in its ``Accept``; that is
found with one case-insensitive search per field, without parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..http1.parser import RequestHead

_HINT = re.compile(rb"event-stream", re.IGNORECASE)
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
_SEPARATORS = ";,"


def is_sse_request(head: RequestHead) -> bool:
    """The request asks for an event stream (and is not a WebSocket upgrade)."""
    accept: bytes | None = None
    hinted = False
    for name, value in head.headers:
        if name == b"accept":
            # several fields are one list (a range never spans two fields)
            accept = value if accept is None else accept + b", " + value
            if not hinted and _HINT.search(value) is not None:
                hinted = True
    if not hinted or accept is None:
        return False
    if head.upgrade is not None and b"websocket" in head.upgrade:
        return False
    return accepts_event_stream(accept.decode("latin-1"))


def accepts_event_stream(accept: str) -> bool:
    """``accept`` (an Accept field value) lists ``text/event-stream`` with ``q`` > 0."""
    found = False
    for media, weight in media_ranges(accept):
        if media == "text/event-stream":
            if weight == 0.0:
                return False
            if weight is not None:
                found = True
    return found


def media_ranges(accept: str) -> Iterator[tuple[str, float | None]]:
    """Each media range of an Accept value as ``(type/subtype lower-cased, weight)``.

    The weight is 1.0 without a ``q`` parameter and ``None`` when ``q`` is
    malformed; empty list elements are skipped.
    """
    i = 0
    n = len(accept)
    while i < n:
        j = i
        while j < n and accept[j] not in _SEPARATORS:
            j += 1
        media = accept[i:j].strip(" \t").lower()
        i = j
        weight: float | None = 1.0
        while i < n and accept[i] == ";":
            i += 1
            j = i
            while j < n and accept[j] not in "=;,":
                j += 1
            name = accept[i:j].strip(" \t").lower()
            i = j
            value = ""
            if i < n and accept[i] == "=":
                i += 1
                while i < n and accept[i] in " \t":
                    i += 1
                if i < n and accept[i] == '"':
                    i, value = _quoted(accept, i)
                    while i < n and accept[i] not in _SEPARATORS:
                        i += 1  # junk after the closing quote
                else:
                    j = i
                    while j < n and accept[j] not in _SEPARATORS:
                        j += 1
                    value = accept[i:j].strip(" \t")
                    i = j
            if name == "q":
                weight = float(value) if _QVALUE.fullmatch(value) else None
        if i < n:
            i += 1  # the comma
        if media:
            slash = media.find("/")
            if 0 < slash < len(media) - 1 and " " not in media and "\t" not in media:
                yield media, weight
            # else not a media range: ignored


def _quoted(text: str, start: int) -> tuple[int, str]:
    """The quoted-string starting at ``text[start] == '"'``: (index after it, its value)."""
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == '"':
            return i + 1, "".join(out)
        if char == "\\" and i + 1 < n:
            i += 1
            char = text[i]
        out.append(char)
        i += 1
    return n, "".join(out)  # unterminated: the rest of the field
