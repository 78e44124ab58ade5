"""The PROXY protocol (HAProxy's, versions 1 and 2), sans-I/O.

A proxy that speaks it sends one header before the client's bytes, carrying
the client's and the proxy's own addresses. :func:`parse` reads it from the
start of a connection's input:

* not enough bytes yet: ``None`` (call again with more);
* a complete, valid header: a :class:`ProxyHeader` with how many bytes it
  took; ``client``/``server`` are None when the header says nothing about
  them (v1 ``UNKNOWN``, v2 ``LOCAL`` — a health check by the proxy itself —
  or an address family other than TCP over IPv4/IPv6), in which case the
  connection's own addresses stand;
* anything else: :class:`ProxyProtocolError` naming what is wrong. A
  connection on a PROXY listener that does not start with a valid header is
  refused: trusting its first bytes as HTTP would let a client bypass the
  proxy.

Limits: a v1 line is at most 107 bytes (the specification's bound); a v2
header's variable part at most :data:`MAX_V2_LENGTH` bytes. v2 TLVs are
skipped.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

V1_PREFIX = b"PROXY "
V1_MAX = 107
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_HEADER = struct.Struct("!12sBBH")  # signature, version/command, family/protocol, length
MAX_V2_LENGTH = 4096

Address = tuple[str, int]


class ProxyProtocolError(ValueError):
    """The connection does not start with a valid PROXY header."""


@dataclass(frozen=True, slots=True)
class ProxyHeader:
    consumed: int
    client: Address | None
    server: Address | None
    version: int


def parse(data: bytes) -> ProxyHeader | None:
    """Parse a PROXY v1/v2 header at the start of ``data`` (see the module doc)."""
    if data[:1] == b"P":
        if len(data) < len(V1_PREFIX):
            _check_prefix(data, V1_PREFIX)
            return None
        if data.startswith(V1_PREFIX):
            return _parse_v1(data)
    elif data[:1] == b"\r":
        if len(data) < len(V2_SIGNATURE):
            _check_prefix(data, V2_SIGNATURE)
            return None
        if data.startswith(V2_SIGNATURE):
            return _parse_v2(data)
    elif not data:
        return None
    raise ProxyProtocolError("the connection does not start with a PROXY protocol header")


def _check_prefix(data: bytes, prefix: bytes) -> None:
    """A short input must be the start of ``prefix``."""
    if not prefix.startswith(data):
        raise ProxyProtocolError("the connection does not start with a PROXY protocol header")


def _parse_v1(data: bytes) -> ProxyHeader | None:
    end = data.find(b"\r\n", 0, V1_MAX)
    if end < 0:
        if len(data) >= V1_MAX:
            raise ProxyProtocolError(f"PROXY v1 line longer than {V1_MAX} bytes")
        if b"\n" in data:
            raise ProxyProtocolError("PROXY v1 line not ended by CRLF")
        return None
    try:
        line = data[:end].decode("ascii")
    except UnicodeDecodeError:
        raise ProxyProtocolError("PROXY v1 line is not ASCII") from None
    parts = line.split(" ")
    consumed = end + 2
    if len(parts) >= 2 and parts[1] == "UNKNOWN":
        return ProxyHeader(consumed, None, None, 1)
    if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
        raise ProxyProtocolError(f"malformed PROXY v1 line {line[:V1_MAX]!r}")
    family = 4 if parts[1] == "TCP4" else 6
    client = (_v1_ip(parts[2], family), _v1_port(parts[4]))
    server = (_v1_ip(parts[3], family), _v1_port(parts[5]))
    return ProxyHeader(consumed, client, server, 1)


def _v1_ip(text: str, family: int) -> str:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise ProxyProtocolError(f"PROXY v1: {text!r} is not an IP address") from None
    if ip.version != family:
        raise ProxyProtocolError(f"PROXY v1: {text!r} is not an IPv{family} address")
    return str(ip)


def _v1_port(text: str) -> int:
    if not text.isdigit() or not text.isascii() or (len(text) > 1 and text[0] == "0"):
        raise ProxyProtocolError(f"PROXY v1: bad port {text!r}")
    port = int(text)
    if port > 65535:
        raise ProxyProtocolError(f"PROXY v1: port {port} out of range")
    return port


def _parse_v2(data: bytes) -> ProxyHeader | None:
    if len(data) < V2_HEADER.size:
        return None
    _sig, ver_cmd, fam, length = V2_HEADER.unpack_from(data)
    if ver_cmd >> 4 != 2:
        raise ProxyProtocolError(f"PROXY v2: version {ver_cmd >> 4} is not 2")
    command = ver_cmd & 0x0F
    if command not in (0, 1):
        raise ProxyProtocolError(f"PROXY v2: unknown command {command}")
    if length > MAX_V2_LENGTH:
        raise ProxyProtocolError(f"PROXY v2: header length {length} over {MAX_V2_LENGTH}")
    total = V2_HEADER.size + length
    if len(data) < total:
        return None
    body = data[V2_HEADER.size : total]
    if command == 0:  # LOCAL: the proxy's own connection (health check)
        return ProxyHeader(total, None, None, 2)
    family, protocol = fam >> 4, fam & 0x0F
    if protocol not in (0, 1, 2):
        raise ProxyProtocolError(f"PROXY v2: unknown transport protocol {protocol}")
    if family == 1:  # AF_INET
        if len(body) < 12:
            raise ProxyProtocolError("PROXY v2: IPv4 address block shorter than 12 bytes")
        src, dst, sport, dport = struct.unpack_from("!4s4sHH", body)
        return ProxyHeader(
            total,
            (str(ipaddress.IPv4Address(src)), sport),
            (str(ipaddress.IPv4Address(dst)), dport),
            2,
        )
    if family == 2:  # AF_INET6
        if len(body) < 36:
            raise ProxyProtocolError("PROXY v2: IPv6 address block shorter than 36 bytes")
        src, dst, sport, dport = struct.unpack_from("!16s16sHH", body)
        return ProxyHeader(
            total,
            (str(ipaddress.IPv6Address(src)), sport),
            (str(ipaddress.IPv6Address(dst)), dport),
            2,
        )
    if family in (0, 3):  # UNSPEC, AF_UNIX: nothing we can put in the scope
        return ProxyHeader(total, None, None, 2)
    raise ProxyProtocolError(f"PROXY v2: unknown address family {family}")
