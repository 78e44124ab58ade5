"""Each example does what its README says, and every README command works as written.

``test_readme_commands`` reads the ``sh`` blocks of ``examples/*/README.md``
and runs them: the server command (on a free port and a temporary socket dir
instead of 8000 and the private default), then every client command (``curl``,
``python -m websockets``, the slow SSE client) through ``bash``, with ``.venv/bin/``
meaning the environment the suite runs in. Each client's output must show
what the README promises.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import httpx
import pytest
from harness import REPO, SCRIPTS, Front, Processes
from sse_client import ChunkedStream, events_of
from test_resume import reload
from websockets.sync.client import connect


def test_hello(procs: Processes) -> None:
    front = procs.front(app="examples.hello.app:app", workers=2)
    r = httpx.get(front.url + "/")
    assert r.status_code == 200
    assert r.text == "Hello, world!"


def test_streaming_sends_lines_as_they_are_made(procs: Processes) -> None:
    front = procs.front(app="examples.streaming.app:app")
    with httpx.stream("GET", front.url + "/?count=3") as r:
        assert r.headers["transfer-encoding"] == "chunked"
        lines = list(r.iter_lines())
    assert lines == ["line 0", "line 1", "line 2"]


def test_echo_returns_the_body(procs: Processes) -> None:
    front = procs.front(app="examples.echo.app:app")
    body = bytes(range(256)) * 4096  # 1 MiB
    r = httpx.post(front.url + "/", content=body)
    assert r.content == body


def test_lifespan_state_counts_per_worker(procs: Processes) -> None:
    front = procs.front(app="examples.lifespan_state.app:app", workers=1)
    first = httpx.get(front.url + "/").text
    second = httpx.get(front.url + "/").text
    assert first.startswith("hit 1 on worker pid ")
    assert second.startswith("hit 2 on worker pid ")


def test_file_download_and_its_cleanup(procs: Processes, tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    front = procs.front(app="examples.file_download.app:app", env={"TMPDIR": str(temp)})
    source = (REPO / "examples" / "file_download" / "app.py").read_bytes()
    r = httpx.get(front.url + "/")
    assert r.content == source
    assert "attachment" in r.headers["content-disposition"]
    r = httpx.get(front.url + "/big?mib=3")
    assert r.content == bytes(3 * 1024 * 1024)
    [made] = temp.iterdir()
    assert made.name.startswith("pagi-example-download-")
    assert sum(f.stat().st_blocks for f in made.iterdir()) < 64  # sparse: no real disk use
    front.signal(signal.SIGTERM)
    assert front.wait() == 0
    assert list(temp.iterdir()) == []  # lifespan shutdown removed it


def test_the_sse_clock_goes_on_through_a_reload(procs: Processes) -> None:
    """No reconnect, no gap: the front resumes the stream (docs/resume.md)."""
    front = procs.front(app="examples.sse_clock.app:app", workers=2)
    with ChunkedStream(front.port, "/clock", timeout=10) as clock:
        assert clock.read_head() == 200
        payloads: list[bytes] = []
        while len(events_of(payloads)) < 2:
            item = clock.chunk()
            assert item is not None
            payloads.append(item[1])
        reload(procs.socket_dir)
        while len(events_of(payloads)) < 5:
            item = clock.chunk()
            assert item is not None, "the stream ended at the reload"
            payloads.append(item[1])
    ids = [int(event["id"]) for event in events_of(payloads)]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert "resuming GET /clock" in front.logs()


def test_the_websocket_resume_example_moves_on_a_reload(procs: Processes) -> None:
    front = procs.front(app="examples.websocket_resume.app:app", workers=2)
    with connect(f"ws://127.0.0.1:{front.port}/") as ws:
        ws.send("a")
        first = str(ws.recv(timeout=5))
        reload(procs.socket_dir)
        ws.send("b")
        second = str(ws.recv(timeout=10))
    assert first.startswith("#1 a (worker pid ") and second.startswith("#2 b (worker pid ")
    assert first.split()[-1] != second.split()[-1]


def test_every_example_has_a_readme_with_its_command() -> None:
    for folder in sorted((REPO / "examples").iterdir()):
        if folder.is_dir() and (folder / "app.py").exists():
            readme = (folder / "README.md").read_text()
            assert f"examples.{folder.name}.app:app" in readme, folder


# --- every README command, as written ----------------------------------------------

# What each client command of a README must print (regex), in README order, and
# the line typed into it for the interactive WebSocket client. The slow SSE
# client needs the kernel's socket buffers filled first (its README says so).
SLOW = {"sse_conflate": 40.0, "live_feed": 40.0}
CLIENTS: dict[str, list[tuple[str | None, str]]] = {
    "hello": [(None, r"Hello, world!")],
    "streaming": [(None, r"line 0\n(line \d+\n)*line 19\n")],
    "echo": [(None, r"^same$")],
    "lifespan_state": [(None, r"^hit 1 on worker pid \d+"), (None, r"^hit 2 on worker pid \d+")],
    "file_download": [(None, r'^"""A file download'), (None, r"^52428800 bytes$")],
    "sse_clock": [(None, r"event: tick\n")],
    "sse_post": [(None, r"event: word\n(.*\n)*event: done\n")],
    "sse_conflate": [(None, r'"skipped": 0'), (None, r"skipped +[1-9]\d* +age +\d\.\d\ds")],
    "websocket_echo": [("hello from the README test", r"< hello from the README test")],
    "websocket_chat": [("hi everyone", r"< cli: hi everyone")],
    "websocket_resume": [("hello", r"< #1 hello \(worker pid \d+\)")],
    "chat": [("hi everyone", r"< cli: hi everyone")],
    "live_feed": [(None, r'"skipped": 0'), (None, r"skipped +[1-9]\d* +age +\d\.\d\ds")],
}


