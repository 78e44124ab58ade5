"""The exceptions an application's ``send()`` raises on a bad event.

They live apart from :mod:`pagi.worker.http_events` (which re-exports them)
because they derive from ``RuntimeError`` and ``OSError``, which mypyc cannot
compile as native classes: this module always stays pure Python (see
``[tool.pagi.compile]`` in ``pyproject.toml``).
"""

from __future__ import annotations


class InvalidEvent(ValueError):
    """The application sent a malformed event."""


class UnexpectedEvent(RuntimeError):
    """The application sent a well-formed event at the wrong time."""


class ClientDisconnected(OSError):
    """``send()`` on a scope whose client side is gone, for ASGI apps: ASGI 2.4
    servers raise an ``OSError`` subclass there (PAGI apps get a no-op)."""


def client_disconnected(etype: str, reason: str | None) -> ClientDisconnected:
    why = f"({reason})" if reason else "(the connection is closed)"
    return ClientDisconnected(f"{etype}: the client has disconnected {why}")
