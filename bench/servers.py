"""The servers under test: how each is started, probed, measured and stopped.

Every server runs the same module from ``bench/apps`` on ``127.0.0.1`` and a
fresh port, in its own session (so its process group can be signalled as a
whole), with its output in a log file. Stopping is SIGTERM to the group, then
SIGKILL to every process of the tree that is still there after a grace period
(pagi's embedded workers run in sessions of their own, so the tree is
snapshotted with psutil, not trusted to the process group).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench import revisions
from bench.tls import TLSPair, wrap

REPO = Path(__file__).resolve().parent.parent
PEERS_VENV = REPO / "bench" / ".venv-peers"
PROJECT_BIN = Path(sys.executable).parent

# (app, port, TLS pair or None) -> argv; None as the pair means cleartext.
ArgvFn = Callable[[str, int, TLSPair | None], list[str]]


@dataclass(frozen=True)
class Server:
    """A server configuration. ``argv(app, port, tls)`` is the exact command line."""

    name: str
    description: str
    argv: ArgvFn
    peer: bool  # runs from bench/.venv-peers (else from the project venv)
    is_pagi: bool = False
    # goes before the repository on PYTHONPATH (pagi at an earlier revision)
    import_root: Path | None = None

    def command(self, app: str, port: int, tls: TLSPair | None = None) -> list[str]:
        return self.argv(app, port, tls)


# pagi-front with the per-request counting stubbed out (``bench/nocount.py``)
_NOCOUNT = [sys.executable, "-m", "bench.nocount"]


def _pagi(
    workers: int,
    launcher: list[str] | None = None,
    metrics: bool = False,
    access_log: bool = False,
) -> ArgvFn:
    """pagi-front embedded; ``launcher`` replaces the ``pagi-front`` program,
    ``metrics`` adds ``--metrics-bind`` on a free port (exposition on, not scraped),
    ``access_log`` turns the access log on (into the run's server log)."""

    def argv(app: str, port: int, tls: TLSPair | None) -> list[str]:
        bind = f"127.0.0.1:{port}" if tls is None else f"tls://127.0.0.1:{port}"
        cmd = [
            *(launcher or [str(PROJECT_BIN / "pagi-front")]),
            "--app",
            app,
            "--workers",
            str(workers),
            "--app-dir",
            str(REPO),
            "--bind",
            bind,
            "--access-log" if access_log else "--no-access-log",
            "--log-level",
            "warning",
        ]
        if tls is not None:
            cmd += ["--ssl-certfile", str(tls.certfile), "--ssl-keyfile", str(tls.keyfile)]
        if metrics:
            cmd += ["--metrics-bind", f"127.0.0.1:{free_port()}"]
        return cmd

    return argv


def _peer(tool: str) -> str:
    return str(PEERS_VENV / "bin" / tool)


def _uvicorn(http: str, workers: int, access_log: bool = False) -> ArgvFn:
    def argv(app: str, port: int, tls: TLSPair | None) -> list[str]:
        cmd = [_peer("uvicorn"), app, "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--loop", "uvloop", "--http", http]
        # uvicorn's --log-level also sets its access logger's level (INFO lines):
        # with the log on it must stay at info. pagi's access log ignores it.
        if access_log:
            cmd += ["--access-log", "--log-level", "info"]
        else:
            cmd += ["--no-access-log", "--log-level", "warning"]
        if workers > 1:
            cmd += ["--workers", str(workers)]
        if tls is not None:
            cmd += ["--ssl-certfile", str(tls.certfile), "--ssl-keyfile", str(tls.keyfile)]
        return cmd

    return argv


# Listen backlogs are set to 2048, the default of pagi and uvicorn. granian's
# default (1024) also caps its concurrent requests per worker (--backpressure
# defaults to backlog/workers), which would refuse half the 2,000 SSE streams.


def _hypercorn(app: str, port: int, tls: TLSPair | None) -> list[str]:
    pair = [] if tls is None else ["--certfile", str(tls.certfile), "--keyfile", str(tls.keyfile)]
    return [
        _peer("hypercorn"),
        "--worker-class",
        "uvloop",
        "--backlog",
        "2048",
        "--config",
        "python:bench.apps.hypercorn_config",
        "--bind",
        f"127.0.0.1:{port}",
        *pair,
        app,
    ]


def _granian(app: str, port: int, tls: TLSPair | None) -> list[str]:
    pair = []
    if tls is not None:
        pair = ["--ssl-certificate", str(tls.certfile), "--ssl-keyfile", str(tls.keyfile)]
    return [
        _peer("granian"),
        "--interface",
        "asgi",
        "--loop",
        "uvloop",
        "--workers",
        "1",
        "--backlog",
        "2048",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *pair,
        app,
    ]


def _daphne(app: str, port: int, tls: TLSPair | None) -> list[str]:
    if tls is None:
        where = ["--bind", "127.0.0.1", "--port", str(port)]
    else:  # a Twisted endpoint description
        where = ["-e", f"ssl:{port}:interface=127.0.0.1:privateKey={tls.keyfile}"]
        where[-1] += f":certKey={tls.certfile}"
    return [_peer("daphne"), *where, "--verbosity", "0", app]


SERVERS: dict[str, Server] = {
    s.name: s
    for s in (
        Server(
            "pagi-1w", "pagi-front embedded, 1 worker (httptools parser)", _pagi(1), False, True
        ),
        Server(
            "pagi-2w", "pagi-front embedded, 2 workers (httptools parser)", _pagi(2), False, True
        ),
        Server(
            "pagi-1w-log",
            "pagi-1w with the access log on (to the run's log file)",
            _pagi(1, access_log=True),
            False,
            True,
        ),
        Server(
            "pagi-1w-metrics",
            "pagi-1w with --metrics-bind (Prometheus exposition on, not scraped)",
            _pagi(1, metrics=True),
            False,
            True,
        ),
        Server(
            "pagi-1w-nocount",
            "pagi-1w with the per-request counting stubbed out (bench/nocount.py)",
            _pagi(1, launcher=_NOCOUNT),
            False,
            True,
        ),
        Server(
            "uvicorn-httptools",
            "uvicorn, uvloop + httptools, 1 process",
            _uvicorn("httptools", 1),
            True,
        ),
        Server(
            "uvicorn-log",
            "uvicorn-httptools with the access log on (to the run's log file)",
            _uvicorn("httptools", 1, access_log=True),
            True,
        ),
        Server("uvicorn-h11", "uvicorn, uvloop + h11, 1 process", _uvicorn("h11", 1), True),
        Server(
            "uvicorn-2w", "uvicorn, uvloop + httptools, --workers 2", _uvicorn("httptools", 2), True
        ),
        Server("hypercorn", "hypercorn, uvloop worker class, 1 worker", _hypercorn, True),
        Server("granian", "granian --interface asgi, uvloop, 1 worker", _granian, True),
        Server("daphne", "daphne (Twisted), 1 process", _daphne, True),
    )
}


def at_revision(name: str) -> Server:
    """``pagi-1w@REV`` / ``pagi-2w@REV``: that pagi server running revision REV."""
    base, _, rev = name.partition("@")
    if base not in ("pagi-1w", "pagi-2w", "pagi-1w-log") or not rev:
        raise SystemExit(
            f"bench: {name!r}: only pagi-1w@REV, pagi-2w@REV and pagi-1w-log@REV name a revision"
        )
    server = SERVERS[base]
    root = revisions.import_root(REPO, rev)
    return dataclasses.replace(
        server, name=name, description=f"{server.description}, at {rev}", import_root=root
    )


def free_port() -> int:
    """A port the kernel just handed out for 127.0.0.1 (free at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerStartError(RuntimeError):
    """The server exited or never answered ``GET /`` with a 200."""


class Running:
    """A started server. ``cold_start_s`` is spawn → first 200 on ``GET /``."""

    def __init__(
        self, server: Server, app: str, log_path: Path, tls: TLSPair | None = None
    ) -> None:
        self.server = server
        self.app = app
        self.port = free_port()
        self.tls = tls
        self.log_path = log_path
        self.argv = server.command(app, self.port, tls)
        env = dict(os.environ)
        root = server.import_root
        env["PYTHONPATH"] = str(REPO) if root is None else f"{root}{os.pathsep}{REPO}"
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._t0 = time.perf_counter()
        self.popen = subprocess.Popen(
            self.argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.cold_start_s = 0.0
        self.pids_seen: set[int] = {self.popen.pid}

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_ready(self, timeout: float = 30.0) -> float:
        """Poll ``GET /`` every 5 ms until a 200; returns spawn → 200 in seconds."""
        deadline = self._t0 + timeout
        while True:
            if self.popen.poll() is not None:
                raise ServerStartError(
                    f"{self.server.name} exited with status {self.popen.returncode}: "
                    + self.log_tail()
                )
            if _probe(self.port, self.tls is not None):
                self.cold_start_s = time.perf_counter() - self._t0
                self.tree()  # remember the pids the server is made of
                return self.cold_start_s
            if time.perf_counter() > deadline:
                raise ServerStartError(
                    f"{self.server.name} not ready in {timeout} s: " + self.log_tail()
                )
            time.sleep(0.005)

    @property
    def scheme(self) -> str:
        """``http`` or ``https``: what the server's URLs start with."""
        return "http" if self.tls is None else "https"

    def log_tail(self, n: int = 2000) -> str:
        if not self._log.closed:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def tree(self) -> list[psutil.Process]:
        """The root process and all its live descendants."""
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        self.pids_seen.update(p.pid for p in procs)
        return procs

    def descendants(self) -> list[psutil.Process]:
        return self.tree()[1:]

    def stop(self, grace: float = 5.0) -> list[int]:
        """SIGTERM the group, SIGKILL what is left; returns pids that survived even that."""
        procs = self.tree()
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        _, alive = psutil.wait_procs(procs, timeout=grace)
        alive = [p for p in alive if _alive(p)]
        for proc in alive:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()
        _, still = psutil.wait_procs(alive, timeout=2)
        return [p.pid for p in still if _alive(p)]


def _alive(proc: psutil.Process) -> bool:
    try:
        return bool(proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _probe(port: int, tls: bool = False) -> bool:
    """True when ``GET /`` on ``port`` answers with status 200 (reads only the status line)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            sock = wrap(raw) if tls else raw
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return False
    return data.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200"))


#: The working tree compiled with mypyc (``bench/revisions.py``, built on first use).
COMPILED = ("pagi-1w-mypyc", "pagi-2w-mypyc")


def is_known(name: str) -> bool:
    return name in SERVERS or name in COMPILED or "@" in name


def resolve(name: str) -> Server:
    """A server by name: one of ``SERVERS``, ``pagi-1w@REV``... or ``pagi-1w-mypyc``."""
    if name in COMPILED:
        server = SERVERS[name.removesuffix("-mypyc")]
        root = revisions.compiled_root(REPO)
        return dataclasses.replace(
            server, name=name, description=f"{server.description}, mypyc build", import_root=root
        )
    return at_revision(name) if "@" in name else SERVERS[name]
