"""The closed-set option reader both programs' fast paths use."""

from __future__ import annotations

import pytest
from pagi.protocol.closed_argv import read_options, text


def _digits(value: str) -> int | None:
    return int(value) if value.isdigit() else None


FLAGS = {"--on": ("on", True), "--no-on": ("on", False)}
VALUED = {"--n": ("n", _digits), "--name": ("name", text)}
REPEATED = {"--bind": ("binds", text), "-b": ("binds", text)}


def _read(*argv: str) -> dict[str, object] | None:
    return read_options(argv, FLAGS, VALUED, REPEATED, positional=("app", text))


def test_reads_every_shape() -> None:
    assert _read("x", "--n", "3", "--bind", "a", "-b", "b", "--no-on", "--name", "") == {
        "app": "x",
        "n": 3,
        "binds": ["a", "b"],
        "on": False,
        "name": "",
    }
    assert _read() == {}
    assert _read("--n", "1", "x") == {"n": 1, "app": "x"}  # positional anywhere


@pytest.mark.parametrize(
    "argv",
    [
        ["--other"],
        ["--n=3"],
        ["--"],
        ["-"],
        ["--n"],
        ["--n", "-3"],
        ["--n", "x"],
        ["--n", "1", "--n", "1"],
        ["--on", "--no-on"],
        ["x", "y"],
        ["--name", "--on"],
    ],
)
def test_anything_else_is_none(argv: list[str]) -> None:
    assert _read(*argv) is None


def test_no_positional_allowed() -> None:
    assert read_options(["x"], FLAGS, VALUED) is None
