"""Start real pagi-front / pagi-worker processes for tests, and clean them up.

Every process gets its own session (so a front's spawned workers die with it),
logs to a file the test can search, and is killed at teardown whatever happens.
Ports are ephemeral (``--bind 127.0.0.1:0``); the front logs the port it got.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APPS = REPO / "tests" / "apps"
PYTHON = sys.executable
# The installed console scripts (pagi-front, pagi-worker) next to the interpreter.
SCRIPTS = Path(PYTHON).parent

_LISTEN_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


class Proc:
    """A child process whose stderr+stdout go to a log file."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.log_path = log_path
        full_env = dict(os.environ)
        full_env["PYTHONUNBUFFERED"] = "1"
        if env:
            full_env.update(env)
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in kill()
        self.popen = subprocess.Popen(
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
            env=full_env,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = 10.0, count: int = 1) -> re.Match[str]:
        """Wait until ``pattern`` (a regex) occurs ``count`` times in the log."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            matches = list(rx.finditer(self.logs()))
            if len(matches) >= count:
                return matches[count - 1]
            if self.popen.poll() is not None:
                matches = list(rx.finditer(self.logs()))
                if len(matches) >= count:
                    return matches[count - 1]
                raise AssertionError(
                    f"process exited ({self.popen.returncode}) before logging {pattern!r}:\n"
                    + self.logs()[-4000:]
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {pattern!r}:\n" + self.logs()[-4000:])
            time.sleep(0.02)

    def wait(self, timeout: float = 10.0) -> int:
        return self.popen.wait(timeout)

    def signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole process group (the front and any workers it spawned)."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


class Front(Proc):
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, workers: int, timeout: float = 15.0) -> None:
        self.port = int(self.wait_for_log(_LISTEN_RE.pattern, timeout).group(1))
        if workers:
            self.wait_for_log(r"worker .* joined", timeout, count=workers)


class Processes:
    """Factory for processes of one test; ``cleanup`` kills them all."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.socket_dir = tmp_path / "sock"
        self.started: list[Proc] = []
        self._n = 0

    def _log(self, name: str) -> Path:
        self._n += 1
        return self.tmp / f"{self._n:02d}-{name}.log"

    def front(
        self,
        *args: str,
        app: str | None = None,
        workers: int = 1,
        wait: bool = True,
        wait_workers: int | None = None,
        env: dict[str, str] | None = None,
    ) -> Front:
        argv = [
            PYTHON,
            "-m",
            "pagi.frontend",
            "--bind",
            "127.0.0.1:0",
            "--socket-dir",
            str(self.socket_dir),
        ]
        if app is not None:
            argv += ["--app", app, "--workers", str(workers), "--app-dir", str(APPS)]
        argv += list(args)
        proc = Front(argv, self._log("front"), env)
        self.started.append(proc)
        if wait:
            proc.wait_ready(workers if wait_workers is None else wait_workers)
        return proc

    def command(
        self, *argv: str, env: dict[str, str] | None = None, ready_workers: int | None = None
    ) -> Front:
        """Start a console script exactly as given (``"pagi-front", "main:app", ...``).

        With ``ready_workers`` (a front), wait until it listens and that many joined.
        """
        proc = Front([str(SCRIPTS / argv[0]), *argv[1:]], self._log(argv[0]), env)
        self.started.append(proc)
        if ready_workers is not None:
            proc.wait_ready(ready_workers)
        return proc

    def worker(self, app: str, *args: str, env: dict[str, str] | None = None) -> Proc:
        argv = [
            PYTHON,
            "-m",
            "pagi.worker",
            app,
            "--socket-dir",
            str(self.socket_dir),
            "--app-dir",
            str(APPS),
            *args,
        ]
        proc = Proc(argv, self._log("worker"), env)
        self.started.append(proc)
        return proc

    def cleanup(self) -> None:
        for proc in self.started:
            proc.kill()


def run_command(
    *argv: str, env: dict[str, str] | None = None, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run a console script (``pagi-front``, ``pagi-worker``) to completion; output as text."""
    full_env = {**os.environ, "COLUMNS": "120", "TERM": "dumb", **(env or {})}
    return subprocess.run(
        [str(SCRIPTS / argv[0]), *argv[1:]],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )


def raw_request(port: int, data: bytes, timeout: float = 5.0, read_all: bool = True) -> bytes:
    """Send raw bytes, return everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return recv_until_close(sock) if read_all else sock.recv(65536)


def recv_until_close(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    """The status code of the first response in ``response``."""
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", response)
    assert match, f"not an HTTP response: {response[:200]!r}"
    return int(match.group(1))


def iter_pids_of_tree(pid: int) -> Iterator[int]:
    import psutil

    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    yield pid
    for child in parent.children(recursive=True):
        yield child.pid


class PeakRSS:
    """Samples the RSS of some processes in a thread; remembers the peaks.

    ``stop()`` returns, per process, how far its RSS rose above where it was
    when sampling started.
    """

    def __init__(self, pids: list[int]) -> None:
        import psutil

        self.procs = [psutil.Process(p) for p in pids]
        self.baseline = [p.memory_info().rss for p in self.procs]
        self.peak = list(self.baseline)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for i, p in enumerate(self.procs):
                self.peak[i] = max(self.peak[i], p.memory_info().rss)
            time.sleep(0.01)

    def stop(self) -> list[int]:
        self._stop.set()
        self._thread.join()
        return [peak - base for peak, base in zip(self.peak, self.baseline, strict=True)]
