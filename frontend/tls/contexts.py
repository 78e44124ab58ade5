"""Server-side :class:`ssl.SSLContext` objects built from the ``--ssl-*`` options.

Choices (``docs/tls.md``):

* TLS 1.2 is the minimum; TLS 1.3 is preferred (OpenSSL picks the highest
  version both sides offer). Compression and renegotiation are off, the
  server's cipher order wins, and ``--ssl-ciphers`` (OpenSSL syntax) narrows
  the TLS 1.2 suites only (TLS 1.3 suites are not configurable this way).
* Client certificates: ``none`` never asks for one, ``optional`` asks and
  verifies one if sent (a certificate that fails verification fails the
  handshake), ``required`` fails the handshake without a valid one. Both need
  ``--ssl-ca-certs``.
* ALPN offers what the listener speaks (``h2`` first when HTTP/2 is on, then
  ``http/1.1``); a client that offers neither still connects with HTTP/1.1.
* The server name a client asked for (SNI) is recorded on its
  :class:`ssl.SSLObject` for the scope; one certificate serves every name.

:class:`ServerContexts` holds the current context and :meth:`~ServerContexts.reload`
builds a new one from the same files: a handshake that starts afterwards uses
the new certificate and key, connections already set up keep theirs. A reload
that fails (unreadable file, key not matching) logs the reason and keeps the
old context.
"""

from __future__ import annotations

import enum
import logging
import re
import ssl
from dataclasses import dataclass

from ..config import FrontConfig

logger = logging.getLogger("pagi.front")

#: Attribute set on a server-side SSLObject by the SNI callback.
SNI_ATTRIBUTE = "pagi_server_name"

_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----\s.+?-----END CERTIFICATE-----", re.DOTALL)


class CertReqs(enum.StrEnum):
    """``--ssl-cert-reqs``: whether a client certificate is asked for."""

    none = "none"
    optional = "optional"
    required = "required"


_VERIFY_MODES = {
    CertReqs.none: ssl.CERT_NONE,
    CertReqs.optional: ssl.CERT_OPTIONAL,
    CertReqs.required: ssl.CERT_REQUIRED,
}


class TlsConfigError(Exception):
    """A context could not be built; the message names the option and the reason."""


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """What a server context is built from (the ``--ssl-*`` options)."""

    certfile: str
    keyfile: str | None = None
    keyfile_password: str | None = None
    ca_certs: str | None = None
    cert_reqs: CertReqs = CertReqs.none
    ciphers: str | None = None
    alpn: tuple[str, ...] = ("http/1.1",)


def tls_settings(config: FrontConfig, alpn: tuple[str, ...] = ("http/1.1",)) -> TlsSettings:
    """The ``--ssl-*`` options as :class:`TlsSettings`; raises :class:`TlsConfigError`."""
    if not config.ssl_certfile:
        raise TlsConfigError("a tls:// --bind needs --ssl-certfile (and usually --ssl-keyfile)")
    return TlsSettings(
        certfile=config.ssl_certfile,
        keyfile=config.ssl_keyfile,
        keyfile_password=config.ssl_keyfile_password,
        ca_certs=config.ssl_ca_certs,
        cert_reqs=CertReqs(config.ssl_cert_reqs),
        ciphers=config.ssl_ciphers,
        alpn=alpn,
    )


class ServerContext(ssl.SSLContext):
    """An :class:`ssl.SSLContext` that also knows what the ``tls`` extension reports.

    ``server_cert`` is the PEM of the certificate this context presents (the
    first one in ``--ssl-certfile``); ``cipher_ids`` maps OpenSSL cipher names
    to their IANA 16-bit code points.
    """

    server_cert: str | None
    cipher_ids: dict[str, int]


def _record_server_name(ssl_object: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
    setattr(ssl_object, SNI_ATTRIBUTE, name)


def build_context(settings: TlsSettings) -> ServerContext:
    """A fresh server context for ``settings``; raises :class:`TlsConfigError`."""
    ctx = ServerContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.options |= getattr(ssl, "OP_NO_RENEGOTIATION", 0)
    try:
        ctx.load_cert_chain(settings.certfile, settings.keyfile, settings.keyfile_password)
    except FileNotFoundError as exc:
        raise TlsConfigError(
            f"--ssl-certfile/--ssl-keyfile: {exc.filename}: no such file"
        ) from None
    except (ssl.SSLError, OSError) as exc:
        raise TlsConfigError(
            f"--ssl-certfile {settings.certfile}"
            + (f" / --ssl-keyfile {settings.keyfile}" if settings.keyfile else "")
            + f": cannot load the certificate and key ({_reason(exc)})"
        ) from None
    if settings.cert_reqs is not CertReqs.none:
        if not settings.ca_certs:
            raise TlsConfigError(f"--ssl-cert-reqs {settings.cert_reqs.value} needs --ssl-ca-certs")
        try:
            ctx.load_verify_locations(cafile=settings.ca_certs)
        except (ssl.SSLError, OSError) as exc:
            raise TlsConfigError(
                f"--ssl-ca-certs {settings.ca_certs}: cannot load ({_reason(exc)})"
            ) from None
    ctx.verify_mode = _VERIFY_MODES[settings.cert_reqs]
    if settings.ciphers:
        try:
            ctx.set_ciphers(settings.ciphers)
        except ssl.SSLError:
            raise TlsConfigError(f"--ssl-ciphers {settings.ciphers!r}: no cipher matches") from None
    ctx.set_alpn_protocols(list(settings.alpn))
    ctx.sni_callback = _record_server_name
    ctx.server_cert = _first_certificate(settings.certfile)
    ctx.cipher_ids = {c["name"]: c["id"] & 0xFFFF for c in ctx.get_ciphers()}
    return ctx


def _first_certificate(path: str) -> str | None:
    """The first certificate of a PEM file, normalised; None if it has none."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            match = _PEM_CERT.search(f.read())
    except OSError:
        return None
    if match is None:
        return None
    try:
        return ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(match.group(0)))
    except ValueError:
        return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason.lower().replace("_", " ")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


class ServerContexts:
    """The current server context of every TLS listener, replaced on reload."""

    __slots__ = ("current", "settings")

    def __init__(self, settings: TlsSettings) -> None:
        self.settings = settings
        self.current = build_context(settings)

    def reload(self) -> bool:
        """Rebuild from the same files; True if the new context is in use."""
        try:
            fresh = build_context(self.settings)
        except TlsConfigError as exc:
            logger.error("TLS reload failed, keeping the previous certificate: %s", exc)
            return False
        self.current = fresh
        logger.info("TLS certificate and key reloaded from %s", self.settings.certfile)
        return True
