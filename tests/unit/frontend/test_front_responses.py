"""Response heads, framing decisions and server-generated responses (pure)."""

from __future__ import annotations

import re

import h11
import pytest
from pagi.frontend.http1 import responses as r
from pagi.frontend.http1.date_header import DateHeader, imf_fixdate
from pagi.frontend.http1.response_checks import InvalidResponse
from pagi.frontend.http1.responses import (
    CHUNKED,
    LENGTH,
    NO_BODY,
    UNTIL_CLOSE,
    build_head,
    chunk,
    last_chunk_with_trailers,
    reason_phrase,
    server_response,
    status_line,
)


def head(
    status: int = 200,
    headers: list[list[bytes]] | None = None,
    *,
    http11: bool = True,
    keep_alive: bool = True,
    is_head: bool = False,
    known_length: int | None = None,
    trailers: bool = False,
    server_header: bool = True,
) -> tuple[dict[bytes, list[bytes]], int, int | None, bool, bytes]:
    raw, framing, length, keep = build_head(
        status,
        headers or [],
        http11=http11,
        keep_alive=keep_alive,
        is_head=is_head,
        known_length=known_length,
        trailers=trailers,
        server_header=server_header,
    )
    assert raw.endswith(b"\r\n\r\n")
    lines = raw[:-4].split(b"\r\n")
    fields: dict[bytes, list[bytes]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b": ")
        fields.setdefault(name, []).append(value)
    return fields, framing, length, keep, lines[0]


# --- status lines and reasons ---------------------------------------------------


def test_status_lines() -> None:
    assert status_line(200) == b"HTTP/1.1 200 OK\r\n"
    assert status_line(404) == b"HTTP/1.1 404 Not Found\r\n"
    assert status_line(503) == b"HTTP/1.1 503 Service Unavailable\r\n"
    assert status_line(418) == b"HTTP/1.1 418 I'm a Teapot\r\n" or reason_phrase(418)
    # A code without a standard phrase keeps the space before the empty reason.
    assert status_line(599) == b"HTTP/1.1 599 \r\n"
    assert status_line(200) is status_line(200)  # cached


@pytest.mark.parametrize("status", [400, 408, 413, 414, 431, 500, 501, 502, 503, 505])
def test_every_server_status_has_a_reason(status: int) -> None:
    assert reason_phrase(status)


# --- the date header -------------------------------------------------------------


def test_date_header_is_imf_fixdate_and_cached_per_second() -> None:
    now = [1_700_000_000.2]
    date = DateHeader(clock=lambda: now[0])
    first = date.line()
    assert first == b"date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
    now[0] = 1_700_000_000.9
    assert date.line() is first  # same second: not re-formatted
    now[0] = 1_700_000_001.0
    assert date.line() == b"date: Tue, 14 Nov 2023 22:13:21 GMT\r\n"


@pytest.mark.parametrize(
    "seconds", [0, 784_111_777, 951_782_400, 1_700_000_000, 4_102_444_799, 253_402_300_799]
)
def test_imf_fixdate_matches_the_standard_library(seconds: int) -> None:
    from email.utils import formatdate

    assert imf_fixdate(seconds) == formatdate(seconds, usegmt=True).encode("ascii")


def test_imf_fixdate_every_day_and_month() -> None:
    from email.utils import formatdate

    for seconds in range(0, 400 * 86_400, 86_400 + 3_601):
        assert imf_fixdate(seconds) == formatdate(seconds, usegmt=True).encode("ascii")


def test_module_date_cache_follows_the_clock() -> None:
    line = r.date_header.line()
    assert re.fullmatch(rb"date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n", line)


# --- framing -----------------------------------------------------------------------


def test_app_content_length_is_used() -> None:
    fields, framing, length, keep, first = head(headers=[[b"content-length", b"5"]])
    assert first == b"HTTP/1.1 200 OK"
    assert framing == LENGTH and length == 5 and keep
    assert fields[b"content-length"] == [b"5"]
    assert b"transfer-encoding" not in fields
    assert b"connection" not in fields  # HTTP/1.1 keep-alive is implicit
    assert fields[b"server"] == [b"pagi"]
    assert len(fields[b"date"]) == 1


def test_no_length_http11_is_chunked() -> None:
    fields, framing, length, keep, _ = head(headers=[[b"content-type", b"text/plain"]])
    assert framing == CHUNKED and length is None and keep
    assert fields[b"transfer-encoding"] == [b"chunked"]
    assert fields[b"content-type"] == [b"text/plain"]


def test_no_length_http10_is_close_delimited() -> None:
    fields, framing, _, keep, _ = head(http11=False)
    assert framing == UNTIL_CLOSE and not keep
    assert fields[b"connection"] == [b"close"]
    assert b"transfer-encoding" not in fields


