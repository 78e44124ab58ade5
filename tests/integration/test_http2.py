"""HTTP/2 end to end: real front and worker processes, httpx and an h2 client, h2c and TLS."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import time
from pathlib import Path

import h2.events
import httpx
import pytest
from h2.errors import ErrorCodes
from h2_client import H2Client, read_frames
from harness import Front, Processes
from hyperframe.frame import DataFrame, GoAwayFrame
from tls_certs import TlsFiles, tls_front

MODES = ["h2c", "tls"]


def start(procs: Processes, tls_files: TlsFiles, *args: str, app: str = "basic:app") -> Front:
    return tls_front(procs, tls_files, *args, app=app)


def base_url(front: Front, mode: str) -> str:
    return f"https://localhost:{front.tls_port}" if mode == "tls" else front.url


def client(tls_files: TlsFiles, mode: str) -> httpx.Client:
    if mode == "tls":
        return httpx.Client(http2=True, verify=tls_files.client_context())
    return httpx.Client(http1=False, http2=True)


def h2_conn(front: Front, tls_files: TlsFiles, mode: str, **settings: int) -> H2Client:
    if mode == "tls":
        return H2Client(front.tls_port, tls_files.client_context(), **settings)
    return H2Client(front.port, None, **settings)


@pytest.mark.parametrize("mode", MODES)
def test_requests_and_scope(procs: Processes, tls_files: TlsFiles, mode: str) -> None:
    front = start(procs, tls_files)
    url = base_url(front, mode)
    with client(tls_files, mode) as c:
        r = c.get(url + "/hello")
        assert (r.http_version, r.status_code, r.text) == ("HTTP/2", 200, "hello")
        assert r.headers["server"] == "pagi" and "date" in r.headers
        scope = c.get(url + "/scope?a=1").json()
        assert scope["http_version"] == "2"
        assert scope["scheme"] == ("https" if mode == "tls" else "http")
        assert scope["method"] == "GET"
        assert (scope["path"], scope["query_string"]) == ("/scope", "a=1")
        names = [name for name, _ in scope["headers"]]
        assert names[0] == "host" and not any(n.startswith(":") for n in names)
        assert dict(scope["headers"])["host"].endswith(
            str(front.tls_port if mode == "tls" else front.port)
        )
        body = os.urandom(700_000)  # beyond every window: flow control both ways
        r = c.post(url + "/echo", content=body)
        assert r.status_code == 200 and r.content == body
        r = c.head(url + "/hello")
        assert r.status_code == 200 and r.content == b"" and r.headers["content-length"] == "5"


@pytest.mark.parametrize("mode", MODES)
def test_many_streams_on_one_connection(procs: Processes, tls_files: TlsFiles, mode: str) -> None:
    front = start(procs, tls_files)
    url = base_url(front, mode)
    verify: ssl.SSLContext | bool = tls_files.client_context() if mode == "tls" else False

    async def run() -> list[httpx.Response]:
        kwargs = (
            {"http2": True, "verify": verify} if mode == "tls" else {"http1": False, "http2": True}
        )
        async with httpx.AsyncClient(**kwargs) as c:  # type: ignore[arg-type]
            return await asyncio.gather(
                *(c.get(url + f"/stream?n=5&size=1000&delay=0.01&i={i}") for i in range(60))
            )

    responses = asyncio.run(run())
    assert all(r.status_code == 200 and len(r.content) == 5000 for r in responses)
    assert all(r.http_version == "HTTP/2" for r in responses)


@pytest.mark.parametrize("mode", MODES)
def test_errors_and_trailers(procs: Processes, tls_files: TlsFiles, mode: str) -> None:
    front = start(procs, tls_files)
    conn = h2_conn(front, tls_files, mode)
    try:
        headers, body, trailers = conn.response(conn.request("/trailers"))
        assert headers[b":status"] == b"200" and body == b"data"
        assert trailers == {b"x-checksum": b"abc"}
        headers, body, _ = conn.response(conn.request("/raise"))
        assert headers[b":status"] == b"500"
        headers, _, _ = conn.response(conn.request("/no-response"))
        assert headers[b":status"] == b"500"
        # The app raised after starting: the stream is reset, the connection goes on.
        sid = conn.request("/raise-after-start")
        events = conn.events(lambda e: isinstance(e, h2.events.StreamReset))
        resets = [e for e in events if isinstance(e, h2.events.StreamReset)]
        assert [(e.stream_id, e.error_code) for e in resets] == [(sid, ErrorCodes.INTERNAL_ERROR)]
        headers, body, _ = conn.response(conn.request("/hello"))
        assert body == b"hello"
    finally:
        conn.close()


def test_cookie_crumbs_joined_and_authority_as_host(procs: Processes, tls_files: TlsFiles) -> None:
    front = start(procs, tls_files)
    conn = h2_conn(front, tls_files, "h2c")
    try:
        sid = conn.request("/scope", headers=[("cookie", "a=1"), ("x-y", "z"), ("cookie", "b=2")])
        _, body, _ = conn.response(sid)
        scope = json.loads(body)
        assert scope["headers"][0] == ["host", conn.authority]
        assert ["cookie", "a=1; b=2"] in scope["headers"]
        assert ["x-y", "z"] in scope["headers"]
    finally:
        conn.close()


def test_client_reset_disconnects_the_scope(
    procs: Processes, tls_files: TlsFiles, tmp_path: Path
) -> None:
    front = start(procs, tls_files)
    out = tmp_path / "seen.json"
    conn = h2_conn(front, tls_files, "h2c")
    try:
        sid = conn.request(f"/wait-disconnect?out={out}")
        conn.events(lambda e: isinstance(e, h2.events.DataReceived))
        conn.conn.reset_stream(sid, ErrorCodes.CANCEL)
        conn.flush()
        for _ in range(200):
            if out.exists() and out.stat().st_size:
                break
            time.sleep(0.02)
        seen = json.loads(out.read_text())
        assert seen == {"event": "http.disconnect", "connected": False, "reason": "client_closed"}
        _, body, _ = conn.response(conn.request("/hello"))
        assert body == b"hello"
    finally:
        conn.close()


def test_file_body(procs: Processes, tls_files: TlsFiles, tmp_path: Path) -> None:
    front = start(procs, tls_files)
    data = os.urandom(300_000)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    with client(tls_files, "tls") as c:
        r = c.get(base_url(front, "tls") + f"/file?path={path}")
        assert r.status_code == 200 and r.content == data
        r = c.get(base_url(front, "tls") + f"/file?path={path}&offset=10&length=100")
        assert r.content == data[10:110]


def test_no_worker_gets_503(procs: Processes, tls_files: TlsFiles) -> None:
    front = procs.front("--worker-wait-timeout", "0.3", wait_workers=0)
    with client(tls_files, "h2c") as c:
        r = c.get(front.url + "/hello")
        assert r.http_version == "HTTP/2"
        assert r.status_code == 503 and r.headers["retry-after"] == "1"


def test_graceful_shutdown_sends_goaway_and_finishes(procs: Processes, tls_files: TlsFiles) -> None:
    front = start(procs, tls_files)
    conn = h2_conn(front, tls_files, "h2c")
    try:
        sid = conn.request("/sleep?s=1")
        conn.response(conn.request("/hello"))
        front.signal(signal.SIGTERM)
        # The h2 library stops reading after a GOAWAY, so read the frames raw
        # (answering the server's PING, as a client does) until the server closes.
        frames = read_frames(conn.sock, lambda f: False, timeout=10)
        goaways = [(f.error_code, f.last_stream_id) for f in frames if isinstance(f, GoAwayFrame)]
        # RFC 9113 section 6.8: first the largest id, then the last stream served
        assert goaways == [(ErrorCodes.NO_ERROR, 2**31 - 1), (ErrorCodes.NO_ERROR, sid + 2)]
        data = b"".join(f.data for f in frames if isinstance(f, DataFrame) and f.stream_id == sid)
        assert data == b"slept"
    finally:
        conn.close()
    assert front.wait(15) == 0


def test_upgrade_h2c_is_served_as_http11(procs: Processes, tls_files: TlsFiles) -> None:
    front = start(procs, tls_files)
    with httpx.Client() as c:
        r = c.get(
            front.url + "/hello",
            headers={
                "upgrade": "h2c",
                "connection": "upgrade, http2-settings",
                "http2-settings": "",
            },
        )
    assert (r.http_version, r.status_code, r.text) == ("HTTP/1.1", 200, "hello")


def test_no_http2(procs: Processes, tls_files: TlsFiles) -> None:
    front = start(procs, tls_files, "--no-http2")
    with httpx.Client(http2=True, verify=tls_files.client_context()) as c:
        r = c.get(base_url(front, "tls") + "/hello")
        assert (r.http_version, r.text) == ("HTTP/1.1", "hello")


@pytest.mark.parametrize("mode", MODES)
def test_sse_streams_share_a_connection(procs: Processes, tls_files: TlsFiles, mode: str) -> None:
    front = start(procs, tls_files, app="sse_app:app")
    conn = h2_conn(front, tls_files, mode)
    accept = [("accept", "text/event-stream")]
    try:
        scope_sid = conn.request("/scope", headers=accept)
        keep = [
            conn.request(f"/keepalive?interval=0.2&idle=0.7&comment=k{i}", headers=accept)
            for i in range(3)
        ]
        wire_sid = conn.request("/wire", headers=accept)
        headers, body, _ = conn.response(scope_sid)
        assert headers[b":status"] == b"200"
        assert headers[b"content-type"].startswith(b"text/event-stream")
        info = json.loads(body.decode().split("data: ", 1)[1].split("\n", 1)[0])
        assert info["type"] == "sse" and info["http_version"] == "2"
        _, wire, _ = conn.response(wire_sid)
        assert wire.startswith(b"data: hello\n\n")
        for i, sid in enumerate(keep):
            _, stream, _ = conn.response(sid)
            # idle comments from the front, per stream, before and around the event
            assert stream.count(f":k{i}\n\n".encode()) >= 2, stream
            assert b"data: tick\n\n" in stream
    finally:
        conn.close()


def test_expect_100_continue(procs: Processes, tls_files: TlsFiles) -> None:
    front = start(procs, tls_files)
    conn = h2_conn(front, tls_files, "h2c")
    try:
        sid = conn.request(
            "/echo", method="POST", headers=[("expect", "100-continue")], body=None, end=False
        )
        events = conn.events(lambda e: isinstance(e, h2.events.InformationalResponseReceived))
        informational = [
            e for e in events if isinstance(e, h2.events.InformationalResponseReceived)
        ]
        assert dict(informational[0].headers)[b":status"] == b"100"
        conn.send_body(sid, b"the body")
        headers, body, _ = conn.response(sid)
        assert headers[b":status"] == b"200" and body == b"the body"
    finally:
        conn.close()


@pytest.mark.parametrize("table", ["4096", "0"])
def test_nghttp2_reads_our_header_blocks(procs: Processes, tls_files: TlsFiles, table: str) -> None:
    """nghttp2 (h2load) as the client, its decoder table as given: with 0 it expects a
    dynamic table size update first (RFC 7541 section 4.2), which the encoder sends."""
    front = start(procs, tls_files)
    argv = ["h2load", "-n", "60", "-c", "2", "-m", "4", "--header-table-size", table]
    done = subprocess.run([*argv, f"{front.url}/hello"], capture_output=True, text=True, timeout=30)
    assert "60 succeeded, 0 failed, 0 errored" in done.stdout, done.stdout + done.stderr
    assert "status codes: 60 2xx" in done.stdout
