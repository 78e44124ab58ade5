"""Accepting on a TLS listener: sniff, handshake, hand over.

A :class:`TlsAcceptor` owns one listening socket marked TLS. For every
accepted socket it waits (without reading) for the client's first byte:

* ``0x16`` (a TLS handshake record): the socket goes to
  ``loop.connect_accepted_socket`` with the *current* server context of
  :class:`~.contexts.ServerContexts`, so a reload affects the next handshake
  and no connection already set up;
* an ASCII letter (a plain-HTTP request line such as ``GET / HTTP/1.1``): the
  client gets ``400 Bad Request`` naming the mistake, sent in clear text, and
  the connection closes after its input is drained;
* anything else, EOF, or nothing before ``--ssl-handshake-timeout``: the socket
  is closed.

The whole of it (the wait for the first byte plus the handshake) is bounded by
``--ssl-handshake-timeout``; a failed or stalled handshake is closed and logged
at debug level, never blocking the loop. Every accepted socket is in exactly
one of: waiting for its first byte (``_sniffing``), handshaking
(``_handshakes``), or handed to its protocol (and then no longer ours).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Callable

from ..access_log import client_label
from ..http1.responses import server_response
from .contexts import ServerContexts

logger = logging.getLogger("pagi.front")

TLS_HANDSHAKE_RECORD = 0x16
#: How long a plain-HTTP client gets to read our 400 before the socket closes.
PLAIN_LINGER = 1.0
_ACCEPT_BATCH = 64
_ACCEPT_ERRORS_PAUSE = 0.1  # after EMFILE/ENFILE/ENOBUFS/ENOMEM


class TlsAcceptor:
    """Accepts TLS connections on one listening socket for ``factory``'s protocols."""

    def __init__(
        self,
        sock: socket.socket,
        contexts: ServerContexts,
        factory: Callable[[], asyncio.Protocol],
        handshake_timeout: float,
        server_header: bool = True,
    ) -> None:
        self._sock = sock
        self._contexts = contexts
        self._factory = factory
        self._timeout = handshake_timeout
        self._server_header = server_header
        self._loop = asyncio.get_running_loop()
        self._sniffing: dict[int, tuple[socket.socket, asyncio.TimerHandle]] = {}
        self._handshakes: set[asyncio.Task[None]] = set()
        self._accepting = False
        self._pause: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Begin accepting."""
        if not self._accepting:
            self._accepting = True
            self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        """Stop accepting; close sockets still before or in their handshake."""
        self._stop_reading()
        if self._pause is not None:
            self._pause.cancel()
            self._pause = None
        for fd in list(self._sniffing):
            self._drop(fd)
        for task in list(self._handshakes):
            task.cancel()

    @property
    def pending(self) -> int:
        """Sockets accepted but not handed over yet (sniffing or handshaking)."""
        return len(self._sniffing) + len(self._handshakes)

    # --- accepting -------------------------------------------------------------------

    def _stop_reading(self) -> None:
        if self._accepting:
            self._accepting = False
            try:
                self._loop.remove_reader(self._sock.fileno())
            except (OSError, ValueError):
                pass

    def _accept(self) -> None:
        for _ in range(_ACCEPT_BATCH):
            try:
                conn, _addr = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    logger.warning(
                        "accepting a TLS connection failed: %s; pausing %g s",
                        exc.strerror,
                        _ACCEPT_ERRORS_PAUSE,
                    )
                    self._stop_reading()
                    self._pause = self._loop.call_later(_ACCEPT_ERRORS_PAUSE, self._resume)
                else:
                    logger.debug("accepting a TLS connection failed: %s", exc.strerror or exc)
                return
            conn.setblocking(False)
            fd = conn.fileno()
            timer = self._loop.call_later(self._timeout, self._sniff_expired, fd)
            self._sniffing[fd] = (conn, timer)
            self._loop.add_reader(fd, self._sniff, fd)

    def _resume(self) -> None:
        self._pause = None
        self.start()

    # --- the first byte ----------------------------------------------------------------

    def _sniff(self, fd: int) -> None:
        entry = self._sniffing.get(fd)
        if entry is None:
            return
        conn = entry[0]
        try:
            first = conn.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            logger.debug("%s TLS connection failed before the handshake: %s", _peer(conn), exc)
            self._drop(fd)
            return
        if not first:
            self._drop(fd)
            return
        self._release(fd)
        if first[0] == TLS_HANDSHAKE_RECORD:
            remaining = max(entry[1].when() - self._loop.time(), 0.001)
            task = self._loop.create_task(self._handshake(conn, remaining))
            self._handshakes.add(task)
            task.add_done_callback(self._handshakes.discard)
        elif 0x41 <= first[0] <= 0x5A:  # A-Z: an HTTP method
            PlainHttpAnswer(conn, self._server_header).start()
        else:
            logger.debug("%s not a TLS handshake (first byte 0x%02x)", _peer(conn), first[0])
            conn.close()

    def _sniff_expired(self, fd: int) -> None:
        entry = self._sniffing.get(fd)
        if entry is not None:
            logger.debug("%s TLS handshake not started within %g s", _peer(entry[0]), self._timeout)
            self._drop(fd)

    def _release(self, fd: int) -> None:
        """Forget a sniffed socket without closing it."""
        _conn, timer = self._sniffing.pop(fd)
        timer.cancel()
        self._loop.remove_reader(fd)

    def _drop(self, fd: int) -> None:
        conn = self._sniffing[fd][0]
        self._release(fd)
        conn.close()

    # --- the handshake -------------------------------------------------------------------

    async def _handshake(self, conn: socket.socket, timeout: float) -> None:
        peer = _peer(conn)
        try:
            await self._loop.connect_accepted_socket(
                self._factory,
                conn,
                ssl=self._contexts.current,
                ssl_handshake_timeout=timeout,
            )
        except (OSError, ssl.SSLError, EOFError) as exc:
            logger.debug("%s TLS handshake failed: %s", peer, _describe(exc))
            if conn.fileno() != -1:
                conn.close()
        except asyncio.CancelledError:
            if conn.fileno() != -1:
                conn.close()
            raise


class PlainHttpAnswer:
    """``400`` for a plain-HTTP request that reached a TLS port, then close.

    What the client already sent is read and discarded first, so closing does
    not reset the connection under the response; input that keeps coming is
    drained for at most :data:`PLAIN_LINGER` seconds after the write side is
    shut.
    """

    __slots__ = ("_conn", "_fd", "_loop", "_response", "_timer")

    def __init__(self, conn: socket.socket, server_header: bool) -> None:
        self._conn = conn
        self._fd = conn.fileno()
        self._loop = asyncio.get_running_loop()
        self._response = server_response(
            400,
            "The plain HTTP request was sent to an HTTPS port",
            server_header=server_header,
        )
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        logger.info("%s bad request: 400 plain HTTP on a TLS port", _peer(self._conn))
        self._drain()
        try:
            self._conn.send(self._response)
            self._conn.shutdown(socket.SHUT_WR)
        except OSError:
            self._conn.close()
            return
        self._loop.add_reader(self._fd, self._on_readable)
        self._timer = self._loop.call_later(PLAIN_LINGER, self._finish)

    def _drain(self) -> bool:
        """Read what is there; True once the client closed or failed."""
        while True:
            try:
                if not self._conn.recv(65536):
                    return True
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:
                return True

    def _on_readable(self) -> None:
        if self._drain():
            self._finish()

    def _finish(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._conn.fileno() != -1:
            self._loop.remove_reader(self._fd)
            self._conn.close()


def _peer(conn: socket.socket) -> str:
    try:
        host, port = conn.getpeername()[:2]
    except (OSError, ValueError):
        return "-"
    return client_label([host, port])


def _describe(exc: BaseException) -> str:
    """The reason for the log; a failed client-certificate verification names why
    (the error the ``tls`` extension's ``client_cert_error`` would carry, had the
    connection been kept: OpenSSL ends the handshake instead, docs/tls.md)."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"{exc.reason or 'certificate verify failed'} ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason
    return str(exc) or type(exc).__name__