def test_http10_keep_alive_with_length() -> None:
    fields, framing, _, keep, _ = head(headers=[[b"content-length", b"2"]], http11=False)
    assert framing == LENGTH and keep
    assert fields[b"connection"] == [b"keep-alive"]


def test_http10_no_keep_alive_requested() -> None:
    fields, _, _, keep, _ = head(
        headers=[[b"content-length", b"2"]], http11=False, keep_alive=False
    )
    assert not keep and fields[b"connection"] == [b"close"]


def test_known_length_becomes_content_length() -> None:
    fields, framing, length, _, _ = head(known_length=1234)
    assert framing == LENGTH and length == 1234
    assert fields[b"content-length"] == [b"1234"]


def test_app_length_wins_over_known_length() -> None:
    _, framing, length, _, _ = head(headers=[[b"content-length", b"10"]], known_length=99)
    assert framing == LENGTH and length == 10


def test_head_request_keeps_app_length_but_no_body() -> None:
    fields, framing, length, keep, _ = head(headers=[[b"content-length", b"5"]], is_head=True)
    assert framing == NO_BODY and length is None and keep
    assert fields[b"content-length"] == [b"5"]


def test_head_request_without_length_has_no_framing_headers() -> None:
    fields, framing, _, keep, _ = head(is_head=True)
    assert framing == NO_BODY and keep
    assert b"content-length" not in fields and b"transfer-encoding" not in fields


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_have_no_body(status: int) -> None:
    fields, framing, _, keep, _ = head(status)
    assert framing == NO_BODY and keep
    assert b"transfer-encoding" not in fields


def test_204_drops_content_length_304_keeps_it() -> None:
    fields, _, _, _, _ = head(204, [[b"content-length", b"0"]])
    assert b"content-length" not in fields
    fields, _, _, _, _ = head(304, [[b"content-length", b"42"]])
    assert fields[b"content-length"] == [b"42"]


def test_interim_status_as_final_answer_closes() -> None:
    fields, framing, _, keep, _ = head(103)
    assert framing == NO_BODY and not keep
    assert fields[b"connection"] == [b"close"]


def test_trailers_force_chunked_on_http11() -> None:
    fields, framing, length, _, _ = head(
        headers=[[b"content-length", b"4"], [b"trailer", b"x-sum"]], trailers=True
    )
    assert framing == CHUNKED and length is None
    assert b"content-length" not in fields
    assert fields[b"trailer"] == [b"x-sum"]  # the app's own, passed through


def test_trailers_on_http10_are_ignored_for_framing() -> None:
    _, framing, length, _, _ = head(
        headers=[[b"content-length", b"4"]], trailers=True, http11=False
    )
    assert framing == LENGTH and length == 4


def test_server_owns_transfer_encoding_and_connection() -> None:
    fields, framing, _, keep, _ = head(
        headers=[[b"transfer-encoding", b"chunked"], [b"connection", b"keep-alive, Upgrade"]]
    )
    assert framing == CHUNKED and keep
    assert fields[b"transfer-encoding"] == [b"chunked"]  # once, ours
    assert b"connection" not in fields


def test_app_connection_close_is_honoured() -> None:
    fields, _, _, keep, _ = head(headers=[[b"content-length", b"1"], [b"connection", b"Close"]])
    assert not keep and fields[b"connection"] == [b"close"]


def test_app_date_and_server_are_kept_not_duplicated() -> None:
    fields, *_ = head(headers=[[b"date", b"yesterday"], [b"server", b"mine"]])
    assert fields[b"date"] == [b"yesterday"]
    assert fields[b"server"] == [b"mine"]


def test_server_header_can_be_turned_off() -> None:
    fields, *_ = head(server_header=False)
    assert b"server" not in fields


def test_app_header_order_and_duplicates_are_preserved() -> None:
    raw, *_ = build_head(
        200,
        [[b"set-cookie", b"a=1"], [b"x-a", b"1"], [b"set-cookie", b"b=2"]],
        http11=True,
        keep_alive=True,
        is_head=False,
        known_length=None,
        trailers=False,
        server_header=True,
    )
    assert raw.index(b"set-cookie: a=1") < raw.index(b"x-a: 1") < raw.index(b"set-cookie: b=2")


@pytest.mark.parametrize("value", [b"abc", b"-1", b"+5", b"1_0", b"", b"99999999999999999999"])
def test_invalid_app_content_length(value: bytes) -> None:
    with pytest.raises(InvalidResponse):
        head(headers=[[b"content-length", value]])


