"""The PAGI ``tls`` scope extension for one TLS connection (PAGI::Spec::Tls 0.3).

:func:`tls_extension` runs once per connection, after the handshake, and
returns a plain dict of msgpack-friendly values that travels to the worker in
OPEN's ``extras["extensions"]["tls"]``; the worker puts it into
``scope["extensions"]["tls"]`` as is. Keys:

* ``server_cert`` — PEM of the certificate the server presented (str or None);
* ``client_cert_chain`` — PEM certificates the client sent, leaf first
  (empty when it sent none);
* ``client_cert_name`` — the leaf's subject as an RFC 4514 string, or None;
* ``client_cert_error`` — always None: a client certificate that fails
  verification fails the handshake, so no connection carries one;
* ``tls_version`` — ``0x0303`` (TLS 1.2) or ``0x0304`` (TLS 1.3);
* ``cipher_suite`` — the IANA code point of the negotiated suite, e.g. ``0x1301``;
* ``server_name`` — the SNI name the client asked for, or None (a pagi
  addition: the spec does not name it).

:func:`transport_tls` finds the handshake of a transport; a cleartext
transport has none, and then the scope carries no ``tls`` key at all.
"""

from __future__ import annotations

import ssl
from typing import Any, Protocol

from .contexts import SNI_ATTRIBUTE, ServerContext

TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}

#: RFC 4514 section 3: the attribute types written by their short names.
_SHORT_NAMES = {
    "commonName": "CN",
    "localityName": "L",
    "stateOrProvinceName": "ST",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "streetAddress": "STREET",
    "domainComponent": "DC",
    "userId": "UID",
}


class HasExtraInfo(Protocol):
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


#: OPEN's ``extras`` of a cleartext connection (shared, never modified).
NO_EXTRAS: dict[str, Any] = {}


def scope_extras(transport: HasExtraInfo) -> dict[str, Any]:
    """OPEN's ``extras`` for a connection: the ``tls`` extension on TLS, else none."""
    tls = transport_tls(transport)
    return NO_EXTRAS if tls is None else {"extensions": {"tls": tls}}


def transport_tls(transport: HasExtraInfo) -> dict[str, Any] | None:
    """The ``tls`` extension for the connection on ``transport``; None on cleartext."""
    ssl_object = transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject):
        return None
    return tls_extension(ssl_object)


def tls_extension(ssl_object: ssl.SSLObject) -> dict[str, Any]:
    """The extension's dict for a server-side SSLObject whose handshake is done."""
    ctx = ssl_object.context
    server_cert = ctx.server_cert if isinstance(ctx, ServerContext) else None
    cipher = ssl_object.cipher()
    cipher_suite = None
    if cipher is not None and isinstance(ctx, ServerContext):
        cipher_suite = ctx.cipher_ids.get(cipher[0])
    chain = client_chain(ssl_object)
    name = None
    if chain:
        peer = ssl_object.getpeercert()
        if peer:
            name = rfc4514_name(peer.get("subject", ()))
    return {
        "server_cert": server_cert,
        "client_cert_chain": chain,
        "client_cert_name": name,
        "client_cert_error": None,
        "tls_version": TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": cipher_suite,
        "server_name": getattr(ssl_object, SNI_ATTRIBUTE, None),
    }


def client_chain(ssl_object: ssl.SSLObject) -> list[str]:
    """PEM certificates the client sent, leaf first.

    Python 3.13 offers ``get_unverified_chain()``; earlier versions have it on
    the private ``_sslobj`` only, and without it the leaf alone is reported.
    """
    leaf = ssl_object.getpeercert(binary_form=True)
    if not leaf:
        return []
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    pems: list[str] = []
    for cert in (getter() if getter is not None else None) or ():
        if isinstance(cert, bytes):
            pems.append(ssl.DER_cert_to_PEM_cert(cert))
        elif cert is not None:
            pems.append(cert.public_bytes())
    return pems or [ssl.DER_cert_to_PEM_cert(leaf)]


def rfc4514_name(subject: Any) -> str | None:
    """A distinguished name as ``getpeercert()`` gives it, written per RFC 4514.

    RDNs are written last first, separated by ``,``; the values of a
    multi-valued RDN are joined by ``+``. Types without an RFC 4514 short name
    keep the long name Python reports (e.g. ``emailAddress``).
    """
    rdns: list[str] = []
    for rdn in subject:
        parts = [f"{_SHORT_NAMES.get(key, key)}={_escape(value)}" for key, value in rdn]
        rdns.append("+".join(parts))
    return ",".join(reversed(rdns)) or None


def _escape(value: str) -> str:
    out = []
    for i, ch in enumerate(value):
        if ch in ',+"\\<>;' or (ch == "#" and i == 0) or (ch == " " and i in (0, len(value) - 1)):
            out.append("\\" + ch)
        elif ch == "\x00":
            out.append("\\00")
        else:
            out.append(ch)
    return "".join(out)
