"""The phases of a WebSocket stream (see :mod:`.ws_stream`); plain ints, only moving forward."""

WAITING, HANDSHAKE, DENYING, OPEN, FAILING, CLOSING, DONE = range(7)