def test_conflicting_app_content_lengths() -> None:
    with pytest.raises(InvalidResponse):
        head(headers=[[b"content-length", b"1"], [b"content-length", b"2"]])
    _, framing, length, _, _ = head(headers=[[b"content-length", b"2"], [b"content-length", b"2"]])
    assert framing == LENGTH and length == 2


def test_head_parses_with_h11() -> None:
    """A real HTTP implementation reads our head + chunked body the same way."""
    raw, framing, _, _ = build_head(
        201,
        [[b"content-type", b"text/plain"]],
        http11=True,
        keep_alive=True,
        is_head=False,
        known_length=None,
        trailers=False,
        server_header=True,
    )
    assert framing == CHUNKED
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    client.send(h11.EndOfMessage())
    client.receive_data(raw + chunk(b"hello") + chunk(b" world") + r.LAST_CHUNK)
    response = client.next_event()
    assert isinstance(response, h11.Response) and response.status_code == 201
    body = b""
    while True:
        ev = client.next_event()
        if isinstance(ev, h11.Data):
            body += ev.data
        else:
            assert isinstance(ev, h11.EndOfMessage)
            break
    assert body == b"hello world"


# --- chunks and trailers -----------------------------------------------------------


def test_chunk_framing() -> None:
    assert chunk(b"hello") == b"5\r\nhello\r\n"
    assert chunk(b"x" * 255) == b"ff\r\n" + b"x" * 255 + b"\r\n"


def test_trailer_section() -> None:
    assert last_chunk_with_trailers([[b"x-sum", b"abc"], [b"x-n", b"1"]]) == (
        b"0\r\nx-sum: abc\r\nx-n: 1\r\n\r\n"
    )
    assert last_chunk_with_trailers([]) == r.LAST_CHUNK


# --- server-generated responses ------------------------------------------------------


def split(raw: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
    head_part, _, body = raw.partition(b"\r\n\r\n")
    lines = head_part.split(b"\r\n")
    return lines[0], dict(line.split(b": ", 1) for line in lines[1:]), body  # type: ignore[misc]


def test_server_response_bad_request() -> None:
    first, fields, body = split(server_response(400, "missing Host header"))
    assert first == b"HTTP/1.1 400 Bad Request"
    assert body == b"400 Bad Request: missing Host header\n"
    assert fields[b"content-length"] == str(len(body)).encode()
    assert fields[b"content-type"] == b"text/plain; charset=utf-8"
    assert fields[b"connection"] == b"close"
    assert fields[b"server"] == b"pagi"
    assert b"date" in fields


def test_server_response_503_retry_after_keep_alive() -> None:
    first, fields, body = split(
        server_response(503, "no worker", keep_alive=True, extra_headers=[(b"retry-after", b"1")])
    )
    assert first == b"HTTP/1.1 503 Service Unavailable"
    assert fields[b"retry-after"] == b"1"
    assert b"connection" not in fields
    assert body.startswith(b"503 Service Unavailable")


def test_server_response_500_hides_details() -> None:
    _, _, body = split(server_response(500))
    assert body == b"500 Internal Server Error\n"


def test_server_response_head_and_http10() -> None:
    _, fields, body = split(
        server_response(502, "gone", keep_alive=True, http11=False, is_head=True)
    )
    assert body == b""
    assert int(fields[b"content-length"]) == len(b"502 Bad Gateway: gone\n")
    assert fields[b"connection"] == b"keep-alive"


# --- hop-by-hop fields (PAGI Www 0.6: the server strips them) --------------------


def test_hop_by_hop_response_headers_are_dropped() -> None:
    fields, *_ = head(
        200,
        [
            [b"keep-alive", b"timeout=5"],
            [b"proxy-connection", b"keep-alive"],
            [b"te", b"gzip"],
            [b"x-kept", b"1"],
        ],
    )
    assert b"keep-alive" not in fields and b"proxy-connection" not in fields
    assert b"te" not in fields and fields[b"x-kept"] == [b"1"]
    fields, *_ = head(200, [[b"te", b"Trailers"]])  # the one exception RFC 9113 makes
    assert fields[b"te"] == [b"Trailers"]


def test_upgrade_keeps_its_connection_companion() -> None:
    """An app's 426 with ``upgrade``: the server's ``connection`` names it."""
    fields, *_ = head(426, [[b"upgrade", b"h2c"], [b"connection", b"upgrade"]])
    assert fields[b"upgrade"] == [b"h2c"] and fields[b"connection"] == [b"upgrade"]
    fields, *_ = head(426, [[b"upgrade", b"h2c"]], keep_alive=False)
    assert fields[b"connection"] == [b"upgrade, close"]
    fields, *_ = head(426, [[b"upgrade", b"h2c"]], http11=False, known_length=5)
    assert fields[b"connection"] == [b"upgrade, keep-alive"]
