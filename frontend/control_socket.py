"""``<socket-dir>/control.sock``: the operator's door into a running front.

HTTP/1.1 + JSON over a UNIX stream socket (``curl --unix-socket``), served by
:mod:`.control_http` with the routes of :mod:`.control_api`.

Access control, two layers:

* the socket file is created with mode ``--control-socket-mode`` (default
  ``0600``: the front's user only), through a umask so it never exists wider;
* each connection's peer credentials (``SO_PEERCRED``) are checked: root and
  the front's own effective uid are served; so are members of the front's
  group, but only when the mode grants the group access (e.g. ``0660`` for a
  group of operators). Anyone else gets ``403`` and the connection is closed:
  a socket file made reachable by mistake (a wrong mode, an ACL, a bind
  mount) still admits no stranger.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct

from .acceptor import Acceptor
from .control_http import ControlResponse, Handler, serve_connection
from .listeners import Listener, bind_unix

logger = logging.getLogger("pagi.front")

CONTROL_SOCKET_NAME = "control.sock"
_UCRED = struct.Struct("3i")


def peer_credentials(sock: socket.socket) -> tuple[int, int, int] | None:
    """(pid, uid, gid) of the process at the other end of a UNIX socket."""
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    except (OSError, AttributeError):
        return None
    pid, uid, gid = _UCRED.unpack(raw)
    return pid, uid, gid


def peer_allowed(cred: tuple[int, int, int] | None, mode: int) -> bool:
    """Root, the front's own uid, and (if ``mode`` grants the group) its group."""
    if cred is None:
        return False
    _pid, uid, gid = cred
    if uid in (0, os.geteuid()):
        return True
    return bool(mode & 0o060) and (gid == os.getegid() or os.getegid() in _groups_of(uid))


def _groups_of(uid: int) -> set[int]:
    try:
        import pwd

        entry = pwd.getpwuid(uid)
    except (ImportError, KeyError):
        return set()
    return set(os.getgrouplist(entry.pw_name, entry.pw_gid))


class ControlSocket:
    """Listens on ``control.sock`` and serves each connection with ``handler``.

    Accepting is done by hand (a reader callback on the listening socket), so
    it can pause and resume without closing the socket (front hand-over).
    """

    def __init__(self, directory: str, mode: int, handler: Handler) -> None:
        self.path = os.path.join(directory, CONTROL_SOCKET_NAME)
        self._mode = mode
        self._handler = handler
        self._loop = asyncio.get_running_loop()
        self._acceptor = Acceptor(self._connection, "control connection", 16)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def listener(self) -> Listener | None:
        return self._acceptor.listener

    async def open(self, adopted: Listener | None = None) -> None:
        """Create the socket (ListenError on failure), or use one handed over."""
        self._acceptor.start(adopted or bind_unix(self.path, 64, self._mode, "control socket"))
        logger.info("control socket on unix:%s", self.path)

    def pause(self) -> None:
        self._acceptor.pause()

    def resume(self) -> None:
        self._acceptor.resume()

    def _connection(self, conn: socket.socket) -> None:
        task = self._loop.create_task(self._connected(conn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connected(self, conn: socket.socket) -> None:
        cred = peer_credentials(conn)
        if not peer_allowed(cred, self._mode):
            logger.warning("control socket: refused a client (pid, uid, gid = %s)", cred)
            await self._refuse(conn)
            return
        conn.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=conn)
        await serve_connection(reader, writer, self._handler, cred)

    async def _refuse(self, conn: socket.socket) -> None:
        """403, then a half-close and a short drain of what the client sent, so
        it reads the answer instead of a reset."""
        body = ControlResponse.error(403, "not allowed: wrong user").body
        head = (
            "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        conn.setblocking(False)
        try:
            await self._loop.sock_sendall(conn, head.encode() + body)
            conn.shutdown(socket.SHUT_WR)
            async with asyncio.timeout(1.0):
                while await self._loop.sock_recv(conn, 4096):
                    pass
        except (OSError, TimeoutError):
            pass
        finally:
            conn.close()

    async def close(self) -> None:
        self._acceptor.close()
        for task in list(self._tasks):
            task.cancel()
