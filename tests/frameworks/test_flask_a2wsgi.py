"""Flask (WSGI) through a2wsgi under pagi, against uvicorn (apps/flask_app.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fw import Pair, same_response


@pytest.fixture(scope="module")
def pair(pair_factory: Callable[..., Pair]) -> Pair:
    return pair_factory("flask_app:app")


def test_served_as_an_asgi_app(pair: Pair) -> None:
    pair.pagi.proc.wait_for_log(
        r"serving the app through the ASGI interface \(the app is built on a2wsgi"
    )


def test_routes(pair: Pair) -> None:
    r = same_response(pair, "GET", "/?q=1")
    assert r.json() == {"framework": "flask", "args": {"q": "1"}, "script_name": ""}
    body = bytes(range(256)) * 1000
    r = same_response(pair, "POST", "/echo", content=body)
    assert r.content == body
    same_response(pair, "POST", "/form", data={"a": "1", "b": "é"})
    assert same_response(pair, "GET", "/stream").text == "".join(f"line {i}\n" for i in range(5))
    same_response(pair, "GET", "/redirect")
    same_response(pair, "GET", "/nowhere")
    same_response(pair, "DELETE", "/")
