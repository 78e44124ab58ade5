"""Proxy headers and the PROXY protocol, through a real front and worker."""

from __future__ import annotations

import ipaddress
import socket
import struct

import httpx
from h2_client import H2Client
from harness import Processes, raw_request, recv_until_close
from pagi.frontend.proxy_protocol import V2_SIGNATURE
from tls_certs import TlsFiles

FORWARDED = {
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "example.com",
}


def test_proxy_headers_from_a_trusted_peer(procs: Processes) -> None:
    front = procs.front("--proxy-headers", app="ops_app:app", workers=1)
    reply = httpx.get(front.url + "/client", headers=FORWARDED)
    assert reply.text == "['203.0.113.7', 0] https ['example.com', 443]"
    reply = httpx.get(
        front.url + "/client",
        headers={"forwarded": 'for="[2001:db8::5]:4711";proto=https;host=api.example.com'},
    )
    assert reply.text == "['2001:db8::5', 4711] https ['api.example.com', 443]"
    plain = httpx.get(front.url + "/client").text  # no headers: the connection's own
    assert plain.startswith("['127.0.0.1', ") and " http ['127.0.0.1', " in plain


def test_proxy_headers_from_an_untrusted_peer_are_ignored(procs: Processes) -> None:
    front = procs.front(
        "--proxy-headers", "--forwarded-allow-ips", "10.0.0.0/8", app="ops_app:app", workers=1
    )
    reply = httpx.get(front.url + "/client", headers=FORWARDED)
    assert reply.text.startswith("['127.0.0.1', ") and " http " in reply.text


def test_proxy_headers_are_off_by_default(procs: Processes) -> None:
    front = procs.front(app="ops_app:app", workers=1)
    assert "203.0.113.7" not in httpx.get(front.url + "/client", headers=FORWARDED).text


def test_bad_forwarded_allow_ips_exits_2(procs: Processes) -> None:
    front = procs.front("--forwarded-allow-ips", "10.0.0.0/8,nope", wait=False)
    assert front.wait() == 2
    assert "'nope' is not an IP address or network" in front.logs()


REQUEST = b"GET /client HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"


def _body(response: bytes) -> bytes:
    return response.partition(b"\r\n\r\n")[2]


def test_proxy_protocol_v1_and_v2(procs: Processes) -> None:
    front = procs.front("--proxy-protocol", app="ops_app:app", workers=1)
    v1 = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"
    assert _body(raw_request(front.port, v1 + REQUEST)) == (
        b"['192.0.2.1', 56324] http ['198.51.100.2', 443]"
    )
    addresses = (
        ipaddress.IPv6Address("2001:db8::1").packed
        + ipaddress.IPv6Address("2001:db8::2").packed
        + struct.pack("!HH", 1234, 8443)
    )
    v2 = V2_SIGNATURE + struct.pack("!BBH", 0x21, 0x21, len(addresses)) + addresses
    # The header and the request in separate writes: the header is reassembled.
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as sock:
        sock.sendall(v2[:7])
        sock.sendall(v2[7:] + REQUEST)
        assert _body(recv_until_close(sock)) == b"['2001:db8::1', 1234] http ['2001:db8::2', 8443]"
    local = V2_SIGNATURE + struct.pack("!BBH", 0x20, 0x00, 0)  # the proxy's health check
    assert _body(raw_request(front.port, local + REQUEST)).startswith(b"['127.0.0.1', ")


def test_proxy_protocol_refuses_connections_without_a_valid_header(procs: Processes) -> None:
    front = procs.front("--proxy-protocol", "--header-timeout", "1", app="ops_app:app", workers=1)
    assert raw_request(front.port, REQUEST) == b""  # no header: never parsed as HTTP
    assert raw_request(front.port, b"PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n" + REQUEST) == b""
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as sock:
        sock.sendall(b"PROXY TCP4 ")  # and then nothing
        assert recv_until_close(sock) == b""
    logs = front.logs()
    assert "refused: the connection does not start with a PROXY protocol header" in logs
    assert "refused: PROXY v1: '1.2.3.999' is not an IP address" in logs
    assert "refused: no PROXY protocol header within 1s" in logs
    v1 = b"PROXY TCP4 192.0.2.1 198.51.100.2 5 6\r\n"
    assert _body(raw_request(front.port, v1 + REQUEST)).startswith(b"['192.0.2.1', 5]")


def test_proxy_protocol_addresses_reach_http2_scopes(procs: Processes) -> None:
    """The header's addresses survive the HTTP/1.1-or-HTTP/2 choice (h2c prior
    knowledge)."""
    front = procs.front("--proxy-protocol", app="ops_app:app", workers=1)
    v1 = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"
    conn = H2Client(front.port, prefix=v1)
    try:
        headers, body, _trailers = conn.response(conn.request("/client"))
    finally:
        conn.close()
    assert headers[b":status"] == b"200"
    assert body == b"['192.0.2.1', 56324] http ['198.51.100.2', 443]"


def test_proxy_protocol_is_refused_on_a_tls_listener(procs: Processes, tls_files: TlsFiles) -> None:
    front = procs.front(
        "--proxy-protocol", "--bind", "tls://127.0.0.1:0", "--ssl-certfile", str(tls_files.server),
        app="ops_app:app", workers=1, wait=False,
    )  # fmt: skip
    assert front.wait() == 1
    assert "--proxy-protocol is not supported on tls:// listeners" in front.logs()
