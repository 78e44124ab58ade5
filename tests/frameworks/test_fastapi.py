"""FastAPI under pagi, request for request against uvicorn (apps/fastapi_app.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx
import pytest
from fw import Pair, probe, same_response, stops_when_the_client_leaves, wait_until
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


@pytest.fixture(scope="module")
def pair(pair_factory: Callable[..., Pair]) -> Pair:
    return pair_factory("fastapi_app:app")


@pytest.fixture(scope="module")
def mounted(pair_factory: Callable[..., Pair]) -> Pair:
    """Behind a proxy that strips /api: both servers told so with --root-path."""
    return pair_factory(
        "fastapi_app:app", "--root-path", "/api", uvicorn_args=("--root-path", "/api")
    )


def test_served_as_an_asgi_app(pair: Pair) -> None:
    pair.pagi.proc.wait_for_log(
        r"serving the app through the ASGI interface \(the app is built on fastapi"
    )


def test_json_path_params_and_lifespan_state(pair: Pair) -> None:
    r = same_response(pair, "GET", "/items/42?q=x")
    assert r.json() == {"item_id": 42, "q": "x"}
    r = same_response(pair, "GET", "/", compare_body=False)
    assert r.json()["greeting"] == "hello from lifespan"
    same_response(pair, "POST", "/items/", json={"name": "pen", "price": 1.5, "tags": ["a"]})
    same_response(pair, "GET", "/nowhere")
    same_response(pair, "DELETE", "/items/42")  # 405 with allow


def test_validation_errors_are_422(pair: Pair) -> None:
    r = same_response(pair, "GET", "/items/not-a-number")
    assert r.status_code == 422
    r = same_response(pair, "POST", "/items/", json={"name": "pen"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "price"]
    same_response(
        pair, "POST", "/items/", content=b"{not json", headers={"content-type": "application/json"}
    )


def test_file_response_with_ranges(pair: Pair) -> None:
    whole = same_response(pair, "GET", "/file")
    assert len(whole.content) == 10240
    assert whole.headers["content-disposition"] == 'attachment; filename="data.bin"'
    part = same_response(pair, "GET", "/file", headers={"range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    multi = same_response(  # multipart: the boundary is random
        pair,
        "GET",
        "/file",
        headers={"range": "bytes=0-9,20-29"},
        compare_body=False,
        headers_to_compare=("content-length",),
    )
    assert multi.status_code == 206 and multi.content.count(b"Content-Range: bytes ") == 2
    same_response(pair, "GET", "/file", headers={"range": "bytes=20000-"})  # 416
    same_response(pair, "HEAD", "/file")


def test_background_tasks_run_after_the_response(pair: Pair) -> None:
    for server in pair.both():
        r = httpx.post(server.url + "/tasks", params={"name": "t1"}, timeout=10)
        assert r.json() == {"queued": "t1"}
        wait_until(lambda s=server: "t1" in probe(s)["tasks"], "the background task")  # type: ignore[operator]


def test_streaming_response_stops_when_the_client_leaves(pair: Pair) -> None:
    """Regression: Starlette trusts ASGI 2.4's send() raising after a
    disconnect; a server that silently ignores the send keeps the generator
    running forever (and every shutdown waits its full graceful timeout)."""
    stops_when_the_client_leaves(
        pair, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", b"\n5\n", "stream"
    )


def test_client_aborting_mid_body_is_not_an_app_error(pair: Pair) -> None:
    """Regression: the client sends half a body and leaves. Starlette raises
    ClientDisconnect from request.body(); that is the client's doing, not an
    app error, so pagi logs no ERROR for it (uvicorn 0.55 logs a traceback)."""
    request = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"
    for server in pair.both():
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(request)
            time.sleep(0.2)
    pair.pagi.proc.wait_for_log(r'"POST /upload HTTP/1\.1" 499 ')
    assert same_response(pair, "POST", "/upload", content=b"x" * 100).json() == {"received": 100}
    assert " ERROR " not in pair.pagi.logs() and "Traceback" not in pair.pagi.logs()


def test_is_disconnected(pair: Pair) -> None:
    for server in pair.both():
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET /wait-for-disconnect HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.1)
        wait_until(lambda s=server: probe(s)["disconnected"] is True, "is_disconnected()")
        httpx.get(server.url + "/items/1", timeout=5)  # and the server carries on


def test_websocket_echo_and_close(pair: Pair) -> None:
    for server in pair.both():
        with connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=5) as ws:
            ws.send("hi")
            assert ws.recv(timeout=5) == "echo: hi"
            ws.send("close")
            with pytest.raises(ConnectionClosed) as info:
                ws.recv(timeout=5)
            assert info.value.rcvd is not None
            assert (info.value.rcvd.code, info.value.rcvd.reason) == (4001, "asked")


def test_root_path_slash_redirect_and_request_url(mounted: Pair) -> None:
    """Regression: with --root-path, ``path`` must include it (ASGI's rule, as
    uvicorn does) or redirects lose the prefix and routes differ."""
    r = same_response(mounted, "GET", "/slash")
    assert r.status_code == 307
    assert r.headers["location"] == f"{mounted.pagi.url}/api/slash/"
    r = same_response(mounted, "GET", "/slash/", compare_body=False)
    assert r.json() == {"url": f"{mounted.pagi.url}/api/slash/", "path": "/api/slash/"}
    same_response(mounted, "GET", "/items/7")
    same_response(mounted, "GET", "/api/items/7")  # a client that sends the prefix too
