"""Process life: embedded mode, production layout in any order, lifespan, signals."""

from __future__ import annotations

import email.parser
import os
import signal
import socket
import struct
import subprocess
import time
import zipfile

import httpx
import psutil
import pytest
from harness import APPS, PYTHON, REPO, Processes


def test_embedded_two_workers_share_the_load(procs: Processes) -> None:
    front = procs.front(app="basic:app", workers=2)
    with httpx.Client() as client:
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            pids = set(pool.map(lambda _: client.get(front.url + "/pid?sleep=0.3").text, range(6)))
    assert len(pids) == 2


def test_embedded_sigterm_stops_everything(procs: Processes) -> None:
    front = procs.front(app="basic:app", workers=2)
    children = psutil.Process(front.pid).children(recursive=True)
    assert len(children) >= 2
    front.signal(signal.SIGTERM)
    assert front.wait(15) == 0
    _gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive


def test_embedded_graceful_stop_finishes_in_flight_request(procs: Processes) -> None:
    front = procs.front(app="basic:app", workers=1)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(httpx.get, front.url + "/sleep?s=1", timeout=10)
        time.sleep(0.3)
        front.signal(signal.SIGTERM)
        r = future.result()
    assert r.status_code == 200 and r.text == "slept"
    assert front.wait(15) == 0


def test_embedded_respawns_a_crashed_worker(procs: Processes) -> None:
    front = procs.front(app="basic:app", workers=1)
    pid = int(httpx.get(front.url + "/pid").text)
    os.kill(pid, signal.SIGKILL)
    front.wait_for_log(r"worker .* joined", count=2, timeout=15)
    new_pid = int(httpx.get(front.url + "/pid").text)
    assert new_pid != pid


def test_embedded_lifespan_failure_stops_the_front_with_its_message(procs: Processes) -> None:
    front = procs.front(app="lifespan_failed:app", workers=2, wait=False)
    assert front.wait(20) == 3
    assert "database unreachable" in front.logs()


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("nonexistent_module:app", "nonexistent_module"),
        ("basic:nope", "nope"),
        ("not_callable:app", "not callable"),
    ],
)
def test_embedded_bad_app_exits_2(procs: Processes, spec: str, needle: str) -> None:
    front = procs.front(app=spec, workers=1, wait=False)
    assert front.wait(20) == 2
    assert needle in front.logs()


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("nonexistent_module:app", "cannot import module 'nonexistent_module'"),
        ("basic:nope", "has no attribute 'nope'"),
        ("not_callable:app", "not callable"),
        ("no_colon", "MODULE:ATTR"),
    ],
)
def test_worker_bad_app_exits_2_with_one_clear_line(tmp_path, spec: str, needle: str) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [PYTHON, "-m", "pagi.worker", spec, "--socket-dir", str(tmp_path), "--app-dir", str(APPS)],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=REPO,
    )
    assert proc.returncode == 2
    assert needle in proc.stderr


def test_worker_lifespan_failed_exits_3(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [
            PYTHON,
            "-m",
            "pagi.worker",
            "lifespan_failed:app",
            "--socket-dir",
            str(tmp_path),
            "--app-dir",
            str(APPS),
        ],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=REPO,
    )
    assert proc.returncode == 3
    assert "database unreachable" in proc.stderr


def test_worker_first_then_front(procs: Processes) -> None:
    worker = procs.worker("basic:app")
    worker.wait_for_log(r"waiting for pagi-front", timeout=15)
    time.sleep(0.5)  # a few retries
    front = procs.front(wait_workers=1)
    assert httpx.get(front.url + "/hello").text == "hello"


def test_late_worker_gets_traffic_at_once(procs: Processes) -> None:
    front = procs.front(wait_workers=0)
    w1 = procs.worker("basic:app")
    front.wait_for_log(r"worker .* joined")
    w2 = procs.worker("basic:app")
    front.wait_for_log(r"worker .* joined", count=2)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        pids = set(pool.map(lambda _: httpx.get(front.url + "/pid?sleep=0.3").text, range(4)))
    assert pids == {str(w1.pid), str(w2.pid)}


def test_worker_survives_a_front_restart(procs: Processes) -> None:
    front = procs.front(wait_workers=0)
    worker = procs.worker("basic:app")
    front.wait_for_log(r"worker .* joined")
    assert httpx.get(front.url + "/state").text == "1"
    front.signal(signal.SIGTERM)
    assert front.wait(15) == 0
    front2 = procs.front(wait_workers=1)
    # same worker process, same lifespan state: it reconnected
    assert httpx.get(front2.url + "/state").text == "2"
    assert worker.popen.poll() is None


