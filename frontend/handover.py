"""Front hand-over: a new front takes the running one's sockets (SCM_RIGHTS).

``pagi-front --handover --socket-dir DIR ...`` starts a front that, instead of
binding, asks the front running on ``DIR`` for its sockets over
``DIR/control.sock``, on one HTTP/1.1 connection:

1. ``POST /handover`` — the old front answers ``200`` with a JSON body
   describing the sockets (``{"sockets": [{"role", "url", "name", "path"}],
   "private_dir"}``) and the descriptors themselves attached to the answer's
   bytes as ``SCM_RIGHTS``, in that order: every client listener, then
   ``workers.sock``, then ``control.sock``. From then on the old front accepts
   no workers and no control connections (the new one does, on the same
   paths); both fronts accept clients.
2. The new front starts its workers. Once it has as many ready workers as it
   should run, it sends ``POST /handover/done`` on the same connection; the
   old front then stops accepting clients and shuts down gracefully exactly
   as on SIGTERM, without removing the socket files (or its private socket
   dir, which the new front now owns). No connection is refused at any point:
   the listening sockets never close.

If the new front goes away before step 2, the old one resumes accepting
workers and control connections and goes on serving. The listening sockets
are never closed in between, so no client sees a refusal either way.
"""

from __future__ import annotations

import array
import asyncio
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from .listeners import Listener, describe_socket

MAX_FDS = 64
TIMEOUT = 10.0


class HandoverError(Exception):
    """The hand-over could not be done; the message says why."""


@dataclass(slots=True)
class HandedSocket:
    role: str  # "client", "workers", "control"
    fd: int
    url: str = ""
    name: str = ""
    path: str | None = None


@dataclass(slots=True)
class Handover:
    """The new front's side: the sockets received, and the connection to
    confirm on (:meth:`done`)."""

    conn: socket.socket
    sockets: list[HandedSocket] = field(default_factory=list)
    private_dir: str | None = None

    def of_role(self, role: str) -> list[HandedSocket]:
        return [s for s in self.sockets if s.role == role]

    def done(self) -> None:
        """Tell the old front to stop (step 2)."""
        try:
            self.conn.sendall(_request("/handover/done"))
            _read_response(self.conn)
        except (OSError, HandoverError):
            pass  # it went away already: nothing left to tell
        finally:
            self.conn.close()


def _request(path: str) -> bytes:
    return f"POST {path} HTTP/1.1\r\nhost: pagi\r\ncontent-length: 0\r\n\r\n".encode()


def _read_response(conn: socket.socket) -> tuple[int, bytes, list[int]]:
    """One HTTP/1.1 response with a content-length; descriptors that came with it."""
    data = b""
    fds: list[int] = []
    while b"\r\n\r\n" not in data:
        chunk, more_fds = _recv(conn)
        fds += more_fds
        if not chunk:
            raise HandoverError("the old front closed the connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise HandoverError(f"bad answer from the old front: {lines[0]!r}")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk, more_fds = _recv(conn)
        fds += more_fds
        if not chunk:
            raise HandoverError("the old front closed the connection mid-answer")
        body += chunk
    return int(parts[1]), body[:length], fds


def _recv(conn: socket.socket) -> tuple[bytes, list[int]]:
    fds = array.array("i")
    data, ancdata, _flags, _addr = conn.recvmsg(65536, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(cdata[: len(cdata) - len(cdata) % fds.itemsize])
    return data, list(fds)


def take_sockets(control_path: str) -> Handover:
    """Step 1, blocking (the new front does it before its loop serves anything)."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(TIMEOUT)
    try:
        conn.connect(control_path)
        conn.sendall(_request("/handover"))
        status, body, fds = _read_response(conn)
    except OSError as exc:
        conn.close()
        raise HandoverError(f"cannot reach the running front at {control_path}: {exc}") from None
    except HandoverError:
        conn.close()
        raise
    if status != 200:
        conn.close()
        for fd in fds:
            socket.close(fd)
        message = body.decode(errors="replace").strip()
        raise HandoverError(f"the running front refused the hand-over ({status}): {message}")
    info = json.loads(body)
    described = info["sockets"]
    if len(described) != len(fds):
        conn.close()
        for fd in fds:
            socket.close(fd)
        raise HandoverError(f"expected {len(described)} descriptors, got {len(fds)}")
    handover = Handover(conn, private_dir=info.get("private_dir"))
    for entry, fd in zip(described, fds, strict=True):
        handover.sockets.append(
            HandedSocket(
                entry["role"], fd, entry.get("url", ""), entry.get("name") or "", entry.get("path")
            )
        )
    return handover


def send_with_fds(sock: socket.socket, data: bytes, fds: list[int]) -> None:
    """Write ``data`` with ``fds`` attached (the old front's answer to step 1).

    ``sock`` is a blocking duplicate of the control connection whose asyncio
    transport has nothing buffered, so the bytes go out in order.
    """
    socket.send_fds(sock, [data], fds)


def adopt(handed: HandedSocket) -> Listener:
    """A received listening socket as a :class:`Listener`. The socket file (if
    any) is not ours until the hand-over is done: see :func:`own`. A TLS
    listener of the old front (``https://`` URL) stays one: the new front
    needs its own ``--ssl-certfile`` for it."""
    sock = socket.socket(fileno=handed.fd)
    sock.setblocking(False)
    sock.set_inheritable(False)
    url = handed.url or describe_socket(sock)
    return Listener(sock, url, name=handed.name, tls=url.startswith("https://"))


def own(handover: Handover, listeners: list[Listener | None]) -> None:
    """The hand-over is done: the socket files are ours now (removed at exit if
    still the same). ``listeners`` are in the order the sockets came."""
    for listener, handed in zip(listeners, handover.sockets, strict=False):
        if listener is None or not handed.path:
            continue
        try:
            listener.uds_inode = os.stat(handed.path).st_ino
        except OSError:
            continue
        listener.uds_path = handed.path


async def confirm_when_ready(handover: Handover, ready: Callable[[], bool], timeout: float) -> bool:
    """Step 2 once ``ready()`` (the new front's workers serve), within ``timeout``
    seconds; False (and the old front resumes) if they never do."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not ready():
        if loop.time() >= deadline:
            handover.conn.close()
            return False
        await asyncio.sleep(0.05)
    await asyncio.to_thread(handover.done)
    return True
