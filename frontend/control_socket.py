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
import contextlib
import logging
import os
import socket
import struct

from .control_http import ControlResponse, Handler, serve_connection
from .listeners import Listener, bind_unix, close_listeners

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
        self._listener: Listener | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def listener(self) -> Listener | None:
        return self._listener

    async def open(self, adopted: Listener | None = None) -> None:
        """Create the socket (ListenError on failure), or use one handed over."""
        self._listener = adopted or bind_unix(self.path, 64, self._mode, "control socket")
        self.resume()
        logger.info("control socket on unix:%s", self.path)

    def pause(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError, ValueError):
                self._loop.remove_reader(self._listener.sock.fileno())

    def resume(self) -> None:
        if self._listener is not None:
            self._loop.add_reader(self._listener.sock.fileno(), self._accept)

    def _accept(self) -> None:
        assert self._listener is not None
        for _ in range(16):
            try:
                conn, _addr = self._listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                logger.warning("control socket: accept failed: %s", exc.strerror or exc)
                return
            task = self._loop.create_task(self._connected(conn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _connected(self, conn: socket.socket) -> None:
        cred = peer_credentials(conn)
        if not peer_allowed(cred, self._mode):
            logger.warning("control socket: refused a client (pid, uid, gid = %s)", cred)
            body = ControlResponse.error(403, "not allowed: wrong user").body
            with contextlib.suppress(OSError):
                conn.setblocking(True)
                conn.settimeout(1.0)
                conn.sendall(
                    b"HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                    + body
                )
            conn.close()
            return
        conn.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=conn)
        await serve_connection(reader, writer, self._handler, cred)

    async def close(self) -> None:
        self.pause()
        if self._listener is not None:
            close_listeners([self._listener])
            self._listener = None
        for task in list(self._tasks):
            task.cancel()
