"""The embedded worker's command line read without typer gives typer's very config."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
import typer
from pagi.frontend.config import FrontConfig
from pagi.frontend.supervisor import worker_argv
from pagi.worker import cli, runner
from pagi.worker.config import WorkerConfig
from pagi.worker.spawned_argv import parse_spawned


def _typer_config(args: Sequence[str], monkeypatch: pytest.MonkeyPatch) -> WorkerConfig:
    seen: list[WorkerConfig] = []

    def fake_run(config: WorkerConfig) -> int:
        seen.append(config)
        return 0

    monkeypatch.setattr(runner, "run", fake_run)
    with contextlib.suppress(SystemExit):
        typer.main.get_command(cli.cli).main(list(args), standalone_mode=False)
    assert len(seen) == 1
    return seen[0]


def _log_config(tmp_path: Path) -> str:
    path = tmp_path / "log.json"
    path.write_text(json.dumps({"version": 1, "disable_existing_loggers": False}))
    return str(path)


CONFIGS = [
    FrontConfig(app="a:b", socket_dir="/s"),
    FrontConfig(
        app="pkg.mod:app",
        socket_dir="/run/x y",
        app_dir="/srv/app",
        factory=True,
        lifespan="off",
        sse_scope="on",
        interface="asgi",
        root_path="/api",
        log_level="debug",
        graceful_timeout=2.5,
        limit_concurrency=7,
        use_colors=True,
    ),
]


@pytest.mark.parametrize("front", CONFIGS)
def test_same_config_as_typer(front: FrontConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PAGI_"):
            monkeypatch.delenv(name)
    args = worker_argv(front, 3)[3:]  # after "python -m pagi.worker"
    assert parse_spawned(args, {}) == _typer_config(args, monkeypatch)


def test_log_config_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["a:b", "--socket-dir", "/s", "--log-config", _log_config(tmp_path)]
    fast = parse_spawned(args, {})
    assert fast is not None and fast == _typer_config(args, monkeypatch)
    assert fast.log_config is not None and fast.log_config.dict_config is not None


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        ["a:b", "--version"],
        ["a:b", "--window", "10"],  # never written by the front: typer's job
        ["a:b", "--socket-dir"],  # value missing
        ["a:b", "--socket-dir=/s"],
        ["a:b", "--worker-num", "-1"],
        ["a:b", "--worker-num", "+1"],
        ["a:b", "--lifespan", "sometimes"],
        ["a:b", "--graceful-timeout", "nan"],
        ["a:b", "--log-level", "info", "--log-level", "debug"],
        ["a:b", "--log-config", "/no/such/file.json"],
        ["a:b", "extra"],
    ],
)
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert parse_spawned(args, {}) is None


@pytest.mark.parametrize(
    "env", ["PAGI_WORKER_WINDOW", "PAGI_WORKER_NAME", "PAGI_APP_DIR", "PAGI_ENV_FILE"]
)
def test_a_variable_typer_would_read_is_left_to_typer(env: str) -> None:
    args = ["a:b", "--socket-dir", "/s"]
    assert parse_spawned(args, {}) is not None
    assert parse_spawned(args, {env: "1"}) is None
    # given on the command line, the variable does not matter
    assert parse_spawned([*args, "--app-dir", "/x"], {"PAGI_APP_DIR": "/y"}) is not None
