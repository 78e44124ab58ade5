"""Phases of a WebSocket, plain ints that only move forward.

:class:`~.ws_stream.WSStream` ``phase``::

    WAITING    validated; waiting for a worker
    HANDSHAKE  scope OPENed; the app decides (--ws-handshake-timeout)
    DENYING    the app answers with an HTTP response (websocket.http.response)
    OPEN       accepted: the stream's :class:`~.ws_channel.WSChannel` speaks
               RFC 6455 with the client (closing handshake, failure, pings)
    DONE       answered or ended before the accept

:class:`~.ws_channel.WSChannel` ``state`` (from the accept on): OPEN, FAILING,
CLOSING, DONE.
"""

WAITING, HANDSHAKE, DENYING, OPEN, FAILING, CLOSING, DONE = range(7)
