"""Proxy headers: the client, scheme and host a trusted proxy reports.

With ``--proxy-headers``, a request whose connection comes from an address in
``--forwarded-allow-ips`` (CIDRs or addresses, ``*`` for any; default
``127.0.0.1``; connections on UNIX sockets count as trusted, since only local
processes that may open the socket file reach them) has its scope's
``client``, ``scheme`` and ``server`` taken from:

* RFC 7239 ``Forwarded`` (``for=``, ``proto=``, ``host=``) when present;
* else ``X-Forwarded-For``, ``X-Forwarded-Proto``, ``X-Forwarded-Host``.

The client is found by walking the forwarding chain from the nearest hop
back, skipping hops that are themselves trusted proxies: the first untrusted
address is the client (so a client cannot forge its address by sending the
header itself, as long as every proxy appends to it); if every hop is
trusted, the farthest one is. Obfuscated (``_x``) or ``unknown`` nodes stop
the walk and leave the client as the proxy's address. A malformed header is
ignored (the connection's own values stand), never an error for the client.
Headers from untrusted peers are ignored, never trusted.

Pure functions over header lists: no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Header = tuple[bytes, bytes] | list[bytes]


class TrustedProxies:
    """``--forwarded-allow-ips``: which peers' proxy headers are believed."""

    __slots__ = ("_any", "_networks")

    def __init__(self, spec: Sequence[str]) -> None:
        self._any = False
        self._networks: list[Network] = []
        for item in spec:
            item = item.strip()
            if not item:
                continue
            if item == "*":
                self._any = True
            else:
                self._networks.append(ipaddress.ip_network(item, strict=False))

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """A comma-separated list; ValueError naming a bad entry."""
        items = [part.strip() for part in text.split(",") if part.strip()]
        for item in items:
            if item != "*":
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} is not an IP address or network") from None
        return cls(items)

    def trusts(self, host: str | None) -> bool:
        if self._any:
            return True
        if host is None:
            return False
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        return any(ip in net for net in self._networks)


@dataclass(frozen=True, slots=True)
class Forwarded:
    """What the trusted headers say (None: keep the connection's value)."""

    client: list[object] | None = None
    scheme: str | None = None
    server: list[object] | None = None


def _headers(headers: Sequence[Header], name: bytes) -> list[str]:
    return [bytes(v).decode("latin-1") for n, v in headers if bytes(n).lower() == name]


def _split_node(node: str) -> tuple[str, int] | None:
    """``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:80``, ``2001:db8::1`` -> (host, port)."""
    node = node.strip().strip('"')
    if not node or node.startswith("_") or node.lower() == "unknown":
        return None
    port = 0
    if node.startswith("["):
        close = node.find("]")
        if close < 0:
            return None
        host, rest = node[1:close], node[close + 1 :]
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
        elif rest:
            return None
    elif node.count(":") == 1:
        host, _, port_text = node.partition(":")
        if not port_text.isdigit():
            return None
        port = int(port_text)
    else:
        host = node
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return host, port if port <= 65535 else 0


def _parse_forwarded(values: list[str]) -> list[dict[str, str]] | None:
    """RFC 7239 elements, nearest hop last; None if malformed."""
    elements: list[dict[str, str]] = []
    for value in values:
        for element in _split_outside_quotes(value, ","):
            pairs: dict[str, str] = {}
            for pair in _split_outside_quotes(element, ";"):
                if not pair.strip():
                    continue
                key, sep, val = pair.strip().partition("=")
                if not sep or not key:
                    return None
                val = val.strip()
                if val.startswith('"'):
                    if len(val) < 2 or not val.endswith('"'):
                        return None
                    val = val[1:-1].replace('\\"', '"')
                pairs[key.lower()] = val
            elements.append(pairs)
    return elements


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _pick_client(
    chain: list[tuple[str, int] | None], trusted: TrustedProxies
) -> list[object] | None:
    """Walk from the nearest hop back; the first untrusted address is the client."""
    candidate: list[object] | None = None
    for node in reversed(chain):
        if node is None:
            return candidate
        candidate = [node[0], node[1]]
        if not trusted.trusts(node[0]):
            return candidate
    return candidate


def _default_port(scheme: str) -> int:
    return 443 if scheme in ("https", "wss") else 80


def _server_of(host: str, scheme: str) -> list[object] | None:
    host = host.strip()
    if not host:
        return None
    if host.startswith("["):
        close = host.find("]")
        name, rest = host[: close + 1], host[close + 1 :]
    else:
        name, _, port_text = host.partition(":")
        rest = ":" + port_text if port_text else ""
    if rest.startswith(":") and rest[1:].isdigit():
        return [name, int(rest[1:])]
    if rest:
        return None
    return [name, _default_port(scheme)]


def resolve(headers: Sequence[Header], trusted: TrustedProxies, websocket: bool) -> Forwarded:
    """What a trusted peer's headers say (call only for a trusted peer)."""
    forwarded = _headers(headers, b"forwarded")
    chain: list[tuple[str, int] | None] = []
    proto = host = None
    if forwarded:
        elements = _parse_forwarded(forwarded)
        if elements is None:
            return Forwarded()
        for element in elements:
            chain.append(_split_node(element["for"]) if "for" in element else None)
        last = elements[-1] if elements else {}
        proto = last.get("proto")
        host = last.get("host")
    else:
        for value in _headers(headers, b"x-forwarded-for"):
            chain.extend(_split_node(part) for part in value.split(","))
        protos = _headers(headers, b"x-forwarded-proto")
        proto = protos[-1].split(",")[-1].strip() if protos else None
        hosts = _headers(headers, b"x-forwarded-host")
        host = hosts[-1].split(",")[-1].strip() if hosts else None
    scheme = None
    if proto is not None and proto.lower() in ("http", "https"):
        scheme = proto.lower()
        if websocket:
            scheme = "wss" if scheme == "https" else "ws"
    client = _pick_client(chain, trusted) if chain else None
    server = _server_of(host, scheme or ("ws" if websocket else "http")) if host else None
    return Forwarded(client, scheme, server)


def scope_addresses(
    trusted: TrustedProxies | None,
    client: list[object] | None,
    scheme: str,
    server: list[object] | None,
    headers: Sequence[Header],
    websocket: bool,
) -> tuple[list[object] | None, str, list[object] | None]:
    """(client, scheme, server) for a scope: the proxy's word if the peer is
    trusted (a UNIX-socket peer, ``client is None``, always is), else unchanged.
    ``trusted`` None (``--proxy-headers`` off): always unchanged."""
    if trusted is None:
        return client, scheme, server
    peer = client[0] if client else None
    if client is not None and not trusted.trusts(peer if isinstance(peer, str) else None):
        return client, scheme, server
    said = resolve(headers, trusted, websocket)
    return (
        said.client if said.client is not None else client,
        said.scheme if said.scheme is not None else scheme,
        said.server if said.server is not None else server,
    )
