"""The access log: one INFO line per request on the ``pagi.access`` logger.

Format::

    127.0.0.1:50312 - "GET /hello?x=1 HTTP/1.1" 200 5 0.8ms worker=app:app #1

* client ``host:port`` (IPv6 hosts in brackets; ``-`` for a UNIX-socket client);
* the request line as the client sent it (target undecoded; bytes outside
  printable ASCII are shown as ``\\xNN``);
* the status sent (``499``: the client went away before any response was
  written; nginx's convention);
* response body bytes sent (not counting the head or chunk framing);
* milliseconds from the parsed request head to the last byte handed to the
  socket (or to the abort);
* the worker that served the scope, or ``-`` when the front answered alone
  (400, 408, 413, 503, ...).

``--access-log-format`` replaces this shape (:mod:`.access_format` has the
fields); :func:`set_access_format` installs it once at startup. The line is
formatted only when the logger is enabled for INFO.

With the default logging set-up the lines skip :mod:`logging` and leave in
batches through :class:`.access_writer.AccessWriter` (same text);
:func:`start_access_writer` decides that once the loop runs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .access_format import AccessFormat
from .access_writer import AccessWriter, eligible_handler

access_logger = logging.getLogger("pagi.access")

_INFO = logging.INFO

# None: the built-in shape above (formatted by an f-string, the fast path).
_custom: AccessFormat | None = None

# Set while the front's loop runs with the default logging set-up.
_writer: AccessWriter | None = None


def start_access_writer(loop: asyncio.AbstractEventLoop) -> bool:
    """Batch the access lines on ``loop`` if logging is set up as the front's default.

    Returns whether the batched writer is in use (else lines go through
    :mod:`logging`). Call after the logging set-up is final.
    """
    global _writer
    handler = eligible_handler(access_logger)
    _writer = None if handler is None else AccessWriter(handler, loop)
    return _writer is not None


def stop_access_writer() -> None:
    """Write the lines still queued and go back to the :mod:`logging` path."""
    global _writer
    if _writer is not None:
        _writer.flush()
        _writer = None


def set_access_format(fmt: AccessFormat | None) -> None:
    """Use ``fmt`` for every later access line (None: the default shape)."""
    global _custom
    _custom = fmt


def short_target(target: bytes, limit: int = 200) -> str:
    """A request-target for error log lines: bounded, never raises."""
    text = target[:limit].decode("ascii", "backslashreplace")
    return text + "..." if len(target) > limit else text


def client_label(client: list[Any] | None) -> str:
    """``host:port`` for log lines; ``[v6]:port`` for IPv6; ``-`` without an address."""
    if not client:
        return "-"
    host, port = client[0], client[1]
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if port is not None else str(host)


def format_access_line(
    client: str,
    method: str,
    target: bytes,
    http_version: str,
    status: int,
    body_bytes: int,
    duration: float,
    worker: str,
) -> str:
    """The access line (``duration`` in seconds)."""
    path = target.decode("ascii", "backslashreplace")
    if not path.isprintable():
        path = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in path)
    if _custom is not None:
        return _custom.render(
            {
                "client": client,
                "method": method,
                "target": path,
                "http_version": http_version,
                "request_line": f"{method} {path} HTTP/{http_version}",
                "status": status,
                "bytes": body_bytes,
                "duration_ms": duration * 1000.0,
                "duration_s": duration,
                "worker": worker,
            }
        )
    return (
        f'{client} - "{method} {path} HTTP/{http_version}" {status} {body_bytes} '
        f"{duration * 1000.0:.1f}ms worker={worker}"
    )


def access_enabled() -> bool:
    """Whether a line would be emitted (cheap: the logging module caches it)."""
    return access_logger.isEnabledFor(_INFO)


def log_access(
    client: str,
    method: str,
    target: bytes,
    http_version: str,
    status: int,
    body_bytes: int,
    duration: float,
    worker: str,
    close_code: int | None = None,
) -> None:
    """Emit one access line if the access logger is enabled for INFO.

    ``close_code``: the line that ends a WebSocket, with its close code appended.
    """
    writer = _writer
    if writer is not None:
        line = format_access_line(
            client, method, target, http_version, status, body_bytes, duration, worker
        )
        writer.write(line if close_code is None else f"{line} close={close_code}")
    elif access_logger.isEnabledFor(_INFO):
        line = format_access_line(
            client, method, target, http_version, status, body_bytes, duration, worker
        )
        if close_code is None:
            access_logger.info(line)
        else:
            access_logger.info("%s close=%d", line, close_code)
