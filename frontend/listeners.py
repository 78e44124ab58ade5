"""Client-facing listening sockets: ``--bind``, ``--uds`` and ``--fd``.

A ``--bind`` value prefixed ``tls://`` (``tls://0.0.0.0:8443``) makes a TLS
listener (``docs/tls.md``); without the prefix a listener is cleartext. Plain
and TLS listeners may be mixed freely.

Parsing (:func:`parse_bind`) is pure and raises :class:`ValueError` with a
message meant for the command line. Socket creation raises
:class:`ListenError` (an :class:`OSError` turned into one readable line).

Choices:

* TCP sockets get ``SO_REUSEADDR`` (restart while old connections sit in
  TIME_WAIT); IPv6 sockets get ``IPV6_V6ONLY`` so ``[::]:8000`` and
  ``0.0.0.0:8000`` can be bound side by side.
* A client-facing UNIX socket is made mode ``0666``: access is meant to be
  controlled by the permissions of the directory holding it (the usual setup
  for a reverse proxy running as another user). A stale socket file is
  removed only if nothing answers on it; a non-socket file is never removed.
* ``--fd N`` adopts an inherited socket as-is (e.g. systemd socket
  activation); it is put into listening state if it is not already.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import stat
from dataclasses import dataclass

UDS_MODE = 0o666


class ListenError(Exception):
    """A listening socket could not be created; the message says which and why."""


class AddressInUse(ListenError):
    """A UNIX socket path is taken: a live process answers on it."""


TLS_PREFIX = "tls://"


@dataclass(frozen=True, slots=True)
class BindAddress:
    """A parsed ``--bind`` value. ``host`` has no brackets; ``tls``: the ``tls://`` prefix."""

    host: str
    port: int
    tls: bool = False

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.host

    def __str__(self) -> str:
        where = format_host_port(self.host, self.port)
        return TLS_PREFIX + where if self.tls else where


