"""The server's HPACK encoder (RFC 7541): static table only, no dynamic table.

:class:`StaticEncoder` stands in for h2's :class:`hpack.Encoder` on a server
connection (``H2Connection.encoder``): h2 calls :meth:`StaticEncoder.encode`
for every header block it sends and sets :attr:`StaticEncoder.header_table_size`
when the client's ``SETTINGS_HEADER_TABLE_SIZE`` changes. It is several
times cheaper than the general encoder because it keeps no dynamic table:

* a field whose name and value are in the static table is one indexed byte
  (``:status 200`` is ``0x88``); any other field is a literal *without
  indexing* (section 6.2.2), with the name by static index where the static
  table has it, and strings sent raw (no Huffman coding: bytes are cheap
  here, CPU is not);
* fields that carry credentials (``set-cookie``, ``authorization``,
  ``proxy-authorization``) are literals *never indexed* (section 6.2.3,
  7.1.3), so no intermediary puts them in a table either.

Invariants:

* Nothing is ever inserted into the client's dynamic table, so the encoding
  of a field does not depend on what was sent before: encoded fields are
  cached (a bounded dict) and reused across blocks and streams.
* The first header block of the connection, and the first one after each
  change of the client's ``SETTINGS_HEADER_TABLE_SIZE``, starts with a
  dynamic table size update to 0 (section 6.3): the client's decoder then
  knows the table is unused and never expects another update (section 4.2;
  nghttp2 requires one after a setting that shrinks its table).
"""

from __future__ import annotations

from collections.abc import Iterable

from hpack.table import HeaderTable

#: Fields sent as literals never indexed (RFC 7541 section 7.1.3).
SENSITIVE = frozenset({b"set-cookie", b"authorization", b"proxy-authorization"})
#: Encoded fields kept for reuse; the cache is emptied when it reaches this.
CACHE_SIZE = 512
#: A dynamic table size update to 0 (pattern ``001``, 5-bit prefix).
TABLE_SIZE_ZERO = b"\x20"


def _integer(value: int, prefix_bits: int, first: int) -> bytes:
    """``value`` in an N-bit prefix integer (section 5.1), ``first`` holding the flag bits."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes((first | value,))
    out = bytearray((first | limit,))
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _string(data: bytes) -> bytes:
    """A string literal without Huffman coding (section 5.2)."""
    return _integer(len(data), 7, 0x00) + data


def _static_indices() -> tuple[dict[tuple[bytes, bytes], int], dict[bytes, int]]:
    fields: dict[tuple[bytes, bytes], int] = {}
    names: dict[bytes, int] = {}
    for index, (name, value) in enumerate(HeaderTable.STATIC_TABLE, start=1):
        fields.setdefault((name, value), index)
        names.setdefault(name, index)
    return fields, names


_STATIC_FIELDS, _STATIC_NAMES = _static_indices()


def encode_field(name: bytes, value: bytes) -> bytes:
    """One header field as this encoder sends it (pure; see the module invariants)."""
    index = _STATIC_FIELDS.get((name, value))
    if index is not None:
        return _integer(index, 7, 0x80)
    flags = 0x10 if name in SENSITIVE else 0x00
    index = _STATIC_NAMES.get(name)
    if index is not None:
        return _integer(index, 4, flags) + _string(value)
    return bytes((flags,)) + _string(name) + _string(value)


class StaticEncoder:
    """h2's encoder interface over :func:`encode_field` (one per connection)."""

    __slots__ = ("_cache", "_size_update")

    def __init__(self) -> None:
        self._cache: dict[tuple[bytes, bytes], bytes] = {}
        self._size_update = True

    @property
    def header_table_size(self) -> int:
        """The dynamic table size this encoder uses: always 0."""
        return 0

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        # the client's SETTINGS_HEADER_TABLE_SIZE changed: confirm 0 again
        self._size_update = True

    def encode(self, headers: Iterable[tuple[bytes, bytes]], huffman: bool = True) -> bytes:
        """The header block of ``headers`` (``huffman`` is accepted and ignored)."""
        cache = self._cache
        parts: list[bytes] = []
        if self._size_update:
            self._size_update = False
            parts.append(TABLE_SIZE_ZERO)
        for name, value in headers:
            key = (name, value)
            encoded = cache.get(key)
            if encoded is None:
                if len(cache) >= CACHE_SIZE:
                    cache.clear()
                encoded = cache[key] = encode_field(name, value)
            parts.append(encoded)
        return b"".join(parts)
