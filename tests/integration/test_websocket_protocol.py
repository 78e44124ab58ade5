"""RFC 6455 enforcement by the front, with hand-built frames from a raw socket.

Every violation gets its close frame (1002 protocol error, 1007 invalid UTF-8,
1008 queue overflow, 1009 too big) and then the TCP close; the app hears the
same code in ``websocket.disconnect``; valid messages that preceded the
violation are still delivered and answered first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from harness import Front, Processes
from ws_raw import BINARY, CLOSE, CONT, PING, PONG, TEXT, RawWS, close_payload, deflate, frame
from ws_recorded import events, wait_event

KiB = 1024
MiB = 1024 * KiB


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    procs = Processes(tmp_path_factory.mktemp("wsproto"))
    try:
        yield procs.front("--ws-max-size", "1M", "--ws-max-queue", "64K", app="ws_e2e_app:app")
    finally:
        procs.cleanup()


def expect_failure(ws: RawWS, code: int) -> list[Any]:
    """The server's close frame carries ``code`` and the TCP connection ends."""
    before, close = ws.recv_close()
    assert close is not None, f"no close frame (frames before: {before})"
    assert close.close_code == code, (close, before)
    assert ws.closed_by_server()
    return before


@pytest.fixture(autouse=True)
def _clear(front: Front) -> None:
    events(front)


@pytest.mark.parametrize("rsv", [4, 2, 1])
def test_reserved_bits_without_an_extension_are_1002(front: Front, rsv: int) -> None:
    ws = RawWS(front.port)
    ws.send_frame(TEXT, b"hello", rsv=rsv)
    expect_failure(ws, 1002)
    event = wait_event(front, "/echo")
    assert (event["code"], event["reason"]) == (1002, "protocol_error")


def test_rsv2_is_1002_even_with_deflate(front: Front) -> None:
    ws = RawWS(front.port, extensions="permessage-deflate")
    assert ws.headers["sec-websocket-extensions"].startswith("permessage-deflate")
    ws.send_frame(TEXT, b"hello", rsv=2)
    expect_failure(ws, 1002)


@pytest.mark.parametrize("opcode", [0x3, 0x7, 0xB, 0xF])
def test_reserved_opcodes_are_1002(front: Front, opcode: int) -> None:
    ws = RawWS(front.port)
    ws.send_frame(opcode, b"x")
    expect_failure(ws, 1002)


