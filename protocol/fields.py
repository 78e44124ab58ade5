"""Named positions of the fields in worker-link messages.

A message is a list ``[kind, scope_id, *fields]`` (see :mod:`pagi.protocol.kinds`
and the table in :mod:`pagi.protocol.messages`); an EVENT is
``[EVENT, scope_id, code, *event_fields]``. Code reading a validated message
indexes it with these names instead of bare numbers. The positions are part of
the wire format: changing one is a :data:`~pagi.protocol.kinds.PROTOCOL_VERSION`
bump.
"""

from typing import Final

KIND: Final = 0
SCOPE_ID: Final = 1

# HELLO / WELCOME: version, info. STATS: info. REJECT / CLOSE: reason.
HELLO_VERSION: Final = 2
HELLO_INFO: Final = 3
STATS_INFO: Final = 2
REASON: Final = 2

# PING / PONG: token. CREDIT: bytes granted. CREDITS: [scope_id, nbytes, ...].
# RING: the ring's size in bytes. RING_DONE: pieces copied out of the ring.
TOKEN: Final = 2
CREDIT_BYTES: Final = 2
CREDIT_PAIRS: Final = 2
RING_SIZE: Final = 2
RING_PIECES: Final = 2

# END: outcome, response_started, detail.
END_OUTCOME: Final = 2
END_STARTED: Final = 3
END_DETAIL: Final = 4

# OPEN.
OPEN_TYPE: Final = 2
OPEN_HTTP_VERSION: Final = 3
OPEN_METHOD: Final = 4
OPEN_SCHEME: Final = 5
OPEN_RAW_PATH: Final = 6
OPEN_QUERY_STRING: Final = 7
OPEN_HEADERS: Final = 8
OPEN_CLIENT: Final = 9
OPEN_SERVER: Final = 10
OPEN_EXTRAS: Final = 11
OPEN_BODY_MODE: Final = 12

# EVENT: the event code, then per code:
EVENT_CODE: Final = 2
# HTTP_REQUEST / HTTP_RESPONSE_BODY: body, more.
BODY: Final = 3
MORE: Final = 4
# HTTP_RESPONSE_START: status, headers, trailers [, body, more].
START_STATUS: Final = 3
START_HEADERS: Final = 4
START_TRAILERS: Final = 5
START_BODY: Final = 6
START_MORE: Final = 7
# HTTP_RESPONSE_FILE: offset, length (None: to the end of the file).
FILE_OFFSET: Final = 3
FILE_LENGTH: Final = 4
# HTTP_RESPONSE_RING: offset, length, more (the bytes lie in the link's body ring).
RING_OFFSET: Final = 3
RING_LENGTH: Final = 4
RING_MORE: Final = 5
# HTTP_RESPONSE_TRAILERS: headers.
TRAILERS_HEADERS: Final = 3
# WS_SEND / WS_RECEIVE: data, more (``MORE``).
WS_DATA: Final = 3
# WS_ACCEPT: subprotocol, headers.
ACCEPT_SUBPROTOCOL: Final = 3
ACCEPT_HEADERS: Final = 4
# WS_CLOSE / WS_DISCONNECT: code, reason.
WS_CLOSE_CODE: Final = 3
WS_CLOSE_REASON: Final = 4
# WS_KEEPALIVE: interval, timeout. SSE_KEEPALIVE: interval, comment.
KEEPALIVE_INTERVAL: Final = 3
WS_KEEPALIVE_TIMEOUT: Final = 4
SSE_KEEPALIVE_COMMENT: Final = 4
