"""Turning a parsed HTTP/1.1 request head into the wire facts of an OPEN.

Pure helpers, used once per request by :mod:`pagi.frontend.http11`:

* :func:`split_target` — ``raw_path`` and ``query_string`` from the
  request-target (origin-form, absolute-form, ``*``);
* :func:`scope_headers` — the header list for the scope, with several
  ``cookie`` fields joined into one by ``"; "`` (RFC 9113 section 8.2.3, PAGI);
* :func:`body_mode` — how the request body will reach the worker.
"""

from __future__ import annotations

from pagi.protocol import BodyMode

from .parser import RequestHead

_NONE = BodyMode.NONE
_STREAM = BodyMode.STREAM
_EXPECT = BodyMode.EXPECT_CONTINUE


def split_target(target: bytes) -> tuple[bytes, bytes]:
    """``(raw_path, query_string)`` of a request-target.

    Origin-form ``/p?q`` gives ``(b"/p", b"q")``. Absolute-form
    ``http://host:80/p?q`` gives the same (the authority is dropped: the
    ``host`` header carries it for the app); ``http://host`` and
    ``http://host?q`` have path ``/``. Anything else (``*``, authority-form)
    is kept whole as the path, with an empty query. The ``?`` is in neither
    part; a ``#`` fragment (never sent by conforming clients) is left as is.
    """
    if target[:1] != b"/":
        scheme_end = target.find(b"://")
        if scheme_end <= 0:
            return target, b""
        rest_start = scheme_end + 3
        slash = target.find(b"/", rest_start)
        question = target.find(b"?", rest_start)
        if slash < 0 or 0 <= question < slash:
            if question < 0:
                return b"/", b""
            return b"/", target[question + 1 :]
        target = target[slash:]
    path, _sep, query = target.partition(b"?")
    return path, query


def scope_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with every ``cookie`` field merged into the first one.

    Returns the same list object when there is at most one ``cookie`` field
    (the common case costs one scan and no allocation).
    """
    first = -1
    count = 0
    for index, (name, _value) in enumerate(headers):
        if name == b"cookie":
            count += 1
            if first < 0:
                first = index
    if count < 2:
        return headers
    joined = b"; ".join(value for name, value in headers if name == b"cookie")
    out: list[tuple[bytes, bytes]] = []
    for index, pair in enumerate(headers):
        if pair[0] != b"cookie":
            out.append(pair)
        elif index == first:
            out.append((b"cookie", joined))
    return out


def has_body(head: RequestHead) -> bool:
    """A body follows the head: chunked, or a content-length above zero."""
    return head.chunked or bool(head.content_length)


def body_mode(head: RequestHead) -> BodyMode:
    """NONE without a body; EXPECT_CONTINUE with one and ``Expect: 100-continue``."""
    if not (head.chunked or head.content_length):
        return _NONE
    return _EXPECT if head.expect_continue else _STREAM
