"""Quart under pagi, against uvicorn (apps/quart_app.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fw import Pair, same_response, ws_round_trip


@pytest.fixture(scope="module")
def pair(pair_factory: Callable[..., Pair]) -> Pair:
    return pair_factory("quart_app:app")


def test_routes(pair: Pair) -> None:
    assert same_response(pair, "GET", "/?a=1").json() == {"framework": "quart", "args": {"a": "1"}}
    same_response(pair, "POST", "/form", data={"x": "1", "y": "two"})
    same_response(pair, "GET", "/missing")
    same_response(pair, "GET", "/nowhere")
    same_response(pair, "HEAD", "/")
    assert same_response(pair, "GET", "/stream").text == "".join(f"line {i}\n" for i in range(5))


def test_websocket(pair: Pair) -> None:
    ws_round_trip(pair, "/ws", "hi", "quart: hi")
