"""Message kinds and event codes of the worker link, and its version.

Every message is a msgpack array ``[kind, scope_id, *fields]``. ``scope_id`` is
0 for link-level messages (HELLO, WELCOME, REJECT, DRAIN, PING, PONG, STATS,
CREDITS, RING, RING_DONE)
and a positive integer, chosen by the front and never reused on one link, for
scope messages. The field lists are specified in ``docs/worker-protocol.md``
and enforced by :mod:`pagi.protocol.messages`.
"""

from enum import IntEnum
from typing import Final

#: Bumped on any incompatible change to framing, kinds or field lists.
PROTOCOL_VERSION = 6

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
    DRAIN = 9  # worker -> front: send me no new scopes; front -> worker: stop gracefully
    PING = 10  # either way
    PONG = 11  # either way
    STATS = 12  # worker -> front
    CREDITS = 13  # front -> worker: several CREDITs in one message
    ABORT = 14  # worker -> front: the app aborted a scope (pagi.connection.abort)
    # Body ring (version 6, docs/worker-protocol.md "Large bodies through the ring").
    RING = 15  # worker -> front: size; one fd attached (the link's body ring, a memfd)
    RING_DONE = 16  # front -> worker: count of HTTP_RESPONSE_RING pieces copied out
    # Channels (fan-out; fields in pagi.protocol.channel_messages). 20-29.
    JOIN = 20  # worker -> front: a channel of scope_id (0: none) joined a group
    LEAVE = 21  # worker -> front: ... left a group
    GROUP_SEND = 22  # worker -> front: a message for every member of a group
    CHANNEL_SEND = 23  # worker -> front: a message for one channel
    GROUP_DELIVER = 24  # front -> worker: a group's message, once per worker
    CHANNEL_DELIVER = 25  # front -> worker: a message for one of its channels


class Event(IntEnum):
    """The PAGI event an EVENT message carries; its third element.

    Codes 1-19 are HTTP, 20-39 WebSocket, 40-59 SSE.
    """

    HTTP_REQUEST = 1  # front -> worker: body, more
    HTTP_RESPONSE_START = 2  # worker -> front: status, headers, trailers
    HTTP_RESPONSE_BODY = 3  # worker -> front: body, more
    HTTP_RESPONSE_FILE = 4  # worker -> front: offset, length; one fd attached
    HTTP_RESPONSE_TRAILERS = 5  # worker -> front: headers
    HTTP_RESPONSE_RING = 6  # worker -> front: offset, length, more (body bytes in the ring)

    # WebSocket. A denial response before accept reuses HTTP_RESPONSE_START/BODY.
    WS_SEND = 20  # worker -> front: data (str = text, bytes = binary), more
    WS_ACCEPT = 21  # worker -> front: subprotocol (str | nil), headers
    WS_CLOSE = 22  # worker -> front: code, reason
    WS_KEEPALIVE = 23  # worker -> front: interval (s, 0 = off), timeout (s | nil)
    WS_RECEIVE = 24  # front -> worker: data (str | bytes), more
    WS_DISCONNECT = 25  # front -> worker: code, reason
    WS_RETURN_CREDIT = 26  # front -> worker: (none) return consumed credit now
    # Resume (version 5, docs/resume.md; field specs in protocol/resume.py).
    WS_RESUMABLE = 27  # worker -> front: (none) the app accepted with "pagi.resume": True
    WS_RESUME_STATE = 28  # worker -> front: state (bytes) the app's latest state token
    WS_MOVE = 29  # front -> worker: (none) hand the connection over to another worker

    # SSE. The stream itself travels as HTTP_RESPONSE_START/BODY (the worker
    # formats events into bytes); only the idle-comment timer is the front's.
    SSE_KEEPALIVE = 40  # worker -> front: interval (s, 0 = off), comment
    # Resume (version 5, docs/resume.md; field specs in protocol/resume.py).
    SSE_NO_RESUME = 41  # worker -> front: (none) the app refused resumption in sse.start


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


# Plain-int copies of every code, for hot paths: a decoded message carries plain
# ints, and comparing them with a module-level int avoids an enum attribute
# lookup. Import these instead of defining local ``int(Kind.X)`` aliases.

HELLO: Final = int(Kind.HELLO)
WELCOME: Final = int(Kind.WELCOME)
REJECT: Final = int(Kind.REJECT)
OPEN: Final = int(Kind.OPEN)
EVENT: Final = int(Kind.EVENT)
CREDIT: Final = int(Kind.CREDIT)
CLOSE: Final = int(Kind.CLOSE)
END: Final = int(Kind.END)
DRAIN: Final = int(Kind.DRAIN)
PING: Final = int(Kind.PING)
PONG: Final = int(Kind.PONG)
STATS: Final = int(Kind.STATS)
CREDITS: Final = int(Kind.CREDITS)
ABORT: Final = int(Kind.ABORT)
RING: Final = int(Kind.RING)
RING_DONE: Final = int(Kind.RING_DONE)
JOIN: Final = int(Kind.JOIN)
LEAVE: Final = int(Kind.LEAVE)
GROUP_SEND: Final = int(Kind.GROUP_SEND)
CHANNEL_SEND: Final = int(Kind.CHANNEL_SEND)
GROUP_DELIVER: Final = int(Kind.GROUP_DELIVER)
CHANNEL_DELIVER: Final = int(Kind.CHANNEL_DELIVER)

HTTP_REQUEST: Final = int(Event.HTTP_REQUEST)
HTTP_RESPONSE_START: Final = int(Event.HTTP_RESPONSE_START)
HTTP_RESPONSE_BODY: Final = int(Event.HTTP_RESPONSE_BODY)
HTTP_RESPONSE_FILE: Final = int(Event.HTTP_RESPONSE_FILE)
HTTP_RESPONSE_TRAILERS: Final = int(Event.HTTP_RESPONSE_TRAILERS)
HTTP_RESPONSE_RING: Final = int(Event.HTTP_RESPONSE_RING)
WS_SEND: Final = int(Event.WS_SEND)
WS_ACCEPT: Final = int(Event.WS_ACCEPT)
WS_CLOSE: Final = int(Event.WS_CLOSE)
WS_KEEPALIVE: Final = int(Event.WS_KEEPALIVE)
WS_RECEIVE: Final = int(Event.WS_RECEIVE)
WS_DISCONNECT: Final = int(Event.WS_DISCONNECT)
WS_RETURN_CREDIT: Final = int(Event.WS_RETURN_CREDIT)
WS_RESUMABLE: Final = int(Event.WS_RESUMABLE)
WS_RESUME_STATE: Final = int(Event.WS_RESUME_STATE)
WS_MOVE: Final = int(Event.WS_MOVE)
SSE_KEEPALIVE: Final = int(Event.SSE_KEEPALIVE)
SSE_NO_RESUME: Final = int(Event.SSE_NO_RESUME)

BODY_NONE: Final = int(BodyMode.NONE)
BODY_STREAM: Final = int(BodyMode.STREAM)
BODY_EXPECT_CONTINUE: Final = int(BodyMode.EXPECT_CONTINUE)

RETURNED: Final = int(Outcome.RETURNED)
RAISED: Final = int(Outcome.RAISED)
