"""Completing the http scope from OPEN: path decoding and the keys added."""

from __future__ import annotations

from pagi.protocol import BodyMode
from pagi.protocol import messages as m
from pagi.worker.backlog import TransportState
from pagi.worker.connection_state import ConnectionState
from pagi.worker.scope import build_http_scope, decode_path


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
    scope = build_http_scope(msg, "/root", state, conn, transport)
    assert scope["type"] == "http" and scope["http_version"] == "2"
    assert scope["method"] == "PATCH" and scope["scheme"] == "https"
    assert scope["path"] == "/x y" and scope["raw_path"] == b"/x%20y"
    assert scope["query_string"] == b"q=1" and scope["root_path"] == "/root"
    assert scope["headers"] == [[b"host", b"h"]]
    assert scope["client"] == ["::1", 1] and scope["server"] == ["::1", 443]
    assert scope["pagi"] == {"version": "0.3", "spec_version": "0.3"}
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["state"] == state and scope["state"] is not state
    assert scope["state"]["db"] is state["db"]  # shallow copy
    assert set(scope["extensions"]) == {"http.response.trailers", "http.response.pathsend", "tls"}
    assert scope["pagi.connection"] is conn and scope["pagi.transport"] is transport
