"""--reload: a code change rolls fresh workers in while connections stay open."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from harness import Processes
from load import LoadGenerator
from pagi.frontend.dev_reload import PathFilter
from test_control_plane import _set_version, _versioned_app

REQUEST = b"GET /version HTTP/1.1\r\nhost: x\r\n\r\n"


def _ask(sock: socket.socket) -> bytes:
    sock.sendall(REQUEST)
    data = b""
    while not data.endswith((b"v1", b"v2")):
        chunk = sock.recv(4096)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data[-2:]


def test_reload_on_change_keeps_connections_and_fails_nothing(
    procs: Processes, tmp_path: Path
) -> None:
    app_dir = _versioned_app(tmp_path)
    (app_dir / "notes.txt").write_text("x")
    front = procs.front(
        "--app", "opsv:app", "--workers", "2", "--app-dir", str(app_dir),
        "--reload", "--reload-dir", str(app_dir), "--keepalive-timeout", "30",
        wait_workers=2,
        env={"PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    front.wait_for_log("--reload")
    browser = socket.create_connection(("127.0.0.1", front.port), timeout=10)
    load = LoadGenerator(front.port, "/version", keepalive=2, fresh=1).start()
    try:
        assert _ask(browser) == b"v1"
        (app_dir / "notes.txt").write_text("not code")  # not *.py: no reload
        time.sleep(1.0)
        assert "reloading the workers" not in front.logs()
        _set_version(app_dir, "v2")
        front.wait_for_log(r"changes in .*opsv\.py: reloading the workers")
        front.wait_for_log(r"reload \d+ done")
        load.wait_for(30)
        assert _ask(browser) == b"v2"  # the same client connection, new code
        report = load.stop()
    finally:
        load.stop()
        browser.close()
    assert report.failures == [], report.failures[:5]
    assert report.bodies["v1"] and report.bodies["v2"]


def test_path_filter() -> None:
    default = PathFilter([], [])
    assert default("/srv/app/views.py")
    assert not default("/srv/app/__pycache__/views.cpython-311.pyc")
    assert not default("/srv/app/.git/config.py")
    assert not default("/srv/app/notes.txt")
    custom = PathFilter(["*.py", "*.html"], ["migrations"])
    assert custom("/srv/app/templates/index.html")
    assert not custom("/srv/app/migrations/0001.py")
