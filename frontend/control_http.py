"""A small HTTP/1.1 server for the control socket and the metrics listener.

Not the client-facing server: it serves operators and scrapers, one request
at a time per connection, with h11 doing the parsing. Each connection runs
:func:`serve_connection`, which reads requests (bodies up to
:data:`MAX_BODY`), calls the handler and writes its answer, keeping the
connection alive as HTTP/1.1 allows. A connection idle for
:data:`IDLE_TIMEOUT` seconds, or sending something h11 rejects, is closed
(after a 400 when one can still be sent).

The handler is any ``async (ControlRequest) -> ControlResponse``; it must not
raise (an exception becomes a logged 500).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    import h11

logger = logging.getLogger("pagi.front")

MAX_BODY = 64 * 1024
IDLE_TIMEOUT = 30.0
READ_SIZE = 65536


@dataclass(slots=True)
class ControlRequest:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    #: The peer's (pid, uid, gid) on a UNIX socket, None on TCP.
    peer_cred: tuple[int, int, int] | None = None
    #: Resolved when the connection this request came on has closed.
    connection_closed: asyncio.Future[None] | None = None

    def json(self) -> dict[str, object]:
        """The body as a JSON object ({} when empty); ValueError otherwise."""
        if not self.body.strip():
            return {}
        value = json.loads(self.body)
        if not isinstance(value, dict):
            raise ValueError("the request body must be a JSON object")
        return value


@dataclass(slots=True)
class ControlResponse:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    #: Descriptors sent with the answer's bytes (SCM_RIGHTS): the front hand-over.
    fds: list[int] = field(default_factory=list)

    @classmethod
    def of_json(cls, status: int, value: object) -> ControlResponse:
        return cls(status, json.dumps(value, indent=1, sort_keys=True).encode() + b"\n")

    @classmethod
    def error(cls, status: int, message: str) -> ControlResponse:
        return cls.of_json(status, {"error": message})


Handler = Callable[[ControlRequest], Awaitable[ControlResponse]]


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    peer_cred: tuple[int, int, int] | None = None,
) -> None:
    """Serve requests on one connection until it closes or misbehaves."""
    import h11  # on first use: operators' requests are rare, the front's start is not

    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=16 * 1024)
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    try:
        while True:
            request = await _read_request(conn, reader)
            if request is None:
                return
            request.peer_cred = peer_cred
            request.connection_closed = closed
            try:
                response = await handler(request)
            except Exception:
                logger.exception("control request %s %s failed", request.method, request.path)
                response = ControlResponse.error(500, "internal error (see the front's log)")
            await _write_response(conn, writer, response)
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()
    except _BadRequest as exc:
        with contextlib.suppress(Exception):
            if conn.our_state is h11.SEND_RESPONSE:
                await _write_response(conn, writer, ControlResponse.error(exc.status, str(exc)))
    except (TimeoutError, ConnectionError, h11.LocalProtocolError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        closed.set_result(None)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> object:
    import h11

    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise _BadRequest(exc.error_status_hint, str(exc)) from None
        if event is not h11.NEED_DATA:
            return event
        data = await asyncio.wait_for(reader.read(READ_SIZE), IDLE_TIMEOUT)
        conn.receive_data(data)


async def _read_request(
    conn: h11.Connection, reader: asyncio.StreamReader
) -> ControlRequest | None:
    import h11

    event = await _next_event(conn, reader)
    if isinstance(event, h11.ConnectionClosed):
        return None
    if not isinstance(event, h11.Request):
        raise _BadRequest(400, "expected a request")
    body = bytearray()
    while True:
        part = await _next_event(conn, reader)
        if isinstance(part, h11.Data):
            body += part.data
            if len(body) > MAX_BODY:
                raise _BadRequest(413, f"request body over {MAX_BODY} bytes")
        elif isinstance(part, h11.EndOfMessage):
            break
        else:
            return None
    target = urlsplit(event.target.decode("ascii", "replace"))
    return ControlRequest(
        method=event.method.decode("ascii", "replace"),
        path=target.path,
        query=dict(parse_qsl(target.query)),
        body=bytes(body),
    )


async def _write_response(
    conn: h11.Connection, writer: asyncio.StreamWriter, response: ControlResponse
) -> None:
    import h11

    headers = [
        ("content-type", response.content_type),
        ("content-length", str(len(response.body))),
        ("cache-control", "no-store"),
        *response.headers,
    ]
    data = conn.send(h11.Response(status_code=response.status, headers=headers)) or b""
    data += conn.send(h11.Data(data=response.body)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    if response.fds:
        await _write_with_fds(writer, data, response.fds)
        return
    writer.write(data)
    await writer.drain()


async def _write_with_fds(writer: asyncio.StreamWriter, data: bytes, fds: list[int]) -> None:
    """Send ``data`` with ``fds`` attached (SCM_RIGHTS) on the connection's
    socket. The transport has nothing buffered (drained first), so the bytes
    stay in order; the socket stays non-blocking (the flag is shared with any
    duplicate), so a full buffer is waited out here, and what one ``sendmsg``
    did not take follows through the transport."""
    await writer.drain()
    sock = writer.get_extra_info("socket")
    dup = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=os.dup(sock.fileno()))
    try:
        for _ in range(100):
            try:
                sent = socket.send_fds(dup, [data], fds)
                break
            except (BlockingIOError, InterruptedError):
                await asyncio.sleep(0.01)
        else:
            raise ConnectionError("the peer does not read: descriptors not sent")
    finally:
        dup.close()  # our duplicate only; the transport keeps its descriptor
    if sent < len(data):
        writer.write(data[sent:])
        await writer.drain()
