"""Who is on either end of a client transport, as the scope and the log lines need it."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from .access_log import client_label
from .tls.scope_info import transport_tls

NO_EXTRAS: dict[str, Any] = {}


def transport_endpoints(
    transport: asyncio.BaseTransport,
) -> tuple[list[Any] | None, list[Any] | None, str]:
    """``(client, server, peer)``: the scope's ``[host, port]`` pairs (client None
    and port None on a UNIX socket) and the client's label for log lines."""
    sock = transport.get_extra_info("socket")
    if getattr(sock, "family", None) == socket.AF_UNIX:
        sockname = transport.get_extra_info("sockname")
        if isinstance(sockname, bytes):
            sockname = sockname.decode("utf-8", "surrogateescape")
        return None, [sockname or "", None], "unix"
    peer = transport.get_extra_info("peername")
    here = transport.get_extra_info("sockname")
    client = [peer[0], peer[1]] if peer else None
    return client, ([here[0], here[1]] if here else None), client_label(client)


def scope_extras(transport: asyncio.BaseTransport) -> dict[str, Any]:
    """OPEN's ``extras`` for the connection: the ``tls`` extension on TLS, else none."""
    tls = transport_tls(transport)
    return NO_EXTRAS if tls is None else {"extensions": {"tls": tls}}
