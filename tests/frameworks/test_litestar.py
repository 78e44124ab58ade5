"""Litestar under pagi, against uvicorn (apps/litestar_app.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fw import Pair, same_response, ws_round_trip


@pytest.fixture(scope="module")
def pair(pair_factory: Callable[..., Pair]) -> Pair:
    return pair_factory("litestar_app:app")


def test_routes_and_validation(pair: Pair) -> None:
    r = same_response(pair, "GET", "/orders/5?detail=true")
    assert r.json() == {"order_id": 5, "detail": True}
    assert same_response(pair, "GET", "/orders/five").status_code in (400, 404)
    r = same_response(pair, "POST", "/orders", json={"item": "tea", "quantity": 2})
    assert r.status_code == 201 and r.json() == {"item": "tea", "total": 6}
    assert same_response(pair, "POST", "/orders", json={"item": "tea"}).status_code == 400
    same_response(pair, "GET", "/nowhere")


def test_websocket_listener(pair: Pair) -> None:
    ws_round_trip(pair, "/ws", "ping", "litestar: ping")
