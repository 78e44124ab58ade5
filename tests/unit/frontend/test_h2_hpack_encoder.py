"""The static-table HPACK encoder: what a decoder (hpack's, h2's client) reads back."""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events
import hpack
import pytest
from h2.settings import SettingCodes
from h2_recorder import Recorder
from pagi.frontend.http2.core import H2Core
from pagi.frontend.http2.hpack_encoder import CACHE_SIZE, StaticEncoder, encode_field
from pagi.frontend.http2.limits import H2Limits

RESPONSE = [
    (b":status", b"200"),
    (b"content-type", b"text/plain"),
    (b"content-length", b"13"),
    (b"date", b"Thu, 03 Dec 2026 15:00:00 GMT"),
    (b"server", b"pagi"),
    (b"x-custom", b"v" * 300),  # a name outside the static table, a long value
]


def test_blocks_decode_to_the_fields_and_leave_the_table_empty() -> None:
    encoder, decoder = StaticEncoder(), hpack.Decoder()
    for _ in range(3):
        assert decoder.decode(encoder.encode(RESPONSE), raw=True) == RESPONSE
    assert len(decoder.header_table.dynamic_entries) == 0
    assert encoder.header_table_size == 0


def test_the_first_block_sets_the_table_size_to_zero_then_never_again() -> None:
    encoder = StaticEncoder()
    first, second = encoder.encode(RESPONSE), encoder.encode(RESPONSE)
    assert first[:1] == b"\x20" and first[1:] == second
    assert second[:1] == b"\x88"  # :status 200, static index 8


def test_a_table_size_setting_is_answered_by_a_size_update() -> None:
    encoder = StaticEncoder()
    encoder.encode(RESPONSE)
    encoder.header_table_size = 256
    assert encoder.encode(RESPONSE)[:1] == b"\x20"
    assert encoder.encode(RESPONSE)[:1] == b"\x88"


@pytest.mark.parametrize(
    ("name", "value", "first_byte"),
    [
        (b":status", b"404", 0x8D),  # indexed: static entry 13
        (b"content-type", b"text/html", 0x0F),  # literal without indexing, name 31 (> 14)
        (b"date", b"x", 0x0F),  # name index 33
        (b"age", b"1", 0x0F),  # name index 21
        (b":status", b"201", 0x08),  # literal without indexing, name index 8
        (b"x-new", b"1", 0x00),  # literal without indexing, new name
        (b"set-cookie", b"a=b", 0x1F),  # never indexed, name index 55
        (b"authorization", b"secret", 0x1F),  # never indexed, name index 23
        (b"x-token", b"1", 0x00),
    ],
)
def test_representations(name: bytes, value: bytes, first_byte: int) -> None:
    encoded = encode_field(name, value)
    assert encoded[0] == first_byte
    assert hpack.Decoder().decode(encoded, raw=True) == [(name, value)]


def test_never_indexed_survives_a_decoder() -> None:
    decoded = hpack.Decoder().decode(encode_field(b"set-cookie", b"a=b"), raw=False)
    assert decoded[0].indexable is False


def test_the_cache_is_bounded() -> None:
    encoder, decoder = StaticEncoder(), hpack.Decoder()
    for i in range(CACHE_SIZE * 2):
        block = [(b"x-n", str(i).encode())]
        assert decoder.decode(encoder.encode(block), raw=True) == block
    assert len(encoder._cache) <= CACHE_SIZE


def test_an_h2_client_reads_responses_after_shrinking_its_table() -> None:
    core = H2Core(H2Limits(), lambda: 0.0, Recorder())
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    client.update_settings({SettingCodes.HEADER_TABLE_SIZE: 0})
    core.receive(client.data_to_send())
    client.receive_data(core.outbound())
    core.receive(client.data_to_send())
    request = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "x")]
    for sid in (1, 3):
        client.send_headers(sid, request, end_stream=True)
        core.receive(client.data_to_send())
        core.out.send_headers(sid, RESPONSE, end_stream=True)
        events = client.receive_data(core.outbound())
        got = [e for e in events if isinstance(e, h2.events.ResponseReceived)]
        assert got and got[0].headers == RESPONSE