def test_worker_sigterm_drains_then_exits_0(procs: Processes) -> None:
    front = procs.front(wait_workers=0)
    worker = procs.worker("basic:app")
    front.wait_for_log(r"worker .* joined")
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(httpx.get, front.url + "/sleep?s=1", timeout=10)
        time.sleep(0.3)
        worker.signal(signal.SIGTERM)
        assert future.result().text == "slept"
    assert worker.wait(10) == 0


def test_garbage_frame_drops_only_that_peer(procs: Processes) -> None:
    front = procs.front(app="basic:app", workers=1)
    sock_path = procs.socket_dir / "workers.sock"
    if not sock_path.exists():  # embedded mode may use the given dir
        pytest.fail(f"no worker socket at {sock_path}")
    intruder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    intruder.connect(str(sock_path))
    intruder.sendall(struct.pack(">I", 5) + b"\xc1\xc1\xc1\xc1\xc1")
    intruder.settimeout(5)
    assert intruder.recv(100) == b""  # the front closed it
    intruder.close()
    front.wait_for_log(r"dropping worker")
    for _ in range(5):
        assert httpx.get(front.url + "/hello").text == "hello"


def test_oversize_frame_drops_only_that_peer(procs: Processes) -> None:
    front = procs.front(app="basic:app", workers=1)
    intruder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    intruder.connect(str(procs.socket_dir / "workers.sock"))
    intruder.sendall(struct.pack(">I", 0xFFFFFFF0))
    intruder.settimeout(5)
    assert intruder.recv(100) == b""
    intruder.close()
    assert httpx.get(front.url + "/hello").text == "hello"


def test_front_and_worker_help_document_env_vars() -> None:
    for module in ("pagi.frontend", "pagi.worker"):
        out = subprocess.run(
            [PYTHON, "-m", module, "--help"],
            capture_output=True,
            text=True,
            timeout=20,
            env={**os.environ, "COLUMNS": "200", "TERM": "dumb"},
        )
        assert out.returncode == 0, out.stderr
        assert "PAGI_SOCKET_DIR" in out.stdout
        assert "--socket-dir" in out.stdout


def test_env_var_configures_the_front(procs: Processes) -> None:
    front = procs.front(app="basic:app", env={"PAGI_MAX_BODY_SIZE": "10"})
    r = httpx.post(front.url + "/count", content=b"x" * 100)
    assert r.status_code == 413


def test_uds_listener(procs: Processes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "client.sock"
    procs.front("--uds", str(path), app="basic:app")
    transport = httpx.HTTPTransport(uds=str(path))
    with httpx.Client(transport=transport) as client:
        info = client.get("http://local/scope").json()
    assert info["client"] is None
    assert info["server"][0] == str(path)


def test_ipv6_bind(procs: Processes) -> None:
    if not socket.has_ipv6:
        pytest.fail("this machine has no IPv6 loopback")
    front = procs.front("--bind", "[::1]:0", app="basic:app")
    port = int(front.wait_for_log(r"listening on http://\[::1\]:(\d+)").group(1))
    assert httpx.get(f"http://[::1]:{port}/hello").text == "hello"


def test_proctitles(procs: Processes) -> None:
    front = procs.front(app="basic:app", workers=1)
    assert psutil.Process(front.pid).cmdline()[0].startswith("pagi-front")
    child = psutil.Process(front.pid).children()[0]
    assert "pagi-worker" in " ".join(child.cmdline())


def test_wheel_builds_and_imports(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = subprocess.run(
        [PYTHON, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    # The distribution is pagi-server (the index's "pagi" is another project);
    # the import namespace and the two commands keep their names.
    wheel = next(tmp_path.glob("pagi_server-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(zf.read(meta_name).decode())
        entry_points = zf.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    assert metadata["Name"] == "pagi-server"
    assert metadata["Requires-Python"] == ">=3.11"
    assert "pagi-front = pagi.frontend.cli:main" in entry_points
    assert "pagi-worker = pagi.worker.cli:main" in entry_points
    assert not [n for n in names if n.split("/")[0] not in ("pagi", meta_name.split("/")[0])]
    target = tmp_path / "site"
    subprocess.run(
        [
            PYTHON,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=120,
    )
    probe = subprocess.run(
        [
            PYTHON,
            "-c",
            "import pagi.protocol, pagi.frontend.cli, pagi.frontend.cli_command, pagi.worker.cli, "
            "pagi.frontend.server, pagi.frontend.http1.connection, "
            "pagi.frontend.websocket.connection; "
            "print(pagi.protocol.__file__)",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(target)},
    )
    assert probe.returncode == 0, probe.stderr
    assert str(target) in probe.stdout
