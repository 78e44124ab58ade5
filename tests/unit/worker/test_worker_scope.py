"""Completing the http scope from OPEN: path decoding and the keys added."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pagi.protocol import BodyMode
from pagi.protocol import messages as m
from pagi.worker.backlog import TransportState
from pagi.worker.connection_state import ConnectionState
from pagi.worker.interface import ASGI_INTERFACE, PAGI_INTERFACE, Interface
from pagi.worker.scope import build_http_scope, build_websocket_scope, decode_path


@dataclass
class Source:
    root_path: str = ""
    state: dict[str, Any] = field(default_factory=dict)
    interface: Interface = PAGI_INTERFACE
    ws_max_size: int | None = None
    ws_max_queue: int | None = None
    channel_sender: object = None  # a front that offers no channels

    def scope_channels(self, sid: int, scope_type: str, extras: dict[Any, Any]) -> object:
        return None  # a front that offers no channels


def test_decode_path_plain_and_percent() -> None:
    assert decode_path(b"/") == "/"
    assert decode_path(b"/a%20b") == "/a b"
    assert decode_path(b"/caf%C3%A9") == "/café"
    assert decode_path("/café".encode()) == "/café"  # raw UTF-8 on the wire
    assert decode_path(b"/a%2Fb") == "/a/b"  # %2F is decoded too; raw_path keeps it
    assert decode_path(b"/100%") == "/100%"  # malformed escapes stay as they are
    assert decode_path(b"/%zz%4") == "/%zz%4"


def test_decode_path_keeps_undecodable_bytes() -> None:
    for raw, decoded in [
        (b"/%FF%FE", b"/\xff\xfe"),
        (b"/\xc3", b"/\xc3"),
        (b"/ok%C3%A9%C3", b"/ok\xc3\xa9\xc3"),
    ]:
        path = decode_path(raw)
        assert path.encode("utf-8", "surrogateescape") == decoded
    assert decode_path(b"/%FF") == "/\udcff"


def test_build_http_scope() -> None:
    msg = m.open_scope(
        5,
        "http",
        "2",
        "PATCH",
        "https",
        b"/x%20y",
        b"q=1",
        [[b"host", b"h"]],
        ["::1", 1],
        ["::1", 443],
        {"extensions": {"tls": {}}},
        BodyMode.STREAM,
    )
    state = {"db": object()}
    conn, transport = ConnectionState(), TransportState()
    scope = build_http_scope(msg, Source("/root", state), conn, transport)
    assert scope["type"] == "http" and scope["http_version"] == "2"
    assert scope["method"] == "PATCH" and scope["scheme"] == "https"
    assert scope["path"] == "/x y" and scope["raw_path"] == b"/x%20y"
    assert scope["query_string"] == b"q=1" and scope["root_path"] == "/root"
    assert scope["headers"] == [[b"host", b"h"]]
    assert scope["client"] == ["::1", 1] and scope["server"] == ["::1", 443]
    assert scope["pagi"] == {"version": "0.5", "spec_version": "0.6"}
    assert "asgi" not in scope  # PAGI: send() after a disconnect does not raise
    assert scope["state"] == state and scope["state"] is not state
    assert scope["state"]["db"] is state["db"]  # shallow copy
    assert set(scope["extensions"]) == {"tls"}  # PAGI has trailers and file bodies natively
    assert scope["pagi.connection"] is conn and scope["pagi.transport"] is transport


def _open(kind: str, path: bytes = b"/items/1") -> list[Any]:
    return m.open_scope(1, kind, "1.1", "GET", "http", path, b"", [], None, None, {}, BodyMode.NONE)


def test_asgi_scope_keys_and_root_path_in_path() -> None:
    """ASGI's rule (and uvicorn's): ``path`` and ``raw_path`` include ``root_path``."""
    source = Source("/api", {}, ASGI_INTERFACE)
    scope = build_http_scope(_open("http"), source, ConnectionState(), TransportState())
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"} and "pagi" not in scope
    assert scope["path"] == "/api/items/1" and scope["raw_path"] == b"/api/items/1"
    assert scope["root_path"] == "/api"
    assert set(scope["extensions"]) == {"http.response.trailers", "http.response.pathsend"}
    ws = build_websocket_scope(_open("websocket"), source, ConnectionState(), TransportState())
    assert ws["path"] == "/api/items/1" and "websocket.http.response" in ws["extensions"]


def test_pagi_scope_keeps_path_apart_from_root_path() -> None:
    """PAGI: ``root_path`` is the mount point (PSGI's SCRIPT_NAME); ``path`` is not prefixed."""
    source = Source("/api", {}, PAGI_INTERFACE, ws_max_size=1000, ws_max_queue=2000)
    scope = build_http_scope(_open("http"), source, ConnectionState(), TransportState())
    assert scope["path"] == "/items/1" and scope["raw_path"] == b"/items/1"
    conn = ConnectionState()
    ws = build_websocket_scope(_open("websocket"), source, conn, TransportState())
    assert ws["path"] == "/items/1" and ws["extensions"] == {}
    assert ws["pagi"] == {"version": "0.5", "spec_version": "0.6"}
    assert ws["pagi.connection"] is conn and "method" not in ws
    assert ws["max_frame_size"] == 1000 and ws["max_receive_queue"] == 2000
