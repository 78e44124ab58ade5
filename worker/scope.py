"""Completing an http scope dict from the wire-level facts of an OPEN.

The front sends only what it saw on the wire; the worker adds the rest here:
``path`` (decoded), ``root_path``, ``state``, the ``pagi``/``asgi`` version
keys, ``extensions``, ``pagi.connection`` and ``pagi.transport``. This runs
once per request, so it builds exactly one dict (plus its small nested ones)
and does no other work.

Path decoding rule: ``path`` is ``raw_path`` percent-decoded (every ``%XX``,
including ``%2F``), then decoded as UTF-8 with ``errors="surrogateescape"``.
Valid UTF-8 gives the expected text; each byte that is not valid UTF-8 becomes
a lone surrogate (U+DC80..U+DCFF), so nothing is lost:
``path.encode("utf-8", "surrogateescape")`` gives back the exact decoded bytes.
``root_path`` is the configured ``--root-path`` and ``path`` is *not* prefixed
with it: ``path`` is what the client sent, ``root_path`` is where the app is
mounted.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from .backlog import TransportState
from .connection_state import ConnectionState

Message = list[Any]


def decode_path(raw_path: bytes) -> str:
    """``raw_path`` percent-decoded, then UTF-8 decoded with surrogateescape."""
    if b"%" in raw_path:
        raw_path = unquote_to_bytes(raw_path)
    return raw_path.decode("utf-8", "surrogateescape")


def build_http_scope(
    msg: Message,
    root_path: str,
    state: dict[str, Any],
    connection: ConnectionState,
    transport: TransportState,
) -> dict[str, Any]:
    """The scope for an OPEN message ``msg`` (already validated by the codec)."""
    extras: dict[Any, Any] = msg[11]
    extensions: dict[str, Any] = {"http.response.trailers": {}, "http.response.pathsend": {}}
    if extras:
        more = extras.get("extensions")
        if type(more) is dict:
            extensions.update(more)
    raw_path: bytes = msg[6]
    return {
        "type": msg[2],
        "pagi": {"version": "0.3", "spec_version": "0.3"},
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": msg[3],
        "method": msg[4],
        "scheme": msg[5],
        "path": decode_path(raw_path),
        "raw_path": raw_path,
        "query_string": msg[7],
        "root_path": root_path,
        "headers": msg[8],
        "client": msg[9],
        "server": msg[10],
        "state": state.copy(),
        "extensions": extensions,
        "pagi.connection": connection,
        "pagi.transport": transport,
    }


def build_websocket_scope(
    msg: Message,
    root_path: str,
    state: dict[str, Any],
    transport: TransportState,
) -> dict[str, Any]:
    """The scope for an OPEN message of type ``websocket``.

    The http keys without ``method``, plus ``subprotocols`` (``extras``'
    list of str, else ``[]``) and the ``websocket.http.response`` extension.
    There is no ``pagi.connection`` (PAGI defines it for http only).
    """
    extras: dict[Any, Any] = msg[11]
    extensions: dict[str, Any] = {"websocket.http.response": {}}
    subprotocols: list[str] = []
    if extras:
        more = extras.get("extensions")
        if type(more) is dict:
            extensions.update(more)
        offered = extras.get("subprotocols")
        if type(offered) is list and all(type(p) is str for p in offered):
            subprotocols = offered
    raw_path: bytes = msg[6]
    return {
        "type": "websocket",
        "pagi": {"version": "0.3", "spec_version": "0.3"},
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": msg[3],
        "scheme": msg[5],
        "path": decode_path(raw_path),
        "raw_path": raw_path,
        "query_string": msg[7],
        "root_path": root_path,
        "headers": msg[8],
        "client": msg[9],
        "server": msg[10],
        "subprotocols": subprotocols,
        "state": state.copy(),
        "extensions": extensions,
        "pagi.transport": transport,
    }
