"""Message kinds and event codes of the worker link, and its version.

Every message is a msgpack array ``[kind, scope_id, *fields]``. ``scope_id`` is
0 for link-level messages (HELLO, WELCOME, REJECT, DRAIN, PING, PONG, STATS,
CREDITS)
and a positive integer, chosen by the front and never reused on one link, for
scope messages. The field lists are specified in ``docs/worker-protocol.md``
and enforced by :mod:`pagi.protocol.messages`.
"""

from enum import IntEnum

#: Bumped on any incompatible change to framing, kinds or field lists.
PROTOCOL_VERSION = 3

#: Size of the big-endian unsigned length prefix before each msgpack payload.
LENGTH_PREFIX_SIZE = 4


class Kind(IntEnum):
    """What a message is; the first element of every message array."""

    HELLO = 1  # worker -> front
    WELCOME = 2  # front -> worker
    REJECT = 3  # front -> worker
    OPEN = 4  # front -> worker: a new scope
    EVENT = 5  # either way: one PAGI event of a scope
    CREDIT = 6  # either way: grant more bytes of flow-control window
    CLOSE = 7  # front -> worker: the client side of a scope ended
    END = 8  # worker -> front: the application finished a scope
    DRAIN = 9  # worker -> front: send me no new scopes
    PING = 10  # either way
    PONG = 11  # either way
    STATS = 12  # worker -> front
    CREDITS = 13  # front -> worker: several CREDITs in one message
    ABORT = 14  # worker -> front: the app aborted a scope (pagi.connection.abort)


class Event(IntEnum):
    """The PAGI event an EVENT message carries; its third element.

    Codes 1-19 are HTTP, 20-39 WebSocket, 40-59 SSE.
    """

    HTTP_REQUEST = 1  # front -> worker: body, more
    HTTP_RESPONSE_START = 2  # worker -> front: status, headers, trailers
    HTTP_RESPONSE_BODY = 3  # worker -> front: body, more
    HTTP_RESPONSE_FILE = 4  # worker -> front: offset, length; one fd attached
    HTTP_RESPONSE_TRAILERS = 5  # worker -> front: headers

    # WebSocket. A denial response before accept reuses HTTP_RESPONSE_START/BODY.
    WS_SEND = 20  # worker -> front: data (str = text, bytes = binary), more
    WS_ACCEPT = 21  # worker -> front: subprotocol (str | nil), headers
    WS_CLOSE = 22  # worker -> front: code, reason
    WS_KEEPALIVE = 23  # worker -> front: interval (s, 0 = off), timeout (s | nil)
    WS_RECEIVE = 24  # front -> worker: data (str | bytes), more
    WS_DISCONNECT = 25  # front -> worker: code, reason
    WS_RETURN_CREDIT = 26  # front -> worker: (none) return consumed credit now

    # SSE. The stream itself travels as HTTP_RESPONSE_START/BODY (the worker
    # formats events into bytes); only the idle-comment timer is the front's.
    SSE_KEEPALIVE = 40  # worker -> front: interval (s, 0 = off), comment


class BodyMode(IntEnum):
    """How the request body of a newly OPENed scope will arrive."""

    NONE = 0  # no body: the worker synthesizes one empty, final http.request
    STREAM = 1  # body follows in HTTP_REQUEST events; default window applies
    EXPECT_CONTINUE = 2  # as STREAM, but the window starts at 0 and the
    # worker's first CREDIT tells the front to send "100 Continue"


class Outcome(IntEnum):
    """How the application finished a scope; carried by END."""

    RETURNED = 0
    RAISED = 1
