"""Response heads and server-generated responses for HTTP/1.1 clients.

Everything here is pure (no I/O) so the framing rules can be tested alone:

* :func:`status_line` — ``HTTP/1.1 <code> <reason>\\r\\n``, cached per status.
  The front always answers with ``HTTP/1.1`` (also to HTTP/1.0 clients, as
  RFC 9110 section 6.2 recommends); what changes per version is the framing.
* :func:`build_head` — the whole head of an application response, with the
  framing decided (:data:`NO_BODY`, :data:`LENGTH`, :data:`CHUNKED`,
  :data:`UNTIL_CLOSE`) and the ``connection`` header the server manages.
* :func:`server_response` — a complete small ``text/plain`` response the front
  originates itself (400, 408, 413, 500, 502, 503, ...).
* :func:`chunk` / :data:`LAST_CHUNK` / :func:`last_chunk_with_trailers` —
  chunked transfer-coding.

Every head carries the ``date`` line of :mod:`.date_header`; a header from
the worker that could split a head is refused as :mod:`.response_checks`
says (:class:`~.response_checks.UnsafeResponse`, the client gets 502), a
head that cannot be sent at all raises
:class:`~.response_checks.InvalidResponse` (500).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from http import HTTPStatus

# (date_header is named here too for the HTTP/2 heads, which import it with reason_phrase)
from .date_header import date_header as date_header
from .response_checks import InvalidResponse, check_name, checked_join, good_names

#: Framing of a response body (what :func:`build_head` decided).
NO_BODY = 0  # HEAD, 1xx, 204, 304: no body bytes follow the head
LENGTH = 1  # content-length: exactly that many bytes
CHUNKED = 2  # transfer-encoding: chunked
UNTIL_CLOSE = 3  # HTTP/1.0 without a length: the body ends when we close

CRLF = b"\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
LAST_CHUNK = b"0\r\n\r\n"
SERVER_LINE = b"server: pagi\r\n"
CONNECTION_CLOSE = b"connection: close\r\n"
CONNECTION_KEEP_ALIVE = b"connection: keep-alive\r\n"
TRANSFER_CHUNKED = b"transfer-encoding: chunked\r\n"

_REASONS: dict[int, bytes] = {s.value: s.phrase.encode("ascii") for s in HTTPStatus}
# Not in every Python's HTTPStatus, but a client may well see them from us or apps.
_REASONS.setdefault(103, b"Early Hints")
_REASONS.setdefault(421, b"Misdirected Request")
_REASONS.setdefault(425, b"Too Early")

_STATUS_LINES: dict[int, bytes] = {}


def reason_phrase(status: int) -> bytes:
    """The standard reason phrase, or ``b""`` for a code without one."""
    return _REASONS.get(status, b"")


def status_line(status: int) -> bytes:
    """``HTTP/1.1 <status> <reason>\\r\\n`` (the space stays when the reason is empty)."""
    line = _STATUS_LINES.get(status)
    if line is None:
        line = b"HTTP/1.1 %d %s\r\n" % (status, reason_phrase(status))
        if 100 <= status <= 999:  # the worker admits nothing else; keep the cache bounded
            _STATUS_LINES[status] = line
    return line


# Header names the server looks at (and for some, replaces) in the app's head.
_CONTENT_LENGTH = 1
_TRANSFER_ENCODING = 2
_CONNECTION = 3
_DATE = 4
_SERVER = 5
_HOP_BY_HOP = 6  # dropped: meaningful for one connection only (RFC 9110 §7.6.1)
_TE = 7
_UPGRADE = 8
_SPECIAL: dict[bytes, int] = {
    b"content-length": _CONTENT_LENGTH,
    b"transfer-encoding": _TRANSFER_ENCODING,
    b"connection": _CONNECTION,
    b"date": _DATE,
    b"server": _SERVER,
    b"keep-alive": _HOP_BY_HOP,
    b"proxy-connection": _HOP_BY_HOP,
    b"te": _TE,
    b"upgrade": _UPGRADE,
}


def _parse_content_length(value: bytes) -> int:
    value = value.strip()
    if not value.isdigit() or len(value) > 18:
        raise InvalidResponse(f"invalid content-length {value[:40]!r} in the app's response")
    return int(value)


def _wants_close(value: bytes) -> bool:
    return any(token.strip() == b"close" for token in value.lower().split(b","))


def build_head(
    status: int,
    headers: Sequence[Sequence[bytes]],
    *,
    http11: bool,
    keep_alive: bool,
    is_head: bool,
    known_length: int | None,
    trailers: bool,
    server_header: bool,
) -> tuple[bytes, int, int | None, bool]:
    """Serialize an application's response head and decide its framing.

    Arguments: ``keep_alive`` is whether the server would keep the connection
    (the client's wish, no shutdown, request fully read ...); ``known_length``
    is the body length when the server already knows it (the whole body is in
    hand, or a file's size); ``trailers`` is the app's ``trailers`` flag.

    Returns ``(head, framing, length, keep_alive)`` where ``length`` is the
    content-length promised with :data:`LENGTH` framing (else ``None``) and
    ``keep_alive`` is the final decision, announced in the head.

    Rules (in order): the server owns ``transfer-encoding`` and ``connection``
    (the app's are dropped; an app's ``connection: close`` is honoured); the
    other hop-by-hop fields an app may not set are dropped (``keep-alive``,
    ``proxy-connection``, and ``te`` unless it is exactly ``trailers``); an
    app's ``upgrade`` (a 426, say) stays, and the server's ``connection``
    then names ``upgrade`` too, as RFC 9110 §7.8 asks of an Upgrade sender;
    ``date`` and ``server: pagi`` are added unless the app set them;
    1xx/204 carry no body and no length, 304 keeps the app's length but has no
    body, HEAD keeps the app's length (or the known one) and has no body;
    trailers on HTTP/1.1 force chunked (a content-length is dropped); an app
    content-length is used as given; else a known length becomes
    content-length; else HTTP/1.1 is chunked and HTTP/1.0 is delimited by
    closing the connection. Raises :class:`InvalidResponse` for a malformed
    or conflicting content-length.
    """
    parts = [status_line(status)]
    append = parts.append
    app_length: int | None = None
    has_date = False
    has_server = False
    has_upgrade = False
    special = _SPECIAL
    known = good_names
    for name, value in headers:
        kind = special.get(name)
        if kind is None:
            if name not in known:
                check_name(name)
            append(name)
            append(b": ")
            append(value)
            append(CRLF)
            continue
        if kind == _CONTENT_LENGTH:
            length = _parse_content_length(value)
            if app_length is not None and app_length != length:
                raise InvalidResponse("conflicting content-length headers in the app's response")
            app_length = length
            continue
        if kind == _TRANSFER_ENCODING:
            continue
        if kind == _CONNECTION:
            if _wants_close(value):
                keep_alive = False
            continue
        if kind == _HOP_BY_HOP:
            continue
        if kind == _TE:
            if value.strip().lower() != b"trailers":
                continue
        elif kind == _UPGRADE:
            has_upgrade = True
        elif kind == _DATE:
            has_date = True
        else:
            has_server = True
        append(name)
        append(b": ")
        append(value)
        append(CRLF)
    app_fields = (len(parts) - 1) >> 2  # four parts per app header after the status line

    length_out: int | None = None
    if status < 200 or status == 204:
        framing = NO_BODY
        if status < 200:
            # An interim status cannot be the final answer of a scope: close so
            # the client does not wait for one.
            keep_alive = False
    elif status == 304:
        framing = NO_BODY
        length_out = app_length
    elif is_head:
        framing = NO_BODY
        length_out = app_length if app_length is not None else known_length or None
    elif trailers and http11:
        framing = CHUNKED
    elif app_length is not None:
        framing = LENGTH
        length_out = app_length
    elif known_length is not None:
        framing = LENGTH
        length_out = known_length
    elif http11:
        framing = CHUNKED
    else:
        framing = UNTIL_CLOSE
        keep_alive = False

    if length_out is not None:
        append(b"content-length: %d\r\n" % length_out)
    elif framing == CHUNKED:
        append(TRANSFER_CHUNKED)
    if has_upgrade:
        if not keep_alive:
            append(b"connection: upgrade, close\r\n")
        else:
            append(b"connection: upgrade\r\n" if http11 else b"connection: upgrade, keep-alive\r\n")
    elif not keep_alive:
        append(CONNECTION_CLOSE)
    elif not http11:
        append(CONNECTION_KEEP_ALIVE)
    if not has_date:
        append(date_header.line())
    if server_header and not has_server:
        append(SERVER_LINE)
    append(CRLF)
    head = b"".join(parts)
    lines = len(parts) - 3 * app_fields
    # (NUL tested as the int 0: see _HASH in request_checks.py)
    if head.count(b"\n") != lines or head.count(b"\r") != lines or 0 in head:
        head = checked_join(parts, app_fields, headers)  # raises, naming the header
    return head, framing, (length_out if framing == LENGTH else None), keep_alive


def server_response(
    status: int,
    message: str = "",
    *,
    keep_alive: bool = False,
    http11: bool = True,
    is_head: bool = False,
    extra_headers: Iterable[tuple[bytes, bytes]] = (),
    server_header: bool = True,
) -> bytes:
    """A complete response the front originates (the app is not involved).

    The body is ``<status> <reason>[: message]\\n`` in ``text/plain``; with
    ``is_head`` the head announces that length but no body follows. The
    ``connection`` header follows ``keep_alive`` like :func:`build_head`.
    """
    phrase = reason_phrase(status).decode("ascii") or "Error"
    text = f"{status} {phrase}: {message}\n" if message else f"{status} {phrase}\n"
    body = text.encode("utf-8", "replace")
    parts = [
        status_line(status),
        b"content-type: text/plain; charset=utf-8\r\n",
        b"content-length: %d\r\n" % len(body),
    ]
    for name, value in extra_headers:
        parts.append(name + b": " + value + CRLF)
    if not keep_alive:
        parts.append(CONNECTION_CLOSE)
    elif not http11:
        parts.append(CONNECTION_KEEP_ALIVE)
    parts.append(date_header.line())
    if server_header:
        parts.append(SERVER_LINE)
    parts.append(CRLF)
    if not is_head:
        parts.append(body)
    return b"".join(parts)


def chunk(data: bytes) -> bytes:
    """One chunk of the chunked transfer-coding; ``data`` must not be empty."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def last_chunk_with_trailers(headers: Sequence[Sequence[bytes]]) -> bytes:
    """The terminating zero-size chunk carrying a trailer section.

    Raises :class:`UnsafeResponse` for a field that could split it."""
    parts = [b"0\r\n"]
    for name, value in headers:
        check_name(name)
        parts.append(name)
        parts.append(b": ")
        parts.append(value)
        parts.append(CRLF)
    parts.append(CRLF)
    return checked_join(parts, (len(parts) - 2) // 4, headers)
