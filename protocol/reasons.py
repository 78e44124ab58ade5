"""Standard disconnect reasons (PAGI spec), shared by front and worker."""

from typing import Final

CLIENT_CLOSED: Final = "client_closed"
CLIENT_TIMEOUT: Final = "client_timeout"
IDLE_TIMEOUT: Final = "idle_timeout"
KEEPALIVE_TIMEOUT: Final = "keepalive_timeout"
WRITE_TIMEOUT: Final = "write_timeout"
WRITE_ERROR: Final = "write_error"
READ_ERROR: Final = "read_error"
PROTOCOL_ERROR: Final = "protocol_error"
SERVER_SHUTDOWN: Final = "server_shutdown"
SERVER_ERROR: Final = "server_error"
BODY_TOO_LARGE: Final = "body_too_large"
QUEUE_OVERFLOW: Final = "queue_overflow"
APP_ABORT: Final = "app_abort"  # the app called pagi.connection.abort()

STANDARD_REASONS: Final = frozenset(
    {
        CLIENT_CLOSED,
        CLIENT_TIMEOUT,
        IDLE_TIMEOUT,
        KEEPALIVE_TIMEOUT,
        WRITE_TIMEOUT,
        WRITE_ERROR,
        READ_ERROR,
        PROTOCOL_ERROR,
        SERVER_SHUTDOWN,
        SERVER_ERROR,
        BODY_TOO_LARGE,
        QUEUE_OVERFLOW,
        APP_ABORT,
    }
)

#: How the front fails a WebSocket for the client's protocol violation: per
#: close code, the reason it sends in WS_DISCONNECT (the front's codec) and
#: the disconnect reason the app hears for it (the worker's websocket scope).
WS_FAILURES: Final = {
    1002: ("protocol_error", PROTOCOL_ERROR),
    1007: ("invalid_utf8", PROTOCOL_ERROR),
    1008: ("queue_overflow", QUEUE_OVERFLOW),
    1009: ("message_too_big", PROTOCOL_ERROR),
}
