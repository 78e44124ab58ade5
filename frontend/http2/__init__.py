"""HTTP/2 at the front (RFC 9113, RFC 7541, RFC 8441) on the ``h2`` library.

* :mod:`.limits` — every HTTP/2 limit and flood cap, with its default.
* :mod:`.core` — sans-I/O: bytes in, h2 events out, outbound bytes; SETTINGS,
  flow-control windows and the protections (GOAWAY ``ENHANCE_YOUR_CALM``).

See ``docs/http2.md``.
"""
