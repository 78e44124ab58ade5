"""TLS pieces without processes: bind prefixes, contexts, RFC 4514 names."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pagi.frontend.config import FrontConfig
from pagi.frontend.listeners import parse_bind
from pagi.frontend.tls.contexts import (
    CertReqs,
    ServerContexts,
    TlsConfigError,
    TlsSettings,
    build_context,
    tls_settings,
)
from pagi.frontend.tls.scope_info import rfc4514_name
from tls_certs import TlsFiles


def test_parse_bind_tls_prefix() -> None:
    addr = parse_bind("tls://0.0.0.0:8443")
    assert (addr.host, addr.port, addr.tls) == ("0.0.0.0", 8443, True)
    assert str(addr) == "tls://0.0.0.0:8443"
    assert parse_bind("TLS://[::1]:443").tls
    assert not parse_bind("127.0.0.1:80").tls
    with pytest.raises(ValueError, match="the only prefix allowed is tls://"):
        parse_bind("https://0.0.0.0:443")


def test_default_bind_with_certificate() -> None:
    assert FrontConfig(ssl_certfile="c.pem").listen_addresses() == ["tls://127.0.0.1:8000"]
    assert FrontConfig().listen_addresses() == ["127.0.0.1:8000"]


def test_context_defaults(tls_files: TlsFiles) -> None:
    ctx = build_context(TlsSettings(str(tls_files.server)))
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.verify_mode == ssl.CERT_NONE
    assert ctx.options & ssl.OP_NO_COMPRESSION
    assert ctx.server_cert == tls_files.server_leaf_pem()
    assert ctx.cipher_ids["TLS_AES_128_GCM_SHA256"] == 0x1301


def test_context_errors_name_the_option(tls_files: TlsFiles, tmp_path: Path) -> None:
    with pytest.raises(TlsConfigError, match="no such file"):
        build_context(TlsSettings(str(tmp_path / "missing.pem")))
    with pytest.raises(TlsConfigError, match="--ssl-cert-reqs required needs --ssl-ca-certs"):
        build_context(TlsSettings(str(tls_files.server), cert_reqs=CertReqs.required))
    with pytest.raises(TlsConfigError, match="--ssl-ciphers 'NOPE': no cipher matches"):
        build_context(TlsSettings(str(tls_files.server), ciphers="NOPE"))
    # the key of another certificate
    with pytest.raises(TlsConfigError, match="cannot load the certificate and key"):
        build_context(TlsSettings(str(tls_files.server_cert), keyfile=str(tls_files.client)))
    with pytest.raises(TlsConfigError, match="needs --ssl-certfile"):
        tls_settings(FrontConfig())


def test_reload_keeps_old_context_on_failure(tls_files: TlsFiles, tmp_path: Path) -> None:
    cert = tmp_path / "server.pem"
    cert.write_bytes(tls_files.server.read_bytes())
    contexts = ServerContexts(TlsSettings(str(cert)))
    first = contexts.current
    cert.write_text("broken\n")
    assert contexts.reload() is False
    assert contexts.current is first
    cert.write_bytes(tls_files.server.read_bytes())
    assert contexts.reload() is True
    assert contexts.current is not first


def test_rfc4514_name() -> None:
    subject = (
        (("countryName", "DE"),),
        (("organizationName", "Acme, Inc."),),
        (("commonName", " Bob+Ann "), ("userId", "b1")),
        (("emailAddress", "#x"),),
    )
    assert rfc4514_name(subject) == (
        "emailAddress=\\#x,CN=\\ Bob\\+Ann\\ +UID=b1,O=Acme\\, Inc.,C=DE"
    )
    assert rfc4514_name(()) is None
