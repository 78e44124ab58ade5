"""Phases of a WebSocket, plain ints that only move forward.

:class:`~.ws_stream.WSStream` ``phase``: WAITING, HANDSHAKE, DENYING, OPEN, DONE.
:class:`~.ws_channel.WSChannel` ``state`` (from the accept on): OPEN, FAILING,
CLOSING, DONE.
"""

WAITING, HANDSHAKE, DENYING, OPEN, FAILING, CLOSING, DONE = range(7)
