"""Listener address parsing and socket creation; CLI value parsing."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest
from pagi.frontend.cli_values import parse_size
from pagi.frontend.listeners import (
    AddressInUse,
    BindAddress,
    ListenError,
    adopt_fd,
    bind_tcp,
    bind_unix,
    open_listeners,
    parse_bind,
)


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:8000", "127.0.0.1", 8000),
        ("0.0.0.0:0", "0.0.0.0", 0),
        ("localhost:65535", "localhost", 65535),
        ("[::1]:8000", "::1", 8000),
        ("[::]:80", "::", 80),
        ("[fe80::1%lo]:80", "fe80::1%lo", 80),
        (" example.com:443 ", "example.com", 443),
    ],
)
def test_parse_bind_accepts(text: str, host: str, port: int) -> None:
    assert parse_bind(text) == BindAddress(host, port)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("8000", "expected HOST:PORT"),
        ("127.0.0.1", "expected HOST:PORT"),
        (":8000", "missing host"),
        ("127.0.0.1:", "not a number"),
        ("127.0.0.1:http", "not a number"),
        ("127.0.0.1:-1", "not a number"),
        ("127.0.0.1:65536", "out of range"),
        ("::1:8000", "brackets"),
        ("[::1]8000", "expected [IPV6]:PORT"),
        ("[::1:8000", "missing ']'"),
        ("[127.0.0.1]:80", "not an IPv6 address"),
        ("bad host:80", "not a valid host"),
        ("a_b:80", "not a valid host"),
        ("127.0.0.1:٨٠", "not a number"),
    ],
)
def test_parse_bind_rejects_with_a_clear_reason(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=r"bad bind address|empty") as info:
        parse_bind(text)
    assert needle in str(info.value)


def test_bind_address_str_round_trips() -> None:
    for text in ("127.0.0.1:80", "[::1]:8000"):
        assert str(parse_bind(text)) == text


def test_bind_tcp_reports_the_real_port() -> None:
    listener = bind_tcp(parse_bind("127.0.0.1:0"), 16)
    try:
        port = listener.sock.getsockname()[1]
        assert port != 0
        assert listener.url == f"http://127.0.0.1:{port}"
        assert listener.sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        listener.sock.close()


def test_bind_tcp_ipv6_is_v6only() -> None:
    assert socket.has_ipv6, "this Python has no IPv6 support; --bind [::1]:PORT cannot be tested"
    listener = bind_tcp(parse_bind("[::1]:0"), 16)
    try:
        assert listener.url.startswith("http://[::1]:")
        assert listener.sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
    finally:
        listener.sock.close()


def test_bind_tcp_in_use_is_a_listen_error() -> None:
    first = bind_tcp(parse_bind("127.0.0.1:0"), 16)
    try:
        port = first.sock.getsockname()[1]
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind_tcp(parse_bind(f"127.0.0.1:{port}"), 16)
    finally:
        first.sock.close()


def test_bind_unix_mode_stale_file_and_cleanup(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sock")
    # A stale socket file (nobody listening) is replaced.
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()
    listener = bind_unix(path, 16, 0o666)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666
    assert listener.url == f"unix:{path}"
    # A live one is refused.
    with pytest.raises(AddressInUse, match="in use"):
        bind_unix(path, 16, 0o666)
    listener.sock.close()
    listener.cleanup()
    assert not os.path.exists(path)


def test_bind_unix_never_removes_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("precious")
    with pytest.raises(ListenError, match="not a socket"):
        bind_unix(str(path), 16, 0o666)
    assert path.read_text() == "precious"


def test_bind_unix_path_too_long(tmp_path: Path) -> None:
    with pytest.raises(ListenError, match="longer than 107"):
        bind_unix(str(tmp_path / ("x" * 120)), 16, 0o666)


def test_adopt_fd_listens_on_an_inherited_socket() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    fd = sock.detach()
    listener = adopt_fd(fd, 16)
    try:
        assert listener.url == f"http://127.0.0.1:{port}"
        assert listener.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    finally:
        listener.sock.close()


def test_adopt_fd_rejects_non_sockets() -> None:
    r, w = os.pipe()
    try:
        with pytest.raises(ListenError, match=f"--fd {r}"):
            adopt_fd(r, 16)
        os.fstat(r)  # still open: not ours to close
    finally:
        os.close(r)
        os.close(w)


def test_open_listeners_closes_what_it_made_on_failure(tmp_path: Path) -> None:
    good = tmp_path / "good.sock"
    with pytest.raises(ListenError, match="missing"):
        open_listeners(["127.0.0.1:0"], [str(good), str(tmp_path / "missing" / "x.sock")], [], 16)
    assert not good.exists()


def test_open_listeners_reports_a_bad_bind() -> None:
    with pytest.raises(ListenError, match="bad bind address"):
        open_listeners(["nope"], [], [], 16)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("65536", 65536),
        ("64K", 65536),
        ("64k", 65536),
        ("10M", 10 << 20),
        ("1G", 1 << 30),
        ("2MiB", 2 << 20),
        ("3KB", 3072),
        (" 5 ", 5),
    ],
)
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "x", "1.5M", "-1", "10X", "1T", "M"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)
