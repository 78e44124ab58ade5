"""The command lines as a newcomer types them: the real console scripts, real sockets.

uvicorn habits (positional app, --host/--port), refused combinations, --version,
one help style, --env-file, --log-config, --access-log-format, --use-colors,
--pid-file.
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import httpx
import pytest
from harness import APPS, REPO, Processes, run_command

FRONT = "pagi-front"
WORKER = "pagi-worker"


def _error_line(out: str) -> str:
    """The one ``Error: ...`` line of a refused command line."""
    lines = [ln for ln in out.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, out
    return lines[0]


def _serve(procs: Processes, *args: str, env: dict[str, str] | None = None, workers: int = 1):  # type: ignore[no-untyped-def]
    return procs.command(
        FRONT,
        "basic:app",
        "--app-dir",
        str(APPS),
        "--socket-dir",
        str(procs.socket_dir),
        *args,
        env=env,
        ready_workers=workers,
    )


# --- uvicorn habits ------------------------------------------------------------------


def test_positional_app_with_host_and_port(procs: Processes) -> None:
    front = _serve(procs, "--workers", "2", "--host", "127.0.0.1", "--port", "0", workers=2)
    assert httpx.get(front.url + "/hello").text == "hello"
    pids = {httpx.get(front.url + "/pid").text for _ in range(20)}
    assert len(front.logs().split(" joined")) == 3  # two workers joined
    assert pids


def test_port_alone_binds_localhost(procs: Processes) -> None:
    front = _serve(procs, "--port", "0")
    assert re.search(r"listening on http://127\.0\.0\.1:\d+", front.logs())
    assert httpx.get(front.url + "/hello").text == "hello"


def test_app_option_is_still_accepted(procs: Processes) -> None:
    front = procs.command(
        FRONT,
        "--app",
        "basic:app",
        "--app-dir",
        str(APPS),
        "--bind",
        "127.0.0.1:0",
        "--socket-dir",
        str(procs.socket_dir),
        ready_workers=1,
    )
    assert httpx.get(front.url + "/hello").text == "hello"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--workers", "4"], "Error: --workers needs an app"),
        (["--app-dir", "/srv"], "Error: --app-dir needs an app"),
        (["--factory"], "Error: --factory needs an app"),
        (["--root-path", "/api"], "Error: --root-path needs an app"),
        (["--host", "0.0.0.0", "--bind", "127.0.0.1:80"], "Error: --host and --bind both"),
        (["--port", "80", "-b", "127.0.0.1:80"], "Error: --port and --bind both"),
        (["a:app", "--app", "b:app"], "Error: two apps given (a:app as APP and b:app as --app)"),
        (["--port", "70000"], "Error: Invalid value for '--port'"),
        (["main"], "Error: Invalid value for 'APP'"),
        (["a:app", "b:app"], "Error: Got unexpected extra argument"),
    ],
)
def test_meaningless_combinations_are_refused_in_one_line(argv: list[str], needle: str) -> None:
    out = run_command(FRONT, *argv)
    assert out.returncode == 2, out
    assert _error_line(out.stderr).startswith(needle), out.stderr


def test_host_port_env_conflicting_with_bind_names_the_variable() -> None:
    out = run_command(FRONT, "--port", "8001", env={"PAGI_BIND": "127.0.0.1:8002"})
    assert out.returncode == 2
    assert "PAGI_BIND (from the environment)" in _error_line(out.stderr)


def test_embedded_option_from_the_environment_is_a_warning(procs: Processes) -> None:
    front = procs.command(
        FRONT,
        "--bind",
        "127.0.0.1:0",
        "--socket-dir",
        str(procs.socket_dir),
        env={"PAGI_WORKERS": "4"},
        ready_workers=0,
    )
    front.wait_for_log(r"WARNING .*PAGI_WORKERS \(from the environment\) is ignored: no app")
    procs.worker("basic:app")
    front.wait_for_log(r"worker .* joined")
    assert httpx.get(front.url + "/hello").text == "hello"


def test_version_of_both_programs() -> None:
    for program in (FRONT, WORKER):
        out = run_command(program, "--version")
        assert out.returncode == 0, out.stderr
        assert re.fullmatch(
            rf"{program} \d+\.\d+\.\d+\S* \(pagi-server, \w+ 3\.\d+\.\d+\S*, "
            rf"(pure Python|compiled)\)\n",
            out.stdout,
        )


def test_one_help_style_for_both_programs() -> None:
    shapes = []
    for program in (FRONT, WORKER):
        out = run_command(program, "--help")
        assert out.returncode == 0, out.stderr
        text = out.stdout
        assert text.startswith(f"Usage: {program} [OPTIONS] "), text[:200]
        assert "\nArguments:\n" in text and "\nOptions:\n" in text
        assert not re.search("[\u2500-\u257f]", text), "no box-drawing panels"
        for flag in ("--version", "--log-config", "--env-file", "--use-colors", "-h, --help"):
            assert flag in text, (program, flag)
        assert "[env var: PAGI_SOCKET_DIR" in text
        shapes.append([ln for ln in text.splitlines() if ln and not ln.startswith(" ")])
    # Same section headings, in the same order.
    assert shapes[0][1:] == shapes[1][1:]


@pytest.mark.parametrize("program", [FRONT, WORKER])
@pytest.mark.parametrize(
    ("option", "value", "choices"),
    [
        ("--lifespan", "ON", "'auto', 'on', 'off'"),
        ("--sse-scope", "Auto", "'auto', 'on', 'off'"),
        ("--interface", "ASGI", "'auto', 'pagi', 'asgi'"),
        ("--log-level", "DEBUG", "'critical', 'error', 'warning', 'info', 'debug'"),
    ],
)
def test_choices_are_lowercase_only_in_both_programs(
    program: str, option: str, value: str, choices: str
) -> None:
    # The choices both programs share refuse another letter case alike, naming the
    # option, the value and the accepted spellings (docs/cli.md).
    out = run_command(program, "a:app", option, value)
    assert out.returncode == 2, out
    line = _error_line(out.stderr)
    assert line.startswith(f"Error: Invalid value for '{option}'"), line
    assert f"'{value}' is not one of {choices}." in line, line


# --- --env-file ---------------------------------------------------------------------


def test_env_file_configures_the_front_and_reaches_the_app(
    procs: Processes, tmp_path: Path
) -> None:
    env_file = tmp_path / "pagi.env"
    env_file.write_text(
        "# comment\n"
        "export PAGI_MAX_BODY_SIZE=10\n"
        "GREETING='hello there'  \n"
        'QUOTED="a\\tb" # trailing comment\n'
        "PAGI_LOG_LEVEL=debug\n"
    )
    front = _serve(
        procs, "--port", "0", "--env-file", str(env_file), env={"PAGI_LOG_LEVEL": "info"}
    )
    assert httpx.post(front.url + "/count", content=b"x" * 100).status_code == 413
    assert httpx.get(front.url + "/env?name=GREETING").text == "hello there"
    assert httpx.get(front.url + "/env?name=QUOTED").text == "a\tb"
    # The caller's environment wins over the file.
    assert " DEBUG " not in front.logs()


def test_env_file_errors_name_the_line() -> None:
    out = run_command(FRONT, "--env-file", "/nonexistent/pagi.env")
    assert out.returncode == 2
    assert "Invalid value for '--env-file'" in _error_line(out.stderr)
    assert "No such file or directory" in out.stderr


def test_env_file_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_text("OK=1\nthis is not an assignment\n")
    for program in (FRONT, WORKER):
        out = run_command(
            program, "--env-file", str(bad), *(["x:app"] if program == WORKER else [])
        )
        assert out.returncode == 2, out
        assert "line 2: expected KEY=VALUE" in _error_line(out.stderr)


# --- --log-config --------------------------------------------------------------------


def _dict_config(log_file: Path) -> dict[str, object]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "ACCESS %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "filename": str(log_file),
                "formatter": "plain",
            }
        },
        "loggers": {"pagi.access": {"handlers": ["file"], "propagate": False}},
    }


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".ini"])
def test_log_config_routes_the_access_log(procs: Processes, tmp_path: Path, suffix: str) -> None:
    log_file = tmp_path / "access.log"
    config = tmp_path / f"logging{suffix}"
    if suffix == ".json":
        config.write_text(json.dumps(_dict_config(log_file)))
    elif suffix == ".yaml":
        import yaml

        config.write_text(yaml.safe_dump(_dict_config(log_file)))
    else:
        # fileConfig always rebuilds the root logger: give it a stderr handler.
        config.write_text(
            "[loggers]\nkeys=root,access\n\n[handlers]\nkeys=file,err\n\n[formatters]\nkeys=plain\n\n"
            "[logger_root]\nlevel=INFO\nhandlers=err\n\n"
            "[handler_err]\nclass=StreamHandler\nargs=(sys.stderr,)\n\n"
            "[logger_access]\nqualname=pagi.access\nhandlers=file\npropagate=0\n\n"
            f"[handler_file]\nclass=FileHandler\nargs=({str(log_file)!r},)\nformatter=plain\n\n"
            "[formatter_plain]\nformat=ACCESS %(message)s\n"
        )
    front = _serve(procs, "--port", "0", "--log-config", str(config))
    assert httpx.get(front.url + "/hello").status_code == 200
    front.signal(signal.SIGTERM)
    assert front.wait() == 0
    lines = log_file.read_text().splitlines()
    assert any(
        ln.startswith("ACCESS 127.0.0.1:") and '"GET /hello HTTP/1.1" 200' in ln for ln in lines
    )
    assert '"GET /hello' not in front.logs()  # went to the file only


def test_yaml_log_config_without_pyyaml_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "noyaml"
    blocker.mkdir()
    (blocker / "yaml.py").write_text("raise ImportError('blocked for this test')\n")
    config = tmp_path / "logging.yaml"
    config.write_text("version: 1\n")
    env = {"PYTHONPATH": str(blocker)}
    for program in (FRONT, WORKER):
        out = run_command(
            program, *(["x:app"] if program == WORKER else []), "--log-config", str(config), env=env
        )
        assert out.returncode == 2, out
        line = _error_line(out.stderr)
        assert "Invalid value for '--log-config'" in line and "needs PyYAML" in line, line


@pytest.mark.parametrize(
    ("text", "needle"),
    [("{nope", "not valid JSON"), ('{"handlers": {}}', "with 'version: 1'")],
)
def test_broken_json_log_config(tmp_path: Path, text: str, needle: str) -> None:
    config = tmp_path / "logging.json"
    config.write_text(text)
    out = run_command(FRONT, "--log-config", str(config))
    assert out.returncode == 2
    assert needle in _error_line(out.stderr)


def test_log_config_that_cannot_be_applied_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "logging.json"
    config.write_text(json.dumps({"version": 1, "handlers": {"h": {"class": "no.such.Handler"}}}))
    out = run_command(FRONT, "--port", "0", "--log-config", str(config))
    assert out.returncode == 2
    assert "Error: --log-config:" in out.stderr and "cannot apply it" in out.stderr


# --- --access-log-format, --use-colors, --pid-file ---------------------------------


def test_access_log_format(procs: Processes) -> None:
    template = (
        "{client} {method} {target} {status} {bytes} {duration_ms:.3f} [{worker}] {request_line}"
    )
    front = _serve(procs, "--port", "0", "--access-log-format", template)
    httpx.get(front.url + "/hello?x=1")
    front.wait_for_log(
        r"127\.0\.0\.1:\d+ GET /hello\?x=1 200 5 \d+\.\d{3} \[basic:app #1\] "
        r"GET /hello\?x=1 HTTP/1\.1"
    )


def test_access_log_format_unknown_field() -> None:
    out = run_command(FRONT, "--access-log-format", "{client} {referer}")
    assert out.returncode == 2
    line = _error_line(out.stderr)
    assert "unknown field {referer}" in line and "duration_ms" in line


def test_colors_forced_on_and_off(procs: Processes) -> None:
    front = _serve(procs, "--port", "0", "--use-colors")
    assert "\x1b[32mINFO\x1b[0m front[" in front.logs()
    assert re.search(r"\x1b\[32mINFO\x1b\[0m worker#1\[", front.logs())  # forwarded
    plain = _serve(procs, "--port", "0", "--no-use-colors", "--socket-dir", str(procs.tmp / "s2"))
    assert "\x1b[" not in plain.logs()


def test_no_colors_when_not_a_terminal(procs: Processes) -> None:
    front = _serve(procs, "--port", "0")  # stderr is a file
    assert "\x1b[" not in front.logs()


def test_pid_file_written_refused_when_live_and_removed(procs: Processes, tmp_path: Path) -> None:
    pid_file = tmp_path / "front.pid"
    front = _serve(procs, "--port", "0", "--pid-file", str(pid_file))
    assert pid_file.read_text() == f"{front.pid}\n"
    second = procs.command(
        FRONT, "--port", "0", "--socket-dir", str(tmp_path / "s2"), "--pid-file", str(pid_file)
    )
    assert second.wait() == 1
    assert f"names process {front.pid}, which is running" in second.logs()
    assert pid_file.read_text() == f"{front.pid}\n"
    front.signal(signal.SIGTERM)
    assert front.wait() == 0
    assert not pid_file.exists()


def test_stale_pid_file_is_replaced(procs: Processes, tmp_path: Path) -> None:
    pid_file = tmp_path / "front.pid"
    pid_file.write_text("999999999\n")
    front = _serve(procs, "--port", "0", "--pid-file", str(pid_file))
    assert pid_file.read_text() == f"{front.pid}\n"
    assert os.path.exists(pid_file)


def test_quickstart_names_only_options_that_exist() -> None:
    """Every pagi option in docs/quickstart.md's mapping tables is a real option."""
    text = (REPO / "docs" / "quickstart.md").read_text()
    rows = [ln for ln in text.splitlines() if ln.startswith("| ") and ln.count("|") >= 4]
    pagi_cells = [re.split(r"(?<!\\)\|", row)[2] for row in rows]  # `a\|b` stays in its cell
    named = {opt for cell in pagi_cells for opt in re.findall(r"--[a-z][a-z0-9-]*", cell)}
    helps = " ".join(run_command(p, "--help").stdout for p in (FRONT, WORKER))
    known = set(re.findall(r"--[a-z][a-z0-9-]*", helps))
    assert len(named) > 25, sorted(named)
    assert named <= known, sorted(named - known)
