"""App loading and lifespan startup: exit codes and the one line on stderr.

Each case runs the real program (``python -m pagi.worker``) as a subprocess;
the socket dir is empty, so a worker that gets past loading and lifespan would
wait for a front forever: those cases are stopped with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pagi.worker.loader import AppLoadError, load_app

REPO = Path(__file__).resolve().parents[3]


def run_worker(
    spec: str, app_dir: Path, *args: str, timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pagi.worker",
            spec,
            "--socket-dir",
            str(app_dir / "nosock"),
            "--app-dir",
            str(app_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


@pytest.fixture
def apps(tmp_path: Path) -> Path:
    (tmp_path / "good.py").write_text(
        "async def app(scope, receive, send):\n    pass\n"
        "x = 42\n"
        "def make():\n    return app\n"
        "def make_bad():\n    raise RuntimeError('factory exploded')\n"
    )
    (tmp_path / "broken_dep.py").write_text("import surely_missing_dependency_xyz\napp = 1\n")
    (tmp_path / "raises.py").write_text("raise RuntimeError('import-time failure')\n")
    (tmp_path / "syntax.py").write_text("def app(:\n")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text(
        "class Holder:\n    async def app(self, s, r, c): ...\nholder = Holder()\n"
    )
    (tmp_path / "ls_failed.py").write_text(
        "async def app(scope, receive, send):\n"
        "    await receive()\n"
        "    await send({'type': 'lifespan.startup.failed', 'message': 'no database'})\n"
    )
    (tmp_path / "ls_raises.py").write_text(
        "async def app(scope, receive, send):\n"
        "    raise ValueError(f'unsupported scope {scope[\"type\"]}')\n"
    )
    return tmp_path


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        ("nope", "pagi-worker: the app must be given as MODULE:ATTR"),
        (":app", "pagi-worker: the app must be given as MODULE:ATTR"),
        ("good:", "pagi-worker: the app must be given as MODULE:ATTR"),
        (
            "nope_module_xyz:app",
            "pagi-worker: cannot import module 'nope_module_xyz': "
            "No module named 'nope_module_xyz'",
        ),
        ("pkg.nothere:app", "pagi-worker: cannot import module 'pkg.nothere'"),
        ("good:nope", "pagi-worker: module 'good' has no attribute 'nope'"),
        ("good:x", "pagi-worker: 'good:x' is not callable (it is an int)"),
        ("pkg.mod:holder.nope", "pagi-worker: module 'pkg.mod' has no attribute 'holder.nope'"),
    ],
)
def test_bad_spec_exits_2_with_one_line(apps: Path, spec: str, line: str) -> None:
    proc = run_worker(spec, apps)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(line), lines[0]


@pytest.mark.parametrize(
    ("spec", "line", "in_traceback"),
    [
        (
            "broken_dep:app",
            "pagi-worker: error while importing module 'broken_dep': ModuleNotFoundError: "
            "No module named 'surely_missing_dependency_xyz'",
            "broken_dep.py",
        ),
        (
            "raises:app",
            "pagi-worker: error while importing module 'raises': RuntimeError: import-time failure",
            "raises.py",
        ),
        (
            "syntax:app",
            "pagi-worker: error while importing module 'syntax': SyntaxError",
            "syntax.py",
        ),
    ],
)
def test_module_that_fails_to_import_prints_traceback(
    apps: Path, spec: str, line: str, in_traceback: str
) -> None:
    proc = run_worker(spec, apps)
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr or "SyntaxError" in proc.stderr
    assert in_traceback in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(line)


def test_factory(apps: Path) -> None:
    proc = run_worker("good:make_bad", apps, "--factory")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "pagi-worker: app factory 'good:make_bad' raised RuntimeError: factory exploded"
    )
    assert "Traceback" in proc.stderr


def test_load_app_in_process(apps: Path) -> None:
    sys.path.insert(0, str(apps))
    try:
        app = load_app("good:make", factory=True)
        assert app.__name__ == "app"  # type: ignore[attr-defined]
        assert callable(load_app("pkg.mod:holder.app"))
        with pytest.raises(AppLoadError) as info:
            load_app("good:x", factory=True)
        assert info.value.message == "'good:x' is not callable (it is an int)"
        assert info.value.cause is None
        with pytest.raises(AppLoadError) as info:
            load_app("raises:app")
        assert isinstance(info.value.cause, RuntimeError)
    finally:
        sys.path.remove(str(apps))
        for name in ("good", "pkg", "pkg.mod", "raises"):
            sys.modules.pop(name, None)


def test_factory_must_return_a_callable(apps: Path) -> None:
    (apps / "fact.py").write_text(
        "def make_int():\n    return 5\nasync def make_async():\n    return None\n"
    )
    sys.path.insert(0, str(apps))
    try:
        with pytest.raises(AppLoadError, match="returned an int, not a callable"):
            load_app("fact:make_int", factory=True)
        with pytest.raises(AppLoadError, match="returned an awaitable"):
            load_app("fact:make_async", factory=True)
    finally:
        sys.path.remove(str(apps))
        sys.modules.pop("fact", None)


def test_lifespan_startup_failed_exits_3(apps: Path) -> None:
    proc = run_worker("ls_failed:app", apps)
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines()[-1] == (
        "pagi-worker: lifespan startup failed: no database"
    )


def test_lifespan_on_and_a_raising_app_exits_3(apps: Path) -> None:
    proc = run_worker("ls_raises:app", apps, "--lifespan", "on")
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines()[-1] == (
        "pagi-worker: lifespan startup failed: ValueError: unsupported scope lifespan"
    )


def _start_and_stop(apps: Path, spec: str, *args: str) -> tuple[int, str]:
    log = apps / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pagi.worker",
                spec,
                "--socket-dir",
                str(apps / "nosock"),
                "--app-dir",
                str(apps),
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    try:
        deadline = time.monotonic() + 15
        while "waiting for pagi-front" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        return proc.wait(10), log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_lifespan_auto_and_a_raising_app_carries_on(apps: Path) -> None:
    code, log = _start_and_stop(apps, "ls_raises:app")
    assert code == 0
    assert "lifespan not supported by the app (ValueError: unsupported scope lifespan)" in log


def test_lifespan_off_never_calls_the_app(apps: Path) -> None:
    code, _log = _start_and_stop(apps, "ls_failed:app", "--lifespan", "off")
    assert code == 0


def test_env_vars_configure_the_worker(apps: Path) -> None:
    env = {
        **os.environ,
        "PAGI_APP": "ls_failed:app",
        "PAGI_APP_DIR": str(apps),
        "PAGI_SOCKET_DIR": str(apps / "nosock"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pagi.worker"],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=REPO,
        env=env,
    )
    assert proc.returncode == 3  # found the app through PAGI_APP and PAGI_APP_DIR
    env["PAGI_LIFESPAN"] = "sometimes"
    proc = subprocess.run(
        [sys.executable, "-m", "pagi.worker"],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=REPO,
        env=env,
    )
    assert proc.returncode == 2 and "sometimes" in proc.stderr


def test_help_documents_every_env_var() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pagi.worker", "--help"],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert out.returncode == 0
    for var in (
        "PAGI_APP",
        "PAGI_SOCKET_DIR",
        "PAGI_APP_DIR",
        "PAGI_FACTORY",
        "PAGI_LIFESPAN",
        "PAGI_GRACEFUL_TIMEOUT",
        "PAGI_ROOT_PATH",
        "PAGI_WORKER_NUM",
        "PAGI_WORKER_NAME",
        "PAGI_WORKER_CAPACITY",
        "PAGI_WORKER_WINDOW",
        "PAGI_LOG_LEVEL",
    ):
        assert var in out.stdout, var
