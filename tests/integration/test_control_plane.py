"""The control socket, pagi-ctl, metrics and rolling reloads, on real processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from harness import APPS, Front, Processes
from load import LoadGenerator

PAGI_CTL = str(Path(sys.executable).parent / "pagi-ctl")


def ctl(socket_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    argv = [PAGI_CTL, "--socket-dir", str(socket_dir), *args]
    if not os.path.exists(PAGI_CTL):
        argv = [sys.executable, "-m", "pagi.frontend.ctl", *argv[1:]]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def ctl_json(socket_dir: Path, *args: str) -> Any:
    return json.loads(ctl(socket_dir, *args, "--json").stdout)


def ready_pids(socket_dir: Path) -> set[int]:
    return {w["pid"] for w in ctl_json(socket_dir, "status")["workers"] if w["state"] == "ready"}


def wait_until(condition: Any, timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


def test_status_connections_and_stats(procs: Processes) -> None:
    front = procs.front(app="ops_app:app", workers=2)
    sock = procs.socket_dir / "control.sock"
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
    assert httpx.get(front.url + "/").text == "ok v1"
    # A request in progress for as long as the test looks at it.
    slow = socket.create_connection(("127.0.0.1", front.port))
    slow.sendall(b"GET /sleep?seconds=60 HTTP/1.1\r\nhost: x\r\n\r\n")
    try:
        wait_until(
            lambda: any(
                (c["request"] or {}).get("path") == "/sleep"
                for c in ctl_json(procs.socket_dir, "connections")["connections"]
            ),
            what="the slow request in `connections`",
        )
        conns = ctl_json(procs.socket_dir, "connections")["connections"]
        entry = next(c for c in conns if (c["request"] or {}).get("path") == "/sleep")
        assert entry["protocol"] == "http/1.1"
        assert isinstance(entry["age"], float) and entry["age"] >= 0
        assert entry["peer"].startswith("127.0.0.1:")
        assert entry["request"]["method"] == "GET" and entry["request"]["type"] == "http"
        assert entry["request"]["worker"].startswith("ops_app:app #")
        text = ctl(procs.socket_dir, "connections").stdout
        assert "GET /sleep" in text and "http/1.1" in text
        status = ctl_json(procs.socket_dir, "status")
        assert status["front"]["pid"] == front.pid
        assert status["front"]["mode"] == "embedded"
        assert status["front"]["listeners"] == [{"url": front.url, "name": None}]
        assert status["front"]["connections"]["http/1.1"] >= 1
        workers = status["workers"]
        assert len(workers) == 2 and {w["state"] for w in workers} == {"ready"}
        assert sum(w["in_flight"] for w in workers) == 1
        assert all(w["rss"] > 1_000_000 and w["age"] >= 0 for w in workers)
    finally:
        slow.close()
    text = ctl(procs.socket_dir, "status").stdout
    assert f"front pid {front.pid}" in text and "workers: 2" in text and "ready" in text
    wait_until(
        lambda: ctl_json(procs.socket_dir, "stats")["requests"]["http"]["none"] == 1,
        what="the abandoned request counted (499, no status class)",
    )
    stats = ctl_json(procs.socket_dir, "stats")
    assert stats["requests"]["http"]["2xx"] == 1
    assert stats["latency"]["count"] == 2
    assert stats["bytes_sent"] == len("ok v1")
    # curl-style raw HTTP works too, and errors are JSON naming the problem.
    with socket.socket(socket.AF_UNIX) as raw:
        raw.connect(str(sock))
        raw.sendall(b"GET /nope HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        reply = b""
        while chunk := raw.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 404 ") and b'"error": "no such endpoint: /nope"' in reply
    done = ctl(procs.socket_dir, "drain", "nobody", check=False)
    assert done.returncode == 1 and "no worker 'nobody'" in done.stderr


def test_metrics_on_the_bind_and_the_control_socket(procs: Processes) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    front = procs.front("--metrics-bind", "127.0.0.1:0", app="ops_app:app", workers=1)
    port = int(front.wait_for_log(r"metrics on http://127\.0\.0\.1:(\d+)/metrics").group(1))
    for _ in range(3):
        assert httpx.get(front.url + "/").status_code == 200
    assert httpx.get(front.url + "/sleep?seconds=0.02").status_code == 200
    for text in (
        httpx.get(f"http://127.0.0.1:{port}/metrics").text,
        ctl(procs.socket_dir, "metrics").stdout,
    ):
        families = {f.name: f for f in text_string_to_metric_families(text)}
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for f in families.values()
            for s in f.samples
        }
        assert samples[("pagi_requests_total", (("scope", "http"), ("status", "2xx")))] == 4
        assert samples[("pagi_request_duration_seconds_count", ())] == 4
        assert samples[("pagi_request_duration_seconds_bucket", (("le", "+Inf"),))] == 4
        assert samples[("pagi_request_duration_seconds_bucket", (("le", "0.001"),))] <= 3
        assert samples[("pagi_workers", (("state", "ready"),))] == 1
        assert samples[("pagi_requests_in_flight", ())] == 0
        assert samples[("pagi_shed_requests_total", (("reason", "queue_full"),))] == 0
        assert families["pagi_request_duration_seconds"].type == "histogram"
    health = httpx.get(f"http://127.0.0.1:{port}/healthz")
    assert health.status_code == 200 and health.text == "ok\n"
    assert httpx.get(f"http://127.0.0.1:{port}/status").status_code == 404  # no operations on TCP


def test_metrics_on_the_control_socket_alone(procs: Processes) -> None:
    """Without --metrics-bind the exporter is built on the first request for it."""
    procs.front(app="ops_app:app", workers=1)
    text = ctl(procs.socket_dir, "metrics").stdout
    assert "# TYPE pagi_requests_total counter" in text
    assert 'pagi_workers{state="ready"} 1.0' in text


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_control_socket_refuses_other_users(procs: Processes) -> None:
    # A socket dir the other user can reach (pytest's own tmp dirs are 0700).
    socket_dir = tempfile.mkdtemp(prefix="pagi-ctl-test-")
    os.chmod(socket_dir, 0o755)
    try:
        procs.front("--socket-dir", socket_dir, app="ops_app:app", workers=1)
        _check_refusals(os.path.join(socket_dir, "control.sock"))
    finally:
        procs.cleanup()
        shutil.rmtree(socket_dir, ignore_errors=True)


def _check_refusals(path: str) -> None:

    def as_nobody() -> str:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: become nobody, try the socket, report
            os.close(read)
            try:
                os.setgid(65534)
                os.setuid(65534)
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(5)
                    s.connect(path)
                    s.sendall(b"GET /status HTTP/1.1\r\nhost: x\r\n\r\n")
                    result = s.recv(100).split(b"\r\n")[0].decode()
            except OSError as exc:
                result = type(exc).__name__
            os.write(write, result.encode())
            os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        with os.fdopen(read) as f:
            return f.read()

    assert as_nobody() == "PermissionError"  # mode 0600
    os.chmod(path, 0o666)  # a mistake by the operator: SO_PEERCRED still refuses
    assert as_nobody() == "HTTP/1.1 403 Forbidden"


def _versioned_app(tmp_path: Path) -> Path:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    shutil.copy(APPS / "ops_app.py", app_dir / "opsv.py")
    return app_dir


def _set_version(app_dir: Path, version: str) -> None:
    path = app_dir / "opsv.py"
    text = path.read_text()
    start = text.index('VERSION = "') + len('VERSION = "')
    path.write_text(text[:start] + version + text[text.index('"', start) :])


def _front_with_versioned_app(
    procs: Processes, app_dir: Path, env: dict[str, str] | None = None
) -> Front:
    return procs.front(
        "--app", "opsv:app", "--workers", "2", "--app-dir", str(app_dir),
        wait_workers=2,
        env={"PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
    )  # fmt: skip


def test_rolling_reload_under_load_serves_new_code_and_fails_nothing(
    procs: Processes, tmp_path: Path
) -> None:
    app_dir = _versioned_app(tmp_path)
    front = _front_with_versioned_app(procs, app_dir)
    load = LoadGenerator(front.port, "/version").start()
    try:
        load.wait_for(50)
        for version in ("v2", "v3"):
            old = ready_pids(procs.socket_dir)
            _set_version(app_dir, version)
            started = time.monotonic()
            done = ctl(procs.socket_dir, "reload")
            assert "done" in done.stdout
            assert time.monotonic() - started < 10
            new = ready_pids(procs.socket_dir)
            assert len(new) == 2 and not new & old
            load.wait_for(50)
            assert httpx.get(front.url + "/version").text == version
        report = load.stop()
    finally:
        load.stop()
    assert report.failures == [], report.failures[:5]
    assert report.bodies["v1"] and report.bodies["v2"] and report.bodies["v3"]
    status = ctl_json(procs.socket_dir, "status")
    assert status["reload"]["last"]["state"] == "done" and status["reload"]["last"]["id"] == 2


def test_reload_whose_new_worker_fails_lifespan_keeps_the_old_ones(
    procs: Processes, tmp_path: Path
) -> None:
    app_dir = _versioned_app(tmp_path)
    front = _front_with_versioned_app(procs, app_dir, env={"OPS_FAIL_STARTUP": "1"})
    old = ready_pids(procs.socket_dir)
    load = LoadGenerator(front.port, "/version").start()
    try:
        load.wait_for(30)
        _set_version(app_dir, "v2")  # this version's lifespan startup fails
        done = ctl(procs.socket_dir, "reload", check=False)
        assert done.returncode == 1
        assert "failed" in done.stdout and "exited with status 3" in done.stdout
        load.wait_for(30)
        report = load.stop()
    finally:
        load.stop()
    assert report.failures == [], report.failures[:5]
    assert set(report.bodies) == {"v1"}
    assert ready_pids(procs.socket_dir) == old
    last = ctl_json(procs.socket_dir, "status")["reload"]["last"]
    assert last["state"] == "failed" and "exited with status 3" in last["reason"]
    assert "abandoned, old workers keep serving" in front.logs()
    assert front.popen.poll() is None  # the front keeps running


def test_scale_drain_and_signals(procs: Processes) -> None:
    front = procs.front(app="ops_app:app", workers=1)
    assert "workers: 1 -> 3" in ctl(procs.socket_dir, "scale", "3").stdout
    wait_until(lambda: len(ready_pids(procs.socket_dir)) == 3, what="3 workers")
    assert psutil.Process(front.pid).cmdline()[0].endswith("workers=3")  # the process title
    front.signal(signal.SIGTTOU)
    wait_until(lambda: len(ready_pids(procs.socket_dir)) == 2, what="2 workers after SIGTTOU")
    front.signal(signal.SIGTTIN)
    wait_until(lambda: len(ready_pids(procs.socket_dir)) == 3, what="3 workers after SIGTTIN")
    victim = min(ready_pids(procs.socket_dir))
    assert f"pid {victim}" in ctl(procs.socket_dir, "drain", str(victim)).stdout
    wait_until(
        lambda: (
            victim not in ready_pids(procs.socket_dir) and len(ready_pids(procs.socket_dir)) == 3
        ),
        what="the drained worker replaced",
    )
    before = ready_pids(procs.socket_dir)
    front.signal(signal.SIGHUP)
    wait_until(
        lambda: (
            not ready_pids(procs.socket_dir) & before and len(ready_pids(procs.socket_dir)) == 3
        ),
        what="SIGHUP reload",
    )
    assert ctl_json(procs.socket_dir, "stats")["reloads"] == 1


def test_operations_in_the_production_layout_say_what_to_do(procs: Processes) -> None:
    procs.front(wait_workers=0)
    done = ctl(procs.socket_dir, "reload", check=False)
    assert done.returncode == 1 and "rolling-restart.sh" in done.stderr
    assert ctl(procs.socket_dir, "status", "--ready", check=False).returncode == 4


def test_pagi_ctl_without_a_front_exits_3(tmp_path: Path) -> None:
    done = ctl(tmp_path, "status", check=False)
    assert done.returncode == 3 and "no pagi-front answers" in done.stderr
