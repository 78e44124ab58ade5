"""Each HTTP example runs with the one command of its README and does what it says."""

from __future__ import annotations

import hashlib

import httpx
from harness import REPO, Processes


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


def test_file_download(procs: Processes) -> None:
    front = procs.front(app="examples.file_download.app:app")
    source = (REPO / "examples" / "file_download" / "app.py").read_bytes()
    r = httpx.get(front.url + "/")
    assert r.content == source
    assert "attachment" in r.headers["content-disposition"]
    r = httpx.get(front.url + "/big?mib=3")
    assert len(r.content) == 3 * 1024 * 1024
    block = bytes(range(256)) * 4096
    assert hashlib.sha256(r.content).digest() == hashlib.sha256(block * 3).digest()


def test_every_example_has_a_readme_with_its_command() -> None:
    for folder in sorted((REPO / "examples").iterdir()):
        if folder.is_dir() and (folder / "app.py").exists():
            readme = (folder / "README.md").read_text()
            assert f"examples.{folder.name}.app:app" in readme, folder
