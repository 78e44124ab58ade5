"""The usual pagi-front command lines read without typer give typer's very config."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
from collections.abc import Sequence

import pytest
import typer
from pagi.frontend import cli_command, cli_fast, server
from pagi.frontend.cli_fast import parse_common
from pagi.frontend.config import FrontConfig


def _typer_config(args: Sequence[str], monkeypatch: pytest.MonkeyPatch) -> FrontConfig:
    seen: list[tuple[FrontConfig, Sequence[str]]] = []

    def fake_run(config: FrontConfig, warnings: Sequence[str] = ()) -> int:
        seen.append((config, warnings))
        return 0

    monkeypatch.setattr(server, "run", fake_run)
    with contextlib.suppress(SystemExit):
        typer.main.get_command(cli_command.cli).main(list(args), standalone_mode=False)
    assert len(seen) == 1
    config, warnings = seen[0]
    assert list(warnings) == []
    return config


def _same(fast: FrontConfig | None, reference: FrontConfig) -> bool:
    """Equal but for the random per-process channels node name."""
    assert fast is not None
    return dataclasses.replace(fast, channels_node="") == dataclasses.replace(
        reference, channels_node=""
    )


@pytest.fixture(autouse=True)
def _no_pagi_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PAGI_") or name.startswith("LISTEN_"):
            monkeypatch.delenv(name)


# Every option parse_common reads, each in at least one command line.
COMMAND_LINES = [
    [],
    ["main:app"],
    ["--app", "main:app"],
    ["main:app", "--app", "main:app"],
    ["bench.apps.hello:app", "--workers", "3", "--app-dir", "/srv/x y", "--bind", "127.0.0.1:0"],
    ["a.b:c", "-b", "[::1]:8000", "--bind", "0.0.0.0:80", "--uds", "/tmp/s1", "--uds", "/tmp/s2"],
    ["--uds", "/tmp/only.sock"],
    ["a:b", "--uds", "/tmp/s", "--bind", "127.0.0.1:9"],
    ["a:b", "--host", "0.0.0.0", "--port", "9000"],
    ["a:b", "--host", "::1"],
    ["a:b", "--host", "[::1]"],
    ["a:b", "--port", "0"],
    ["a:b", "--port", "65535"],
    ["a:b", "--factory", "--lifespan", "off", "--sse-scope", "on", "--interface", "asgi"],
    ["a:b", "--no-factory", "--lifespan", "auto", "--interface", "pagi", "--sse-scope", "off"],
    ["a:b", "--root-path", "/api", "--socket-dir", "/run/x"],
    ["--socket-dir", "/run/pagi-prod", "--bind", "127.0.0.1:8001"],
    ["a:b", "--access-log", "--log-level", "debug", "--use-colors"],
    ["a:b", "--no-access-log", "--log-level", "warning", "--no-use-colors"],
    [
        "--app",
        "bench.apps.hello:app",
        "--workers",
        "1",
        "--app-dir",
        "/work",
        "--bind",
        "127.0.0.1:8080",
        "--no-access-log",
        "--log-level",
        "warning",
    ],
]


@pytest.mark.parametrize("args", COMMAND_LINES)
def test_same_config_as_typer(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = parse_common(args, {})
    assert _same(fast, _typer_config(args, monkeypatch))


def test_every_option_read_is_compared() -> None:
    options = {*cli_fast._VALUED, *cli_fast._REPEATED, *cli_fast._FLAGS}
    written = {arg for args in COMMAND_LINES for arg in args if arg.startswith("-")}
    assert options <= written


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["a:b", "--version"],
        ["a:b", "--http", "h11"],  # not read here: typer's job
        ["a:b", "--bind=127.0.0.1:1"],
        ["a:b", "--bind"],  # value missing
        ["a:b", "--bind", "nonsense"],
        ["a:b", "--bind", "tls://127.0.0.1:8443"],  # the certificate checks are typer's
        ["a:b", "--workers", "0"],
        ["a:b", "--workers", "+1"],
        ["a:b", "--workers", " 1"],
        ["a:b", "--port", "65536"],
        ["a:b", "--port", "-1"],
        ["a:b", "--lifespan", "sometimes"],
        ["a:b", "--lifespan", "ON"],  # typer's choices are case-sensitive
        ["a:b", "--log-level", "info", "--log-level", "debug"],
        ["a:b", "--factory", "--no-factory"],
        ["a:b", "--app-dir", "--bind"],
        ["a:b", "--host", "h", "--bind", "127.0.0.1:1"],
        ["a:b", "c:d"],
        ["a:b", "--app", "c:d"],
        ["notanapp"],
        ["--workers", "2"],  # needs an app
        ["--factory"],
        ["a:b", "--"],
        ["a:b", "-"],
    ],
)
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert parse_common(args, {}) is None


@pytest.mark.parametrize("env", ["PAGI_WORKERS", "PAGI_ENV_FILE", "PAGI_HTTP", "LISTEN_FDS"])
def test_a_variable_typer_would_read_is_left_to_typer(env: str) -> None:
    args = ["a:b", "--workers", "2"]
    assert parse_common(args, {}) is not None
    assert parse_common(args, {env: "1"}) is None


def test_the_start_up_path_imports_no_cli_library() -> None:
    """What the usual command line imports before serving: no typer, click or
    pydantic; no h11 (the control socket's parser, on first use), email (the
    date header is formatted locally), hashlib (on the first WebSocket) or
    prometheus_client (built when metrics are first asked for, or at start
    with --metrics-bind)."""
    code = (
        "import sys\n"
        "from pagi.frontend.cli_fast import parse_common\n"
        "import pagi.frontend.server, pagi.frontend.control_plane, pagi.frontend.selector\n"
        "assert parse_common(['a:b', '--bind', '127.0.0.1:0'], {}) is not None\n"
        "heavy = ('typer', 'click', 'pydantic', 'prometheus_client', 'h11', 'email', 'hashlib')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAGI_")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