def _commands(readme: Path) -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", readme.read_text(), re.DOTALL)
    lines = [ln.strip() for block in blocks for ln in block.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def _venv(command: str) -> str:
    """``.venv/bin/x`` is the suite's own environment (a CI venv may be named otherwise)."""
    return command.replace(".venv/bin/", f"{SCRIPTS}/")


def _start_server(procs: Processes, command: str) -> Front:
    argv = shlex.split(_venv(command))
    assert Path(argv[0]).name == "pagi-front", command
    workers = int(argv[argv.index("--workers") + 1]) if "--workers" in argv else 1
    argv += ["--bind", "127.0.0.1:0", "--socket-dir", str(procs.tmp / "sock")]
    temp = procs.tmp / "temp"  # the server's temporary files: must be gone at the end
    temp.mkdir()
    front = Front(argv, procs.tmp / "server.log", {"TMPDIR": str(temp)})
    procs.started.append(front)
    front.wait_ready(workers)
    return front


class _Output:
    """Everything a child prints, collected by a thread as it comes."""

    def __init__(self, stream: IO[bytes] | None) -> None:
        self._data = bytearray()
        self._stream = stream
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self._stream is not None
        while chunk := self._stream.read1():
            self._data += chunk

    @property
    def text(self) -> str:
        return self._data.decode(errors="replace")


def _run_client(command: str, typed: str | None, expect: str, timeout: float = 15.0) -> None:
    """Run ``command`` until its output matches ``expect``; it must not fail first."""
    proc = subprocess.Popen(
        ["bash", "-c", command],
        stdin=subprocess.PIPE if typed is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,  # curl's progress meter: shown only when a check fails
        cwd=REPO,
        start_new_session=True,
    )
    out, err = _Output(proc.stdout), _Output(proc.stderr)
    rx = re.compile(expect, re.MULTILINE)
    try:
        if proc.stdin is not None and typed is not None:
            time.sleep(0.5)  # let the client connect before typing
            proc.stdin.write(typed.encode() + b"\n")
            proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while not rx.search(out.text):
            if proc.poll() is not None and not out.thread.is_alive():
                break
            assert time.monotonic() < deadline, (
                f"{command!r}: no {expect!r} in:\n{out.text}{err.text}"
            )
            time.sleep(0.05)
        assert rx.search(out.text), f"{command!r} exited {proc.returncode}:\n{out.text}{err.text}"
        if proc.stdin is not None:
            proc.stdin.close()  # Ctrl-D for the interactive client
        try:
            returncode = proc.wait(3)
        except subprocess.TimeoutExpired:
            return  # a stream that runs until Ctrl-C, as its README says
        assert returncode == 0, f"{command!r} exited {returncode}:\n{out.text}{err.text}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        out.thread.join(5)
        err.thread.join(5)


@pytest.mark.parametrize("example", sorted(CLIENTS))
def test_readme_commands(procs: Processes, example: str) -> None:
    server, *clients = _commands(REPO / "examples" / example / "README.md")
    assert len(clients) == len(CLIENTS[example]), clients
    front = _start_server(procs, server)
    for command, (typed, expect) in zip(clients, CLIENTS[example], strict=True):
        assert "127.0.0.1:8000" in command or "--port 8000" in command, command
        command = _venv(command).replace("127.0.0.1:8000", f"127.0.0.1:{front.port}")
        command = command.replace("--port 8000", f"--port {front.port}")
        _run_client(command, typed, expect, SLOW.get(example, 15.0))
    front.signal(signal.SIGTERM)
    assert front.wait(15) == 0
    assert list((procs.tmp / "temp").iterdir()) == [], "the example left files behind"


def test_every_example_is_covered() -> None:
    folders = {f.name for f in (REPO / "examples").iterdir() if (f / "app.py").exists()}
    assert folders == set(CLIENTS)