def format_host_port(host: str, port: int) -> str:
    """``127.0.0.1:8000`` or ``[::1]:8000``."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_bind(text: str) -> BindAddress:
    """Parse ``[tls://]HOST:PORT`` or ``[tls://][IPV6]:PORT``; port 0 asks for any free port.

    ``HOST`` is an IPv4 address, a host name, or (bracketed) an IPv6 address.
    """
    value = text.strip()
    tls = value[: len(TLS_PREFIX)].lower() == TLS_PREFIX
    if tls:
        value = value[len(TLS_PREFIX) :]
    elif "://" in value:
        raise ValueError(f"bad bind address {text!r}: the only prefix allowed is {TLS_PREFIX}")
    if not value:
        raise ValueError("empty bind address; expected HOST:PORT")
    if value.startswith("["):
        close = value.find("]")
        if close < 0:
            raise ValueError(f"bad bind address {text!r}: missing ']' after the IPv6 address")
        host = value[1:close]
        rest = value[close + 1 :]
        if not rest.startswith(":"):
            raise ValueError(f"bad bind address {text!r}: expected [IPV6]:PORT")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(
                f"bad bind address {text!r}: {host!r} is not an IPv6 address"
            ) from None
    else:
        host, sep, port_text = value.rpartition(":")
        if not sep:
            raise ValueError(f"bad bind address {text!r}: expected HOST:PORT")
        if ":" in host:
            raise ValueError(
                f"bad bind address {text!r}: write IPv6 addresses in brackets, e.g. [::1]:8000"
            )
        if not host:
            raise ValueError(f"bad bind address {text!r}: missing host (use 0.0.0.0 for all)")
        if not _is_hostname(host):
            raise ValueError(f"bad bind address {text!r}: {host!r} is not a valid host")
    if not port_text.isdigit() or not port_text.isascii():
        raise ValueError(f"bad bind address {text!r}: port {port_text!r} is not a number")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"bad bind address {text!r}: port {port} is out of range 0-65535")
    return BindAddress(host, port, tls)


def _is_hostname(host: str) -> bool:
    if len(host) > 253:
        return False
    labels = host.rstrip(".").split(".")
    return all(
        label
        and len(label) <= 63
        and all(c.isalnum() or c == "-" for c in label)
        and label.isascii()
        for label in labels
    )


@dataclass(slots=True)
class Listener:
    """A listening socket ready for ``loop.create_server(sock=...)``.

    ``uds_path`` is set for sockets whose file this process created (and so
    removes at exit); ``uds_inode`` guards against removing a replacement.
    """

    sock: socket.socket
    url: str  # "http://127.0.0.1:8000", "https://..." or "unix:/path", the real address
    uds_path: str | None = None
    uds_inode: int | None = None
    tls: bool = False  # a tls:// bind: connections are TLS (scheme https / wss)
    name: str = ""  # systemd's FileDescriptorName= for an activated socket

    def cleanup(self) -> None:
        """Remove our UNIX socket file if it is still the one we made."""
        if self.uds_path is None:
            return
        with contextlib.suppress(OSError):
            if os.stat(self.uds_path).st_ino == self.uds_inode:
                os.unlink(self.uds_path)


def describe_socket(sock: socket.socket, tls: bool = False) -> str:
    """The address a listening socket actually has, as a URL-ish string."""
    if sock.family == socket.AF_UNIX:
        name = sock.getsockname()
        if isinstance(name, bytes):
            name = name.decode(errors="replace")
        return f"unix:{name}"
    host, port = sock.getsockname()[:2]
    return f"{'https' if tls else 'http'}://{format_host_port(host, port)}"


def bind_tcp(addr: BindAddress, backlog: int) -> Listener:
    """Bind and listen on one TCP address (host names resolve to their first address)."""
    try:
        infos = socket.getaddrinfo(
            addr.host, addr.port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ListenError(f"cannot resolve {addr.host!r} for --bind {addr}: {exc}") from None
    family, socktype, proto, _canon, sockaddr = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(sockaddr)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {addr}: {exc.strerror or exc}") from None
    return Listener(sock, describe_socket(sock, addr.tls), tls=addr.tls)


def remove_stale_socket(path: str, what: str) -> None:
    """Make ``path`` free for ``bind``: remove a dead socket file, refuse otherwise.

    Raises :class:`ListenError` if a process still answers on it, or if the
    path exists and is not a socket.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ListenError(f"cannot use {what} {path}: {exc.strerror or exc}") from None
    if not stat.S_ISSOCK(st.st_mode):
        raise ListenError(f"cannot use {what} {path}: the path exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        pass  # nobody listens: stale
    except OSError as exc:
        raise ListenError(f"cannot use {what} {path}: {exc.strerror or exc}") from None
    else:
        raise AddressInUse(f"{what} {path} is in use: another process is listening on it")
    finally:
        probe.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def bind_unix(path: str, backlog: int, mode: int, what: str = "UNIX socket") -> Listener:
    """Bind and listen on a UNIX stream socket at ``path`` with file mode ``mode``.

    The socket file is created with the umask set so it never exists with a
    wider mode than ``mode``, then chmod-ed to exactly ``mode``.
    """
    if len(os.fsencode(path)) >= 108:
        raise ListenError(f"cannot use {what} {path}: path longer than 107 bytes")
    remove_stale_socket(path, what)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o777 & ~mode)
    try:
        sock.bind(path)
        os.chmod(path, mode)
        sock.listen(backlog)
        sock.setblocking(False)
        inode = os.stat(path).st_ino
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {what} {path}: {exc.strerror or exc}") from None
    finally:
        os.umask(old_umask)
    return Listener(sock, f"unix:{path}", uds_path=path, uds_inode=inode)


def adopt_fd(fd: int, backlog: int, name: str = "") -> Listener:
    """Use an inherited socket (``--fd``, socket activation) as a listener."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        raise ListenError(f"cannot use --fd {fd}: {exc.strerror or exc}") from None
    try:
        if sock.type != socket.SOCK_STREAM:
            raise ListenError(f"cannot use --fd {fd}: not a stream socket")
        if sock.family not in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX):
            raise ListenError(f"cannot use --fd {fd}: unsupported address family {sock.family!r}")
        if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            sock.listen(backlog)
        sock.setblocking(False)
        sock.set_inheritable(False)  # spawned workers must not hold it open
    except ListenError:
        sock.detach()
        raise
    except OSError as exc:
        sock.detach()
        raise ListenError(f"cannot use --fd {fd}: {exc.strerror or exc}") from None
    return Listener(sock, describe_socket(sock), name=name)


def open_listeners(
    binds: list[str],
    uds: list[str],
    fds: list[int],
    backlog: int,
    fd_names: dict[int, str] | None = None,
) -> list[Listener]:
    """Create every client-facing listener; on failure close those already made."""
    made: list[Listener] = []
    try:
        for text in binds:
            try:
                addr = parse_bind(text)
            except ValueError as exc:
                raise ListenError(str(exc)) from None
            made.append(bind_tcp(addr, backlog))
        for path in uds:
            made.append(bind_unix(path, backlog, UDS_MODE, "--uds"))
        for fd in fds:
            made.append(adopt_fd(fd, backlog, (fd_names or {}).get(fd, "")))
    except BaseException:
        close_listeners(made)
        raise
    return made


def close_listeners(listeners: list[Listener]) -> None:
    """Close the sockets and remove the UNIX socket files this process created."""
    for listener in listeners:
        with contextlib.suppress(OSError):
            listener.sock.close()
        listener.cleanup()
