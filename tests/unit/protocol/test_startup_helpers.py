"""Start-up helpers both command lines share: env files and log configuration files."""

from __future__ import annotations

from pathlib import Path

import pytest
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
