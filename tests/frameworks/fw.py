"""Helpers of the framework tests: servers (pagi, uvicorn) and response comparison.

Each test module starts its app once under ``pagi-front --app ... --workers 1``
(``--interface auto``: the worker finds the framework and serves it as an ASGI
app) and once under uvicorn, and sends both the same requests. The apps live in
``tests/frameworks/apps``. The frameworks come from the ``frameworks`` extra of
pyproject.toml (``tests/run.sh`` installs it).
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness import PYTHON, Front, Proc, Processes
from websockets.sync.client import connect as ws_connect

FRAMEWORK_APPS = Path(__file__).resolve().parent / "apps"
_UVICORN_RE = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")

#: Response headers whose values both servers must agree on (others, like
#: ``date`` and ``server``, legitimately differ).
COMPARED_HEADERS = (
    "content-type",
    "content-length",
    "location",
    "content-range",
    "accept-ranges",
    "allow",
    "www-authenticate",
)


@dataclass
class Server:
    """A running server: pagi (front + 1 worker) or uvicorn."""

    name: str
    url: str
    proc: Proc

    def logs(self) -> str:
        return self.proc.logs()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@dataclass
class Pair:
    pagi: Server
    uvicorn: Server

    def both(self) -> tuple[Server, Server]:
        return self.pagi, self.uvicorn


def start_pagi(procs: Processes, app: str, *args: str, env: dict[str, str] | None = None) -> Server:
    front: Front = procs.front(*args, app=app, app_dir=FRAMEWORK_APPS, env=env)
    return Server("pagi", front.url, front)


def start_uvicorn(
    procs: Processes, app: str, *args: str, env: dict[str, str] | None = None
) -> Server:
    argv = [PYTHON, "-m", "uvicorn", app, "--app-dir", str(FRAMEWORK_APPS)]
    argv += ["--host", "127.0.0.1", "--port", "0", "--log-level", "info", *args]
    proc = procs.spawn("uvicorn", argv, env)
    port = int(proc.wait_for_log(_UVICORN_RE.pattern, timeout=20).group(1))
    return Server("uvicorn", f"http://127.0.0.1:{port}", proc)


def same_response(
    pair: Pair,
    method: str,
    path: str,
    compare_body: bool = True,
    headers_to_compare: tuple[str, ...] = COMPARED_HEADERS,
    **kw: object,
) -> httpx.Response:
    """Send the same request to both servers; assert the same status, the same
    values of :data:`COMPARED_HEADERS` and the same body. Returns pagi's."""
    responses = []
    for server in pair.both():
        with httpx.Client(base_url=server.url, timeout=15, follow_redirects=False) as client:
            responses.append(client.request(method, path, **kw))  # type: ignore[arg-type]
    ours, theirs = responses
    assert ours.status_code == theirs.status_code, (path, ours.text, theirs.text)
    for name in headers_to_compare:
        mine = _neutral(ours.headers.get(name), pair.pagi)
        other = _neutral(theirs.headers.get(name), pair.uvicorn)
        assert mine == other, (path, name, mine, other)
    if compare_body:
        assert ours.content == theirs.content, path
    return ours


def _neutral(value: str | None, server: Server) -> str | None:
    """A header value with the server's own address replaced (redirects name it)."""
    if value is None:
        return None
    if "," in value and value.replace(",", "").replace(" ", "").isalpha():
        value = ", ".join(sorted(v.strip() for v in value.split(",")))  # allow: any order
    return value.replace(server.url.removeprefix("http://"), "SERVER")


def probe(server: Server) -> dict[str, object]:
    """The app's ``/probe`` JSON (what happened inside it)."""
    result: dict[str, object] = httpx.get(server.url + "/probe", timeout=10).json()
    return result


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.03)


def leave_mid_stream(server: Server, request: bytes, marker: bytes) -> None:
    """Send ``request`` on a raw connection, read until ``marker`` arrived,
    then close the connection: a client that leaves in the middle."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        got = b""
        while marker not in got:
            chunk = sock.recv(65536)
            assert chunk, f"{server.name} closed before {marker!r}"
            got += chunk


def stops_when_the_client_leaves(pair: Pair, request: bytes, marker: bytes, key: str) -> None:
    """On both servers: a generator that would stream for long stops (its
    ``/probe`` ``key`` says ``stopped after N``) once the client leaves; pagi
    logs no traceback for it (a client leaving is not an app error)."""
    for server in pair.both():
        leave_mid_stream(server, request, marker)
        wait_until(
            lambda s=server: str(probe(s)[key]).startswith("stopped after"),
            f"the generator to stop under {server.name}",
        )
    assert "Traceback" not in pair.pagi.logs()


def ws_round_trip(pair: Pair, path: str, message: str, reply: str) -> None:
    """On both servers: open ``path``, send ``message``, expect ``reply``."""
    for server in pair.both():
        with ws_connect(f"ws://127.0.0.1:{server.port}{path}", open_timeout=5) as ws:
            ws.send(message)
            assert ws.recv(timeout=5) == reply, server.name
