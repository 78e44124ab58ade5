"""The server's HPACK decoder (RFC 7541): hpack's, with a fast path for indexed fields.

:class:`IndexedFastDecoder` is :class:`hpack.Decoder` (which h2 drives: table
size limits, ``max_header_list_size``, the error classes h2 maps to
``COMPRESSION_ERROR``) with :meth:`~IndexedFastDecoder.decode` rewritten for
how clients send repeated requests: nearly every field of a request after the
first is an *indexed* field (section 6.1), one byte naming an entry of the
static or dynamic table. Those are read here in a tight loop; literals and
table size updates are left to hpack's own methods, so the dynamic table and
every error are exactly hpack's. Invariants, as in hpack:

* a table size update after a field, or above the allowed size, is an error;
* the decoded list (each field counted as name + value + 32 octets, section
  4.1) may not exceed ``max_header_list_size``
  (:class:`hpack.OversizedHeaderListError`);
* after the block, the table is no larger than ``max_allowed_table_size``.

Fields come back as ``(name, value)`` byte tuples (h2's ``raw=True``), a
never-indexed literal as hpack's ``NeverIndexedHeaderTuple``.
"""

from __future__ import annotations

import hpack
from hpack.hpack import decode_integer
from hpack.table import HeaderTable

_STATIC = HeaderTable.STATIC_TABLE
_STATIC_LENGTH = len(_STATIC)


class IndexedFastDecoder(hpack.Decoder):
    """hpack's decoder with indexed fields read inline (one per connection)."""

    def decode(self, data: bytes, raw: bool = True) -> list[tuple[bytes, bytes]]:  # type: ignore[override]
        """The fields of the header block ``data`` (always raw bytes)."""
        headers: list[tuple[bytes, bytes]] = []
        dynamic = self.header_table.dynamic_entries
        limit = self.max_header_list_size
        size = 0
        i = 0
        end = len(data)
        while i < end:
            first = data[i]
            if first & 0x80:  # indexed field
                index = first & 0x7F
                if index == 0x7F:
                    index, consumed = decode_integer(data[i:], 7)
                else:
                    consumed = 1
                if 0 < index <= _STATIC_LENGTH:
                    field = _STATIC[index - 1]
                elif _STATIC_LENGTH < index <= _STATIC_LENGTH + len(dynamic):
                    field = dynamic[index - _STATIC_LENGTH - 1]
                else:
                    raise hpack.InvalidTableIndex(f"Invalid table index {index}")
            elif first & 0x40:  # literal with incremental indexing
                field, consumed = self._decode_literal(data[i:], should_index=True)
            elif first & 0x20:  # dynamic table size update
                if headers:
                    raise hpack.HPACKDecodingError(
                        "Table size update not at the start of the block"
                    )
                i += self._update_encoding_context(data[i:])
                continue
            else:  # literal without indexing / never indexed
                field, consumed = self._decode_literal(data[i:], should_index=False)
            i += consumed
            headers.append(field)
            size += len(field[0]) + len(field[1]) + 32
            if size > limit:
                raise hpack.OversizedHeaderListError(
                    f"A header list larger than {limit} has been received"
                )
        self._assert_valid_table_size()
        return headers
