"""TLS for the benchmarks (``bench/run.sh --tls``): a throwaway pair and client contexts.

``throwaway_pair(directory)`` writes a self-signed P-256 certificate for
``127.0.0.1`` (valid one day) and its key with the ``openssl`` command line,
so the bench needs no package for it. Every server under test is given the
same pair; the clients (wrk, h2load, curl, ``bench.clients``) do not verify
it: the point is what the encryption costs the server, not the trust chain.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TLSPair:
    """PEM files of one self-signed server certificate and its key."""

    certfile: Path
    keyfile: Path


def throwaway_pair(directory: Path) -> TLSPair:
    """Write ``cert.pem`` and ``key.pem`` (P-256, CN and SAN 127.0.0.1) into ``directory``."""
    pair = TLSPair(directory / "cert.pem", directory / "key.pem")
    argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    argv += ["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    argv += ["-addext", "subjectAltName=IP:127.0.0.1"]
    argv += ["-keyout", str(pair.keyfile), "-out", str(pair.certfile)]
    subprocess.run(argv, check=True, capture_output=True)
    return pair


def client_context(alpn: list[str] | None = None) -> ssl.SSLContext:
    """A client context that accepts any server certificate (bench traffic only)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def wrap(sock: socket.socket) -> ssl.SSLSocket:
    """``sock`` after a TLS handshake offering HTTP/1.1 only."""
    return client_context(["http/1.1"]).wrap_socket(sock, server_hostname="127.0.0.1")
