"""The control API's routing and argument checks, and the counters, with a
fake front (the real one is covered in tests/integration/test_control_plane.py)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pagi.frontend.control_api import OperationError, make_handler
from pagi.frontend.control_http import ControlRequest, ControlResponse
from pagi.frontend.metrics import LATENCY_BOUNDS, FrontMetrics


class FakeFront:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def status(self) -> dict[str, object]:
        return {"ok": True}

    def connections(self) -> list[dict[str, object]]:
        return []

    def stats(self) -> dict[str, object]:
        return {}

    def metrics_exposition(self) -> tuple[bytes, str]:
        raise OperationError(501, "metrics need the prometheus_client package")

    async def reload(self, wait: bool) -> dict[str, object]:
        self.calls.append(("reload", wait))
        return {"reload": {"id": 1}}

    def scale(self, workers: int) -> dict[str, object]:
        self.calls.append(("scale", workers))
        return {"workers": workers}

    def drain(self, worker: str) -> dict[str, object]:
        self.calls.append(("drain", worker))
        return {}

    def hand_over(self, closed: Any) -> tuple[dict[str, object], list[int]]:
        return {}, []

    def handover_done(self) -> dict[str, object]:
        return {}


def call(front: FakeFront, method: str, path: str, body: bytes = b"") -> ControlResponse:
    target, _, query = path.partition("?")
    params = dict(p.split("=") for p in query.split("&") if p)
    request = ControlRequest(method, target, params, body)
    return asyncio.run(make_handler(front)(request))


def error_of(response: ControlResponse) -> str:
    return str(json.loads(response.body)["error"])


def test_routes_and_methods() -> None:
    front = FakeFront()
    assert call(front, "GET", "/status").status == 200
    assert call(front, "GET", "/status/").status == 200
    missing = call(front, "GET", "/nope")
    assert missing.status == 404 and error_of(missing) == "no such endpoint: /nope"
    wrong = call(front, "GET", "/reload")
    assert wrong.status == 405 and ("allow", "POST") in wrong.headers
    assert call(front, "POST", "/reload").status == 202
    assert call(front, "POST", "/reload?wait=1").status == 200
    assert front.calls == [("reload", False), ("reload", True)]
    unavailable = call(front, "GET", "/metrics")
    assert unavailable.status == 501 and "prometheus_client" in error_of(unavailable)


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/scale", b'{"workers": 0}', "'workers' must be an integer >= 1"),
        ("/scale", b'{"workers": "2"}', "'workers' must be an integer >= 1"),
        ("/scale", b"[1]", "must be a JSON object"),
        ("/scale", b"{", "bad JSON body"),
        ("/drain", b"{}", "'worker' must name a worker"),
        ("/drain", b'{"worker": true}', "'worker' must name a worker"),
    ],
)
def test_bad_arguments_are_400_naming_the_field(path: str, body: bytes, message: str) -> None:
    response = call(FakeFront(), "POST", path, body)
    assert response.status == 400 and message in error_of(response)


def test_good_arguments_reach_the_front() -> None:
    front = FakeFront()
    assert call(front, "POST", "/scale", b'{"workers": 3}').status == 202
    assert call(front, "POST", "/drain", b'{"worker": 12}').status == 202
    assert front.calls == [("scale", 3), ("drain", "12")]


def test_counters() -> None:
    m = FrontMetrics()
    m.request_done("http", 200, 0.0005, 10)
    m.request_done("http", 503, LATENCY_BOUNDS[0], 0)  # on a bound: that bucket
    m.request_done("http", None, 99.0, 0)  # no status; beyond the last bound
    m.request_done("websocket", 101, 1.0, 5)
    m.request_done("grpc", 200, 0.1, 0)  # an unknown scope type counts latency only
    snap = m.snapshot()
    assert snap["requests"]["http"] == {  # type: ignore[index]
        "none": 1, "1xx": 0, "2xx": 1, "3xx": 0, "4xx": 0, "5xx": 1,
    }  # fmt: skip
    assert snap["requests"]["websocket"]["1xx"] == 1  # type: ignore[index]
    assert m.latency_buckets[0] == 2 and m.latency_buckets[-1] == 1
    assert m.latency_count == 5 and m.bytes_sent == 15
