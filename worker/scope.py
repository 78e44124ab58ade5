"""Completing an http, sse or websocket scope dict from the wire-level facts of an OPEN.

The front sends only what it saw on the wire; the worker adds the rest here:
``path`` (decoded), ``root_path``, ``state``, the version keys, ``extensions``,
``pagi.connection`` and ``pagi.transport`` (and for websocket
``subprotocols``, ``max_frame_size``, ``max_receive_queue``). This runs once
per request, so it builds exactly one dict (plus its small nested ones) and
does no other work. What differs between PAGI and ASGI apps comes from the
worker's :class:`~.interface.Interface`:

* version keys: ``pagi: {"version": "0.5", "spec_version": "0.6"}`` for PAGI
  apps, ``asgi: {"version": "3.0", "spec_version": "2.4"}`` for ASGI apps
  (never both: an ASGI library seeing ``spec_version`` 2.4 relies on send()
  raising after a disconnect, which PAGI forbids);
* ``path``: PAGI keeps it as the client sent it and ``root_path`` beside it
  (``root_path`` is the mount point, like PSGI's ``SCRIPT_NAME``); ASGI (and
  uvicorn) put ``root_path`` in front of ``path`` and ``raw_path``;
* ``extensions``: ASGI apps get ``http.response.trailers``,
  ``http.response.pathsend`` and ``websocket.http.response``; PAGI has
  trailers, file bodies and refusals natively, so only the front's (``tls``).

Path decoding rule: ``path`` is ``raw_path`` percent-decoded (every ``%XX``,
including ``%2F``), then decoded as UTF-8 with ``errors="surrogateescape"``.
Valid UTF-8 gives the expected text; each byte that is not valid UTF-8 becomes
a lone surrogate (U+DC80..U+DCFF), so nothing is lost:
``path.encode("utf-8", "surrogateescape")`` gives back the exact decoded bytes.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

from .interface import ASGI, Interface

Message = list[Any]


class ScopeSource(Protocol):
    """Where the per-worker parts of a scope come from (the session)."""

    root_path: str
    state: dict[str, Any]
    interface: Interface
    ws_max_size: int | None
    ws_max_queue: int | None

    @property
    def channel_sender(self) -> object:
        """The channel API http scopes share; None when channels are off."""

    def scope_channels(self, sid: int, scope_type: str, extras: dict[Any, Any]) -> object:
        """``scope["pagi.channels"]``, or None when the front offers no channels."""


#: What ``extensions["pagi.channels"]`` holds when the channel API is offered
#: (one shared dict: the API itself is ``scope["pagi.channels"]``).
CHANNELS_EXTENSION: dict[str, Any] = {"version": "1.0"}


#: ``b"%"`` as a byte value: ``int in bytes`` is a plain scan, where ``bytes
#: in bytes`` first tries to read its operand as an int in Python 3.11,
#: raising and clearing a TypeError each time (about 0.4 µs a test).
_PERCENT = ord("%")


def decode_path(raw_path: bytes) -> str:
    """``raw_path`` percent-decoded, then UTF-8 decoded with surrogateescape."""
    if _PERCENT in raw_path:
        raw_path = unquote_to_bytes(raw_path)
    return raw_path.decode("utf-8", "surrogateescape")


def _front_extensions(extras: dict[Any, Any], base: dict[str, Any]) -> dict[str, Any]:
    if extras:
        more = extras.get("extensions")
        if type(more) is dict:
            base.update(more)
    return base


def _common(msg: Message, source: ScopeSource, scope_type: str) -> dict[str, Any]:
    """The keys every http/sse/websocket scope has, in one dict (built as one
    display: this runs once per request)."""
    raw_path: bytes = msg[6]
    root_path = source.root_path
    iface = source.interface
    path = (
        raw_path.decode("utf-8", "surrogateescape")
        if _PERCENT not in raw_path
        else decode_path(raw_path)
    )
    if root_path and iface.path_includes_root:
        path = root_path + path
        raw_path = root_path.encode("utf-8", "surrogateescape") + raw_path
    scope: dict[str, Any] = {
        "type": scope_type,
        "http_version": msg[3],
        "method": msg[4],
        "scheme": msg[5],
        "path": path,
        "raw_path": raw_path,
        "query_string": msg[7],
        "root_path": root_path,
        "headers": msg[8],
        "client": msg[9],
        "server": msg[10],
        "state": source.state.copy(),
    }
    for key, value in iface.version_keys:
        scope[key] = value.copy()
    sender = source.channel_sender
    if sender is not None:  # http scopes share it; the others get their own
        scope["pagi.channels"] = (
            sender if scope_type == "http" else source.scope_channels(msg[1], scope_type, msg[11])
        )
    return scope


def _extensions(scope: dict[str, Any], extras: dict[Any, Any], base: dict[str, Any]) -> None:
    exts = scope["extensions"] = _front_extensions(extras, base) if extras else base
    if "pagi.channels" in scope:
        exts["pagi.channels"] = CHANNELS_EXTENSION


def build_http_scope(
    msg: Message, source: ScopeSource, connection: object, transport: object
) -> dict[str, Any]:
    """The scope for an OPEN message ``msg`` of type http or sse (already
    validated by the codec); ``msg[2]`` is the scope type."""
    scope_type: str = msg[2]
    scope = _common(msg, source, scope_type)
    base: dict[str, Any] = (
        {"http.response.trailers": {}, "http.response.pathsend": {}}
        if scope_type == "http" and source.interface.name == ASGI
        else {}
    )
    _extensions(scope, msg[11], base)
    scope["pagi.connection"] = connection
    scope["pagi.transport"] = transport
    return scope


def build_websocket_scope(
    msg: Message, source: ScopeSource, connection: object, transport: object
) -> dict[str, Any]:
    """The scope for an OPEN message of type ``websocket``: the http keys
    without ``method``, plus ``subprotocols`` (``extras``' list of str, else
    ``[]``) and the limits the front enforces on incoming messages
    (``max_frame_size``: largest message in bytes, 1009 above;
    ``max_receive_queue``: bytes held for an app that does not read, 1008
    ``queue_overflow`` above), when the front told them."""
    scope = _common(msg, source, "websocket")
    del scope["method"]
    extras: dict[Any, Any] = msg[11]
    subprotocols: list[str] = []
    if extras:
        offered = extras.get("subprotocols")
        if type(offered) is list and all(type(p) is str for p in offered):
            subprotocols = offered
    scope["subprotocols"] = subprotocols
    base: dict[str, Any] = {"websocket.http.response": {}} if source.interface.name == ASGI else {}
    _extensions(scope, extras, base)
    if source.ws_max_size is not None:
        scope["max_frame_size"] = source.ws_max_size
    if source.ws_max_queue is not None:
        scope["max_receive_queue"] = source.ws_max_queue
    scope["pagi.connection"] = connection
    scope["pagi.transport"] = transport
    return scope
