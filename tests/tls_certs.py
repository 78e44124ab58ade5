"""Certificates made at test time (trustme): a CA, a server pair, a client pair.

Everything is written under a temporary directory as PEM files the front
reads with ``--ssl-*`` options and clients load into their ``ssl`` contexts.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme
from harness import Front, Processes


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of one CA and the certificates it issued."""

    ca: Path  # the CA certificate (trust anchor for clients and for client certs)
    server: Path  # server key + certificate chain, for --ssl-certfile
    server_cert: Path  # server certificate chain only
    server_key: Path  # server key only, for --ssl-keyfile
    client: Path  # client key + certificate chain (CN=alice)

    def client_context(self, with_cert: bool = False) -> ssl.SSLContext:
        """A client context that trusts this CA (and presents alice's certificate)."""
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if with_cert:
            ctx.load_cert_chain(str(self.client))
        return ctx

    def server_leaf_pem(self) -> str:
        """The server's own certificate (the first of its chain), as PEM."""
        return first_certificate(self.server_cert)

    def client_leaf_pem(self) -> str:
        """Alice's certificate, as PEM."""
        return first_certificate(self.client)


def first_certificate(path: Path) -> str:
    """The first certificate in a PEM file, normalised through DER."""
    text = path.read_text()
    begin = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(text[begin:end]))


def make_tls_files(directory: Path, name: str = "pagi-test") -> TlsFiles:
    """Issue a fresh CA, server (localhost, 127.0.0.1) and client certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name=name)
    server = ca.issue_cert("localhost", "127.0.0.1")
    client = ca.issue_cert("alice@example.com", common_name="alice")
    files = TlsFiles(
        ca=directory / "ca.pem",
        server=directory / "server.pem",
        server_cert=directory / "server-cert.pem",
        server_key=directory / "server-key.pem",
        client=directory / "client.pem",
    )
    ca.cert_pem.write_to_path(str(files.ca))
    server.private_key_and_cert_chain_pem.write_to_path(str(files.server))
    server.private_key_pem.write_to_path(str(files.server_key))
    files.server_cert.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    client.private_key_and_cert_chain_pem.write_to_path(str(files.client))
    return files


def tls_front(procs: Processes, files: TlsFiles, *args: str, app: str = "basic:app") -> Front:
    """A front with a ``tls://`` listener (``front.tls_port``) beside the plain one."""
    return procs.front(
        "--bind",
        "tls://127.0.0.1:0",
        "--ssl-certfile",
        str(files.server_cert),
        "--ssl-keyfile",
        str(files.server_key),
        *args,
        app=app,
    )
