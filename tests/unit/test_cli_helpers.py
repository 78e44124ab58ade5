"""Pure pieces behind the command lines: env files, access-log templates, pid files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pagi.frontend import access_log
from pagi.frontend.access_format import DEFAULT_FORMAT, FIELDS, compile_format
from pagi.frontend.pid_file import PidFile, PidFileError, read_pid
from pagi.protocol.env_file import EnvFileError, apply_env, parse_env
from pagi.protocol.log_config import LogConfigError, read_log_config


def test_env_file_syntax() -> None:
    text = (
        "# comment\n\n"
        "A=1\n"
        "export B = two words  \n"
        "C='lit\\n $HOME'\n"
        'D="x\\ty\\"z\\\\" # note\n'
        "E=value # note\n"
        "F=\n"
        "G=a#b\n"
    )
    assert parse_env(text) == {
        "A": "1",
        "B": "two words",
        "C": "lit\\n $HOME",
        "D": 'x\ty"z\\',
        "E": "value",
        "F": "",
        "G": "a#b",
    }


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("A=1\nnot an assignment\n", "line 2: expected KEY=VALUE"),
        ("1A=x\n", "line 1: expected KEY=VALUE"),
        ("A='open\n", "line 1: unterminated ' quote"),
        ('A="open\n', 'line 1: unterminated " quote'),
        ('A="x" tail\n', "unexpected text after the quoted value"),
        ('A="\\q"\n', "unknown escape \\q"),
        ("A=${HOME}/x\n", "expansion is not supported"),
    ],
)
def test_env_file_errors(text: str, needle: str) -> None:
    with pytest.raises(EnvFileError, match=None) as info:
        parse_env(text)
    assert needle in str(info.value)


def test_env_file_never_overrides() -> None:
    environ = {"A": "mine"}
    assert apply_env({"A": "file", "B": "file"}, environ) == ["B"]
    assert environ == {"A": "mine", "B": "file"}


def test_default_access_template_is_the_built_in_line() -> None:
    args = ("127.0.0.1:5", "GET", b"/a?b=\x01", "1.1", 200, 5, 0.00083, "app:app #1")
    built_in = access_log.format_access_line(*args)
    access_log.set_access_format(compile_format(DEFAULT_FORMAT))
    try:
        assert access_log.format_access_line(*args) == built_in
    finally:
        access_log.set_access_format(None)
    assert built_in == '127.0.0.1:5 - "GET /a?b=\\x01 HTTP/1.1" 200 5 0.8ms worker=app:app #1'


def test_every_field_renders() -> None:
    fmt = compile_format(" ".join(f"{{{f}}}" for f in FIELDS) + " {{literal}}")
    access_log.set_access_format(fmt)
    try:
        line = access_log.format_access_line("-", "POST", b"/x", "1.0", 499, 0, 1.5, "-")
    finally:
        access_log.set_access_format(None)
    assert line == "- POST /x 1.0 POST /x HTTP/1.0 499 0 1500.0 1.5 - {literal}"


@pytest.mark.parametrize(
    ("template", "needle"),
    [
        ("{nope}", "unknown field {nope}"),
        ("{status!r}", "conversions are not supported"),
        ("{client:d}", "{client:d}"),
        ("{status", "literal braces"),
        ("{}", "unknown field {}"),
    ],
)
def test_bad_access_templates(template: str, needle: str) -> None:
    with pytest.raises(ValueError) as info:
        compile_format(template)
    assert needle in str(info.value)


def test_pid_file_life(tmp_path: Path) -> None:
    path = tmp_path / "p.pid"
    pid_file = PidFile(str(path))
    pid_file.write()
    assert read_pid(str(path)) == os.getpid()
    pid_file.remove()
    assert not path.exists()


def test_pid_file_left_alone_when_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "p.pid"
    pid_file = PidFile(str(path))
    pid_file.write()
    path.write_text("1\n")  # a successor (pid 1 is always alive) took the path over
    pid_file.remove()
    assert path.read_text() == "1\n"
    with pytest.raises(PidFileError, match="names process 1, which is running"):
        PidFile(str(path)).write()


def test_pid_file_unwritable(tmp_path: Path) -> None:
    with pytest.raises(PidFileError, match="cannot write pid file"):
        PidFile(str(tmp_path / "missing" / "p.pid")).write()


def test_log_config_kinds(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"version": 1}')
    assert read_log_config(str(tmp_path / "a.json")).dict_config == {"version": 1}
    (tmp_path / "a.yml").write_text("version: 1\n")
    assert read_log_config(str(tmp_path / "a.yml")).dict_config == {"version": 1}
    (tmp_path / "a.conf").write_text("[nothing]\n")
    with pytest.raises(LogConfigError, match=r"needs \[loggers\]"):
        read_log_config(str(tmp_path / "a.conf"))
    with pytest.raises(LogConfigError, match="cannot read"):
        read_log_config(str(tmp_path / "missing.json"))
