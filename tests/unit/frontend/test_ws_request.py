"""WSRequest and opening.open_fields: what OPEN carries for a scope (no sockets)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pagi.frontend.config import FrontConfig
from pagi.frontend.streams.opening import open_fields
from pagi.frontend.streams.ws_request import WSRequest
from pagi.protocol import BodyMode
from stream_doubles import FakeHost, FakePool

OFFER = [b"permessage-deflate; client_max_window_bits"]
FORWARDED = [(b"x-forwarded-for", b"203.0.113.7"), (b"x-forwarded-proto", b"https")]


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 5))


def test_deflate_is_agreed_only_when_offered_and_enabled() -> None:
    target = (b"/ws", b"", "1.1")
    assert WSRequest(FrontConfig(), target, [], [], OFFER).deflate is not None
    assert WSRequest(FrontConfig(), target, [], [], []).deflate is None
    off = FrontConfig(ws_per_message_deflate=False)
    assert WSRequest(off, target, [], [], OFFER).deflate is None
    assert WSRequest(FrontConfig(), target, [], [], [b"x-unknown"]).deflate is None


def test_a_moved_scope_carries_its_resume_value_groups_and_subprotocols() -> None:
    async def main() -> None:
        host = FakeHost(FakePool(None))
        host.scheme = "https"
        host.scope_extras = {"extensions": {"tls": {"version": 772}}}
        request = WSRequest(host.ctx.config, (b"/ws", b"a=1", "1.1"), [], ["chat"], [])
        first = request.open_fields(host, {"attempt": 0, "state": None}, [])
        kind, version, method, scheme, raw_path, query, _h, client, server, extras, mode = first
        assert (kind, version, method, scheme) == ("websocket", "1.1", "GET", "wss")
        assert (raw_path, query, mode) == (b"/ws", b"a=1", BodyMode.NONE)
        assert (client, server) == (host.client, host.server)
        assert extras["subprotocols"] == ["chat"] and "channels" not in extras
        assert extras["extensions"]["tls"] == {"version": 772}  # the connection's, kept
        moved = request.open_fields(host, {"attempt": 1, "state": b"s"}, ["room"])[9]
        assert moved["extensions"]["pagi.resume"] == {"attempt": 1, "state": b"s"}
        assert moved["channels"] == {"groups": ["room"]}
        assert "pagi.resume" not in host.scope_extras["extensions"]  # never modified

    run(main)


def test_open_fields_believes_a_trusted_proxy_only_with_proxy_headers() -> None:
    async def main() -> None:
        plain = FakeHost(FakePool(None))
        fields = open_fields(
            plain, "http", "1.1", "GET", "http", b"/", b"", FORWARDED, {}, BodyMode.NONE
        )
        assert (fields[3], fields[7]) == ("http", plain.client)
        proxied = FakeHost(FakePool(None), proxy_headers=True)
        fields = open_fields(
            proxied, "http", "1.1", "GET", "http", b"/", b"", FORWARDED, {}, BodyMode.NONE
        )
        assert fields[3] == "https" and fields[7] is not None and fields[7][0] == "203.0.113.7"

    run(main)
