"""The fast-path HPACK decoder against hpack's own, block by block, errors included."""

from __future__ import annotations

import random

import hpack
import pytest
from pagi.frontend.http2.hpack_decoder import IndexedFastDecoder

FIELDS = [
    (b":method", b"GET"),
    (b":path", b"/"),
    (b":scheme", b"https"),
    (b":authority", b"example.com"),
    (b"accept", b"*/*"),
    (b"user-agent", b"test/1.0"),
    (b"cookie", b"a=1"),
    (b"x-long", b"v" * 300),
]


def _blocks(seed: int) -> list[bytes]:
    """Header blocks from hpack's encoder: indexed, literal, Huffman, table size updates."""
    rnd = random.Random(seed)
    encoder = hpack.Encoder()
    blocks = []
    for n in range(60):
        if n % 17 == 5:
            encoder.header_table_size = rnd.choice([0, 256, 4096])
        fields = rnd.sample(FIELDS, rnd.randint(1, len(FIELDS)))
        fields.append((b"x-n", str(rnd.randint(0, 5)).encode()))
        blocks.append(encoder.encode(fields, huffman=rnd.random() < 0.5))
    return blocks


@pytest.mark.parametrize("seed", range(5))
def test_same_fields_and_table_as_hpack(seed: int) -> None:
    ours, theirs = IndexedFastDecoder(), hpack.Decoder()
    for block in _blocks(seed):
        assert ours.decode(block, raw=True) == theirs.decode(block, raw=True)
        assert ours.header_table.dynamic_entries == theirs.header_table.dynamic_entries


@pytest.mark.parametrize(
    ("block", "error"),
    [
        (b"\xbe", hpack.InvalidTableIndex),  # index 62: empty dynamic table
        (b"\x80", hpack.InvalidTableIndex),  # index 0
        (b"\xff", hpack.HPACKDecodingError),  # truncated integer
        (b"\xff\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", hpack.HPACKDecodingError),  # huge index
        (b"\x82\x20", hpack.HPACKDecodingError),  # size update after a field
        (b"\x3f\xe2\x1f", hpack.InvalidTableSizeError),  # size update above the limit
        (b"\x00\x05ab", hpack.HPACKDecodingError),  # truncated name
    ],
)
def test_errors_are_hpacks(block: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        IndexedFastDecoder().decode(block, raw=True)
    with pytest.raises(error):
        hpack.Decoder().decode(block, raw=True)


def test_the_header_list_limit() -> None:
    block = hpack.Encoder().encode([(b"x-a", b"v" * 100)] * 3)
    decoder = IndexedFastDecoder()
    decoder.max_header_list_size = 400  # three fields of 3 + 100 + 32 = 405
    with pytest.raises(hpack.OversizedHeaderListError):
        decoder.decode(block, raw=True)
    repeated = IndexedFastDecoder()
    repeated.max_header_list_size = 300
    repeated.decode(hpack.Encoder().encode([(b"x-a", b"v" * 100)]), raw=True)
    with pytest.raises(hpack.OversizedHeaderListError):  # indexed fields count too
        repeated.decode(b"\xbe\xbe\xbe", raw=True)
