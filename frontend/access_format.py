"""``--access-log-format``: a user-chosen shape for the access line.

A template is text with ``{field}`` placeholders (``{{``/``}}`` for literal
braces); a numeric field may carry a format spec, e.g. ``{duration_ms:.3f}``.
The fields (documented in ``docs/cli.md``):

=================  =====================================================
``client``         client ``host:port`` (``[v6]:port``; ``-`` on a UNIX socket)
``method``         request method
``target``         request-target as sent (non-printable bytes as ``\\xNN``)
``http_version``   ``1.1``, ``1.0``
``request_line``   ``METHOD TARGET HTTP/VERSION``
``status``         status sent (``499``: client left before any response)
``bytes``          response body bytes sent
``duration_ms``    milliseconds, head parsed to last byte written (float)
``duration_s``     the same in seconds (float)
``worker``         the worker that served it, ``-`` if the front answered
=================  =====================================================

:func:`compile_format` checks a template once at startup (unknown field, bad
spec: :class:`ValueError` naming it) so a line never fails to format later.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

FIELDS = (
    "client",
    "method",
    "target",
    "http_version",
    "request_line",
    "status",
    "bytes",
    "duration_ms",
    "duration_s",
    "worker",
)

DEFAULT_FORMAT = '{client} - "{request_line}" {status} {bytes} {duration_ms:.1f}ms worker={worker}'

_SAMPLE: dict[str, object] = {
    "client": "127.0.0.1:50312",
    "method": "GET",
    "target": "/",
    "http_version": "1.1",
    "request_line": "GET / HTTP/1.1",
    "status": 200,
    "bytes": 5,
    "duration_ms": 0.8,
    "duration_s": 0.0008,
    "worker": "app:app #1",
}


@dataclass(frozen=True, slots=True)
class AccessFormat:
    """A checked template; :meth:`render` fills it for one request."""

    template: str

    def render(self, values: dict[str, object]) -> str:
        return self.template.format_map(values)


def compile_format(template: str) -> AccessFormat:
    """Check ``template``; :class:`ValueError` names the first bad placeholder."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"{exc} (write {{{{ and }}}} for literal braces)") from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS:
            raise ValueError(f"unknown field {{{name}}}; known fields: " + ", ".join(FIELDS))
        if conversion:
            raise ValueError(f"{{{name}!{conversion}}}: conversions are not supported")
        try:
            format(_SAMPLE[name], spec or "")
        except ValueError as exc:
            raise ValueError(f"{{{name}:{spec}}}: {exc}") from None
    return AccessFormat(template)