def test_fragmented_control_frame_is_1002(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(PING, b"x", fin=False)
    expect_failure(ws, 1002)


def test_oversized_control_frame_is_1002(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(PING, b"p" * 126)
    expect_failure(ws, 1002)


def test_unmasked_client_frame_is_1002(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send(bytes([0x81, 0x02]) + b"hi")
    expect_failure(ws, 1002)


def test_continuation_without_a_message_is_1002(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(CONT, b"orphan")
    expect_failure(ws, 1002)


def test_new_message_inside_a_fragmented_one_is_1002(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(TEXT, b"first half", fin=False)
    ws.send_frame(TEXT, b"another message")
    expect_failure(ws, 1002)


def test_close_frame_with_one_byte_payload_is_1002(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(CLOSE, b"\x03")
    expect_failure(ws, 1002)


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_invalid_close_codes_are_1002(front: Front, code: int) -> None:
    ws = RawWS(front.port)
    ws.send_frame(CLOSE, close_payload(code))
    expect_failure(ws, 1002)


@pytest.mark.parametrize("code", [1000, 1001, 1003, 1011, 3000, 4999])
def test_valid_close_codes_are_echoed_and_reach_the_app(front: Front, code: int) -> None:
    ws = RawWS(front.port)
    ws.send_frame(CLOSE, close_payload(code, "bye é".encode()))
    before, close = ws.recv_close()
    assert close is not None and close.close_code == code and not before
    assert ws.closed_by_server()
    event = wait_event(front, "/echo")
    assert (event["code"], event["reason"]) == (code, "bye é")


def test_close_without_code_is_1005_for_the_app(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(CLOSE)
    _before, close = ws.recv_close()
    assert close is not None and close.payload == b""
    assert wait_event(front, "/echo")["code"] == 1005


def test_invalid_utf8_in_close_reason_is_1007(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(CLOSE, close_payload(1000, b"bad \xff reason"))
    expect_failure(ws, 1007)
    event = wait_event(front, "/echo")
    assert (event["code"], event["reason"]) == (1007, "invalid_utf8")


def test_invalid_utf8_text_is_1007(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(TEXT, "café ".encode() + b"\xc3\x28")
    expect_failure(ws, 1007)


def test_invalid_utf8_fails_as_soon_as_the_bad_byte_arrives(front: Front) -> None:
    """Mid-fragment: the message's last fragment is never sent, yet 1007 comes."""
    ws = RawWS(front.port)
    ws.send_frame(TEXT, "κόσμε".encode(), fin=False)
    ws.send_frame(CONT, b"\xce\xba\xf4\x90", fin=False)  # U+110000+: invalid at \x90
    expect_failure(ws, 1007)


def test_invalid_utf8_split_across_fragments_is_found(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(TEXT, b"abc\xed", fin=False)  # \xed\xa0 starts a surrogate: invalid
    ws.send_frame(CONT, b"\xa0\x80")
    expect_failure(ws, 1007)


def test_valid_utf8_split_across_fragments_is_reassembled(front: Front) -> None:
    ws = RawWS(front.port)
    data = "snow ☃ and 😀".encode()
    cut = data.index("☃".encode()) + 1
    ws.send_frame(TEXT, data[:cut], fin=False)
    ws.send_frame(PING, b"in between")
    ws.send_frame(CONT, data[cut:-2], fin=False)
    ws.send_frame(CONT, data[-2:])
    pong = ws.recv()
    assert pong is not None and (pong.opcode, pong.payload) == (PONG, b"in between")
    echo = ws.recv()
    assert echo is not None and echo.opcode == TEXT and echo.payload == data


def test_message_over_max_size_is_1009_before_it_ends(front: Front) -> None:
    ws = RawWS(front.port)
    for _ in range(5):  # 5 x 256 KiB > 1 MiB; the final fragment is never sent
        ws.send_frame(BINARY if _ == 0 else CONT, b"b" * (256 * KiB), fin=False)
    expect_failure(ws, 1009)
    event = wait_event(front, "/echo")
    assert (event["code"], event["reason"]) == (1009, "message_too_big")


def test_a_message_of_exactly_max_size_passes(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(BINARY, b"m" * MiB)
    echo = ws.recv_message()
    assert echo is not None and len(echo.payload) == MiB


def test_deflate_bomb_is_1009_without_inflating_it(front: Front) -> None:
    ws = RawWS(front.port, extensions="permessage-deflate; client_no_context_takeover")
    bomb = deflate(b"\x00" * (64 * MiB))  # about 64 KiB on the wire
    assert len(bomb) < 128 * KiB
    ws.send_frame(BINARY, bomb, rsv=4)
    expect_failure(ws, 1009)


def test_corrupt_deflate_data_is_1007(front: Front) -> None:
    ws = RawWS(front.port, extensions="permessage-deflate")
    ws.send_frame(BINARY, b"\xff\xff\xff\xff not deflate", rsv=4)
    expect_failure(ws, 1007)


def test_app_not_draining_and_queue_over_its_limit_is_1008(front: Front) -> None:
    """The app never receives; what arrives beyond its window and the front's
    64 KiB queue limit fails the connection (here: a compressed message that
    inflates to 512 KiB in one read)."""
    ws = RawWS(front.port, "/noread", extensions="permessage-deflate")
    ws.send_frame(BINARY, deflate(b"q" * (512 * KiB)), rsv=4)
    expect_failure(ws, 1008)


def test_valid_message_before_a_violation_is_still_answered(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send(frame(TEXT, b"first, valid") + frame(TEXT, b"bad", rsv=4) + frame(PING, b"after"))
    before = expect_failure(ws, 1002)
    assert [(f.opcode, f.payload) for f in before] == [(TEXT, b"first, valid")]


def test_pings_are_answered_by_the_front(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(PONG, b"unsolicited: ignored")
    ws.send_frame(PING, b"payload \x00\xff")
    pong = ws.recv()
    assert pong is not None and (pong.opcode, pong.payload) == (PONG, b"payload \x00\xff")
    ws.send_frame(CLOSE, close_payload(1000))
    _before, close = ws.recv_close()
    assert close is not None and close.close_code == 1000


def _header_only(opcode: int, length: int, *, rsv: int = 0, fin: bool = True) -> bytes:
    """A masked frame header declaring ``length`` payload bytes, and no payload."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    if length < 126:
        size = bytes([0x80 | length])
    elif length < 65536:
        size = bytes([0x80 | 126]) + length.to_bytes(2, "big")
    else:
        size = bytes([0x80 | 127]) + length.to_bytes(8, "big")
    return bytes([first]) + size + b"\x00" * 4


@pytest.mark.parametrize("rsv", [0, 4], ids=["plain", "compressed"])
def test_frame_declaring_more_than_max_size_is_1009_at_its_header(front: Front, rsv: int) -> None:
    # Only the header is sent: the front must not wait for (or read) the body.
    ws = RawWS(front.port, extensions="permessage-deflate" if rsv else None)
    ws.send(_header_only(BINARY, 2 * MiB if rsv else MiB + 1, rsv=rsv))
    expect_failure(ws, 1009)
    event = wait_event(front, "/echo")
    assert (event["code"], event["reason"]) == (1009, "message_too_big")


def test_continuation_declaring_past_max_size_is_1009_at_its_header(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(BINARY, b"a" * (MiB - 10), fin=False)
    ws.send(_header_only(CONT, 11))
    expect_failure(ws, 1009)


def test_incompressible_message_goes_out_uncompressed(front: Front) -> None:
    ws = RawWS(front.port, extensions="permessage-deflate")
    noise = os.urandom(200 * KiB)
    ws.send_frame(BINARY, deflate(noise), rsv=4)
    echo = ws.recv_message()
    assert echo is not None and echo.rsv == 0 and echo.payload == noise  # sent as is
    ws.send_frame(TEXT, deflate(b"a" * 10_000), rsv=4)
    first = ws.recv()
    assert first is not None and first.rsv == 4 and len(first.payload) < 1000
