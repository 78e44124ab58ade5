"""Starlette + sse-starlette under pagi, against uvicorn (apps/starlette_sse_app.py).

An ASGI framework serves ``text/event-stream`` itself, as plain http: the
worker (``--interface auto`` finds Starlette) never gives it an ``sse`` scope.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from fw import Pair, same_response, stops_when_the_client_leaves

SSE = {"accept": "text/event-stream"}


@pytest.fixture(scope="module")
def pair(pair_factory: Callable[..., Pair]) -> Pair:
    return pair_factory("starlette_sse_app:app")


def test_plain_routes(pair: Pair) -> None:
    assert same_response(pair, "GET", "/hello?name=pagi").text == "hello pagi"
    same_response(pair, "GET", "/nowhere")


def test_event_stream_is_the_same_and_arrives_as_it_is_sent(pair: Pair) -> None:
    r = same_response(pair, "GET", "/events?n=3", headers=SSE)
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.text.replace("\r\n", "\n").split("\n\n")[:4] == [
        "id: 0\nevent: tick\ndata: tick 0",
        "id: 1\nevent: tick\ndata: tick 1",
        "id: 2\nevent: tick\ndata: tick 2",
        "event: done\ndata: bye",
    ]
    # streaming: the first event is there long before the last (0.05 s apart)
    with httpx.stream("GET", pair.pagi.url + "/events?n=10", headers=SSE, timeout=10) as s:
        started = time.monotonic()
        first = next(s.iter_raw())
        assert b"tick 0" in first and time.monotonic() - started < 0.4


def test_endless_stream_stops_when_the_client_leaves(pair: Pair) -> None:
    stops_when_the_client_leaves(
        pair,
        b"GET /endless HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
        b"data: 3",
        "endless",
    )
