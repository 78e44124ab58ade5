"""The one exception type of the worker link."""


class LinkError(Exception):
    """The peer sent bytes that are not a valid worker-link frame or message.

    Raised by the codec for every kind of malformed input (short or oversize
    frame, undecodable msgpack, unknown kind, wrong field types). The I/O shell
    that catches it disconnects that peer, logs the message, and carries on
    serving everyone else.
    """
