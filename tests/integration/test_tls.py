"""TLS listeners: handshakes, the scope's tls extension, client certificates, reload.

Real certificates are made at test time (``tls_certs``); the clients are httpx,
websockets and raw sockets with the standard ``ssl`` module.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import ssl
import time
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
import websockets
from harness import Processes, recv_until_close, status_of
from tls_certs import TlsFiles, make_tls_files, tls_front


def get_json(url: str, verify: ssl.SSLContext | bool) -> dict[str, Any]:
    with httpx.Client(verify=verify) as client:
        response = client.get(url)
        assert response.status_code == 200
        data: dict[str, Any] = response.json()
        return data


def test_https_scope_and_tls_extension(procs: Processes, tls_files: TlsFiles) -> None:
    front = tls_front(procs, tls_files, app="tls_app:app")
    secure = get_json(f"https://localhost:{front.tls_port}/", tls_files.client_context())
    assert secure["scheme"] == "https"
    assert secure["has_tls"] is True
    tls = secure["tls"]
    assert tls["tls_version"] == 0x0304  # TLS 1.3 preferred
    assert tls["cipher_suite"] in (0x1301, 0x1302, 0x1303)
    assert tls["server_cert"] == tls_files.server_leaf_pem()
    assert tls["client_cert_chain"] == []
    assert tls["client_cert_name"] is None
    assert tls["client_cert_error"] is None
    assert tls["server_name"] == "localhost"
    # The cleartext listener of the same front: no tls key at all.
    plain = get_json(front.url + "/", False)
    assert plain["scheme"] == "http"
    assert plain["has_tls"] is False


def test_tls12_client_gets_tls12_values(procs: Processes, tls_files: TlsFiles) -> None:
    front = tls_front(procs, tls_files, app="tls_app:app")
    ctx = tls_files.client_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")
    tls = get_json(front.tls_url + "/", ctx)["tls"]
    assert tls["tls_version"] == 0x0303
    assert tls["cipher_suite"] in (0xC02B, 0xC02F)
    assert tls["server_name"] is None  # an IP address is never sent as SNI


def test_tls11_client_is_refused(procs: Processes, tls_files: TlsFiles) -> None:
    front = tls_front(procs, tls_files, "--log-level", "debug", app="tls_app:app")
    ctx = tls_files.client_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    with (
        pytest.raises((ssl.SSLError, OSError)),
        socket.create_connection(("127.0.0.1", front.tls_port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost"),
    ):
        pass
    front.wait_for_log(r"TLS handshake failed")
    assert get_json(front.tls_url + "/", tls_files.client_context())["has_tls"]


def test_client_certificate_required(procs: Processes, tls_files: TlsFiles) -> None:
    front = tls_front(
        procs,
        tls_files,
        "--ssl-ca-certs",
        str(tls_files.ca),
        "--ssl-cert-reqs",
        "required",
        "--log-level",
        "debug",
        app="tls_app:app",
    )
    tls = get_json(front.tls_url + "/", tls_files.client_context(with_cert=True))["tls"]
    chain = tls["client_cert_chain"]
    assert chain and chain[0].startswith("-----BEGIN CERTIFICATE-----")
    assert chain[0] == tls_files.client_leaf_pem()
    assert tls["client_cert_name"].startswith("CN=alice,OU=Testing cert #")
    assert tls["client_cert_name"].endswith(",O=trustme v" + trustme.__version__)
    assert tls["client_cert_error"] is None
    # Without a certificate the handshake fails (TLS 1.3 reports it on first read).
    with pytest.raises(httpx.TransportError):
        get_json(front.tls_url + "/", tls_files.client_context())
    front.wait_for_log(r"TLS handshake failed")
    # ... and the front carries on.
    assert get_json(front.tls_url + "/", tls_files.client_context(with_cert=True))["has_tls"]


def test_client_certificate_optional(procs: Processes, tls_files: TlsFiles, tmp_path: Path) -> None:
    front = tls_front(
        procs,
        tls_files,
        "--ssl-ca-certs",
        str(tls_files.ca),
        "--ssl-cert-reqs",
        "optional",
        "--log-level",
        "debug",
        app="tls_app:app",
    )
    without = get_json(front.tls_url + "/", tls_files.client_context())["tls"]
    assert without["client_cert_chain"] == [] and without["client_cert_name"] is None
    with_cert = get_json(front.tls_url + "/", tls_files.client_context(with_cert=True))["tls"]
    assert with_cert["client_cert_name"].startswith("CN=alice,")
    assert with_cert["client_cert_error"] is None
    # A certificate that fails verification: ``client_cert_error`` cannot carry
    # it, because OpenSSL (through Python's ``ssl``, which offers no verify
    # callback) ends the handshake, even with ``optional``; the reason is logged.
    stranger = make_tls_files(tmp_path / "other", "another-ca")
    ctx = tls_files.client_context()  # trusts the server ...
    ctx.load_cert_chain(str(stranger.client))  # ... presents a certificate it cannot verify
    with pytest.raises(httpx.TransportError):
        get_json(front.tls_url + "/", ctx)
    front.wait_for_log(r"TLS handshake failed: CERTIFICATE_VERIFY_FAILED \(.+\)")
    # No scope was made for it, and the front goes on.
    assert get_json(front.tls_url + "/", tls_files.client_context(with_cert=True))["has_tls"]


def test_plain_http_on_tls_port_gets_400(procs: Processes, tls_files: TlsFiles) -> None:
    front = tls_front(procs, tls_files, app="tls_app:app")
    with socket.create_connection(("127.0.0.1", front.tls_port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        response = recv_until_close(sock)
    assert status_of(response) == 400
    assert b"plain HTTP request was sent to an HTTPS port" in response
    assert b"connection: close" in response
    front.wait_for_log(r"400 plain HTTP on a TLS port")


@pytest.mark.parametrize("first", [b"", b"\x16\x03\x01"], ids=["silent", "partial-hello"])
def test_stalled_handshake_is_closed(procs: Processes, tls_files: TlsFiles, first: bytes) -> None:
    front = tls_front(
        procs,
        tls_files,
        "--ssl-handshake-timeout",
        "0.5",
        "--log-level",
        "debug",
        app="tls_app:app",
    )
    with socket.create_connection(("127.0.0.1", front.tls_port), timeout=5) as sock:
        if first:
            sock.sendall(first)
        started = time.monotonic()
        assert recv_until_close(sock) == b""
        assert time.monotonic() - started < 4.0
    front.wait_for_log(r"TLS handshake (not started within|failed)")
    # Other clients were served all along.
    assert get_json(front.tls_url + "/", tls_files.client_context())["has_tls"]


def test_garbage_on_tls_port_is_closed(procs: Processes, tls_files: TlsFiles) -> None:
    front = tls_front(procs, tls_files, "--log-level", "debug", app="tls_app:app")
    with socket.create_connection(("127.0.0.1", front.tls_port), timeout=5) as sock:
        sock.sendall(b"\x00\x01\x02garbage")
        assert recv_until_close(sock) == b""
    front.wait_for_log(r"not a TLS handshake \(first byte 0x00\)")


def test_wss_scope(procs: Processes, tls_files: TlsFiles) -> None:
    front = tls_front(procs, tls_files, app="tls_app:app")

    async def talk() -> dict[str, Any]:
        async with websockets.connect(
            f"wss://localhost:{front.tls_port}/ws", ssl=tls_files.client_context()
        ) as ws:
            data: dict[str, Any] = json.loads(await ws.recv())
            return data

    info = asyncio.run(talk())
    assert info["type"] == "websocket"
    assert info["scheme"] == "wss"
    assert info["has_tls"] and info["tls"]["server_name"] == "localhost"


def test_sighup_reloads_certificate_without_dropping(
    procs: Processes, tls_files: TlsFiles, tmp_path: Path
) -> None:
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(tls_files.server_cert, live / "cert.pem")
    shutil.copy(tls_files.server_key, live / "key.pem")
    front = procs.front(
        "--bind",
        "tls://127.0.0.1:0",
        "--ssl-certfile",
        str(live / "cert.pem"),
        "--ssl-keyfile",
        str(live / "key.pem"),
        app="tls_app:app",
    )
    other = make_tls_files(tmp_path / "other", name="pagi-other")
    with httpx.Client(verify=tls_files.client_context()) as old_client:
        assert old_client.get(front.tls_url + "/").status_code == 200
        # A reload with a broken file keeps the old pair.
        (live / "cert.pem").write_text("not a certificate\n")
        front.signal(signal.SIGHUP)
        front.wait_for_log(r"TLS reload failed, keeping the previous certificate")
        assert get_json(front.tls_url + "/", tls_files.client_context())["has_tls"]
        # The new pair is used by the next handshake...
        shutil.copy(other.server_cert, live / "cert.pem")
        shutil.copy(other.server_key, live / "key.pem")
        front.signal(signal.SIGHUP)
        front.wait_for_log(r"TLS certificate and key reloaded")
        fresh = get_json(front.tls_url + "/", other.client_context())
        assert fresh["tls"]["server_cert"] == other.server_leaf_pem()
        with pytest.raises(httpx.ConnectError):
            get_json(front.tls_url + "/", tls_files.client_context())
        # ... while the connection made before the reload goes on with the old one.
        response = old_client.get(front.tls_url + "/")
        assert response.status_code == 200
        assert response.json()["tls"]["server_cert"] == tls_files.server_leaf_pem()
    assert front.popen.poll() is None


def test_tls_bind_needs_certificate(procs: Processes) -> None:
    front = procs.front("--bind", "tls://127.0.0.1:0", app="tls_app:app", wait=False)
    assert front.wait(15) == 2
    assert "needs a certificate: give --ssl-certfile" in front.logs()


def test_certificate_needs_tls_bind(procs: Processes, tls_files: TlsFiles) -> None:
    front = procs.front("--ssl-certfile", str(tls_files.server), app="tls_app:app", wait=False)
    assert front.wait(15) == 2
    assert "prefix one with tls://" in front.logs()


def test_unreadable_certificate_stops_the_front(procs: Processes, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("nothing here\n")
    front = procs.front(
        "--bind", "tls://127.0.0.1:0", "--ssl-certfile", str(bad), app="tls_app:app", wait=False
    )
    assert front.wait(15) == 1
    assert f"--ssl-certfile {bad}: cannot load the certificate and key" in front.logs()


def test_failed_handshakes_leave_no_descriptor_behind(
    procs: Processes, tls_files: TlsFiles
) -> None:
    front = tls_front(procs, tls_files, "--ssl-handshake-timeout", "0.5", app="tls_app:app")
    assert get_json(front.tls_url + "/", tls_files.client_context())["has_tls"]
    fd_dir = f"/proc/{front.pid}/fd"
    before = len(os.listdir(fd_dir))
    untrusting = ssl.create_default_context()  # does not trust the test CA
    for i in range(30):
        with socket.create_connection(("127.0.0.1", front.tls_port), timeout=5) as sock:
            kind = i % 3
            if kind == 0:
                sock.sendall(b"\x16\x03\x01\x00\x05junk!")  # a broken ClientHello
            elif kind == 1:
                sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")  # plain HTTP
            else:
                with pytest.raises(ssl.SSLError):
                    untrusting.wrap_socket(sock, server_hostname="localhost")
                continue
            recv_until_close(sock)
    # a few stalled ones, left to the timeout
    stalled = [socket.create_connection(("127.0.0.1", front.tls_port)) for _ in range(5)]
    time.sleep(1.5)
    for sock in stalled:
        sock.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(os.listdir(fd_dir)) > before:
        time.sleep(0.1)
    assert len(os.listdir(fd_dir)) <= before
    assert get_json(front.tls_url + "/", tls_files.client_context())["has_tls"]
