"""How the httptools backend runs llhttp and reads its errors (pure functions).

llhttp runs in its strict mode with three leniencies (:data:`LENIENCIES`;
:mod:`.parser_httptools` says why); :func:`llhttp_error` maps the reasons
llhttp gives to the status and reason the h11 backend gives for the same
bytes; :func:`message_start` finds where a request llhttp refused started
(it does not say), so that the shared rules can judge its method. All of it
runs only to explain an error, never on a request that parses.
"""

from __future__ import annotations

from typing import Final

from httptools import (
    HttpParserError,
    HttpParserInvalidMethodError,
    HttpParserInvalidURLError,
    HttpParserUpgrade,
    HttpRequestParser,
)

from .parser import ParseError
from .request_line import H2_PREFACE_REASON

# llhttp error reasons whose status is not 400, and short phrases for the
# common 400s (anything else is reported with llhttp's own reason).
_STATUS: Final = {
    "Pause on PRI/Upgrade": 505,
    "Invalid `Transfer-Encoding` header value": 501,
    "Empty Transfer-Encoding": 501,
}
# llhttp's verdict on the transfer codings once the head is complete (not
# reached in lenient transfer-encoding mode; kept as a safety net).
_LATE_TE_ERROR: Final = "Request has invalid `Transfer-Encoding`"
# The leniencies every llhttp parser here runs with (see :mod:`.parser_httptools`).
LENIENCIES: Final = {
    "lenient_version": True,
    "lenient_transfer_encoding": True,
    "lenient_spaces_after_chunk_size": True,
}
_REASON: Final = {
    "Pause on PRI/Upgrade": H2_PREFACE_REASON,
    "Invalid `Transfer-Encoding` header value": "unsupported Transfer-Encoding",
    "Empty Transfer-Encoding": "unsupported Transfer-Encoding",
    "Request has invalid `Transfer-Encoding`": "unsupported Transfer-Encoding",
    "Duplicate Content-Length": "duplicate Content-Length",
    "Content-Length can't be present with Transfer-Encoding": (
        "both Content-Length and Transfer-Encoding present"
    ),
    "Transfer-Encoding can't be present with Content-Length": (
        "both Content-Length and Transfer-Encoding present"
    ),
    "Invalid character in Content-Length": "invalid Content-Length",
    "Empty Content-Length": "invalid Content-Length",
    "Content-Length overflow": "Content-Length too large",
    "Invalid header token": "malformed header line",
    "Invalid header field char": "malformed header line",
    "Invalid header value char": "control character in header field",
    "Unexpected whitespace after header value": "obsolete line folding in header field",
    "Unexpected space after start line": "obsolete line folding in header field",
    "Invalid character in chunk size": "malformed chunked body",
    "Chunk size overflow": "malformed chunked body",
    "Expected LF after chunk data": "malformed chunked body",
    "Missing expected CR after chunk data": "malformed chunked body",
    "Missing expected CR after chunk size": "malformed chunked body",
    "Invalid character in chunk extensions": "malformed chunked body",
}

# llhttp applies its header rules to trailer fields; these are its complaints
# about Content-Length / Transfer-Encoding there.
_FRAMING_ERROR_PREFIXES: Final = (
    "Content-Length",
    "Transfer-Encoding",
    "Invalid `Transfer-Encoding`",
    "Duplicate Content-Length",
    "Invalid character in Content-Length",
    "Empty Content-Length",
    "Empty Transfer-Encoding",
)


def llhttp_error(
    exc: HttpParserError, parser: HttpRequestParser, in_head: bool, in_message: bool
) -> ParseError:
    """The ParseError for an error llhttp found itself (not a callback's);
    ``in_head``/``in_message``: where in a request ``parser`` was."""
    text = str(exc)
    if isinstance(exc, HttpParserInvalidMethodError):
        return ParseError(400, "unknown or malformed method")
    if isinstance(exc, HttpParserInvalidURLError):
        return ParseError(400, "malformed request target")
    if text == "Invalid HTTP version":
        return ParseError(505, f"HTTP/{parser.get_http_version()} not supported")
    reason = _REASON.get(text) or text.lower() or "bad request"
    if text == _LATE_TE_ERROR:  # found right after the head (on_headers_complete)
        return ParseError(501, reason)
    if in_message and not in_head:  # in a body or its trailers
        if text.startswith(_FRAMING_ERROR_PREFIXES):
            reason = "forbidden field in trailer section"
        return ParseError(400, reason)
    return ParseError(_STATUS.get(text, 400), reason)


class _Counter:
    """Callbacks of a scanning parser: counts completed messages."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = 0

    def on_message_complete(self) -> None:
        self.done += 1


def _completed(data: bytes) -> int:
    """How many messages a fresh llhttp parser completes in ``data``."""
    counter = _Counter()
    parser = HttpRequestParser(counter)
    parser.set_dangerous_leniencies(**LENIENCIES)
    try:
        parser.feed_data(data)
    except HttpParserUpgrade:
        return -1  # an upgrade request: the scan cannot follow it
    except HttpParserError:
        pass
    return counter.done


def message_start(data: bytes, n: int) -> int:
    """Where the request after the ``n`` first in ``data`` starts (-1: unknown).

    ``data`` starts at a request boundary. A bisection over prefixes, each
    parsed by a fresh llhttp parser: only used to explain an error.
    """
    if n == 0:
        return 0
    if _completed(data) < n:
        return -1
    low, high = 0, len(data)  # completed(data[:high]) >= n > completed(data[:low])
    while high - low > 1:
        mid = (low + high) // 2
        done = _completed(data[:mid])
        if done < 0:
            return -1
        if done >= n:
            high = mid
        else:
            low = mid
    return high
