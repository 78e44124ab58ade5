"""The access log's batched writer: the same text as the logging path, chosen only when safe."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest
from pagi.frontend import access_writer
from pagi.frontend.access_writer import MAX_PENDING, WRITE_MAX, AccessWriter, eligible_handler
from pagi.frontend.logs import FrontHandler

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[TextIO]:
    with open(tmp_path / "stderr.txt", "w+", encoding="utf-8") as f:
        yield f


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@contextlib.contextmanager
def installed(stream: TextIO, colors: bool = False) -> Iterator[FrontHandler]:
    """The front's handler alone on the root logger (inside the test: pytest adds its own)."""
    root = logging.getLogger()
    saved = root.handlers[:]
    access = logging.getLogger("pagi.access")
    saved_level = access.level
    handler = FrontHandler(stream, colors)
    root.handlers[:] = [handler]
    access.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.handlers[:] = saved
        access.setLevel(saved_level)


def _read(stream: TextIO) -> list[str]:
    stream.flush()
    stream.seek(0)
    return stream.read().splitlines()


@pytest.mark.parametrize("colors", [False, True])
def test_same_text_as_the_logging_path(
    stream: TextIO, loop: asyncio.AbstractEventLoop, colors: bool
) -> None:
    with installed(stream, colors) as handler:
        access = logging.getLogger("pagi.access")
        message = '127.0.0.1:5 - "GET /\\x01 HTTP/1.1" 200 5 0.8ms worker=app:app #1 é'
        access.info(message)
        writer = AccessWriter(handler, loop)
        writer.write(message)
        writer.flush()
        via_logging, via_writer = _read(stream)
        assert re.match(STAMP + " ", via_writer), via_writer
        assert via_writer[23:] == via_logging[23:]
        assert ("\x1b[32mINFO\x1b[0m" in via_writer) is colors


def test_lines_wait_for_the_end_of_the_loop_turn(
    stream: TextIO, loop: asyncio.AbstractEventLoop
) -> None:
    with installed(stream) as handler:
        writer = AccessWriter(handler, loop)
        writer.write("one")
        writer.write("two")
        assert _read(stream) == []
        loop.run_until_complete(asyncio.sleep(0))
        assert [line[23:] for line in _read(stream)] == [
            f" INFO front[{os.getpid()}] one",
            f" INFO front[{os.getpid()}] two",
        ]


def test_a_full_batch_leaves_at_once(stream: TextIO, loop: asyncio.AbstractEventLoop) -> None:
    with installed(stream) as handler:
        writer = AccessWriter(handler, loop)
        for i in range(MAX_PENDING):
            writer.write(str(i))
        assert len(_read(stream)) == MAX_PENDING


def test_other_records_never_overtake_queued_lines(
    stream: TextIO, loop: asyncio.AbstractEventLoop
) -> None:
    with installed(stream) as handler:
        writer = AccessWriter(handler, loop)
        writer.write("access line")
        logging.getLogger("pagi.front").warning("later record")
        lines = _read(stream)
        assert lines[0].endswith("access line") and lines[1].endswith("later record")


def test_eligible_only_with_the_default_setup(stream: TextIO) -> None:
    with installed(stream) as handler:
        access = logging.getLogger("pagi.access")
        assert eligible_handler(access) is handler

        extra = logging.StreamHandler(stream)
        access.addHandler(extra)
        assert eligible_handler(access) is None  # --log-config sent the lines elsewhere too
        access.removeHandler(extra)

        flt = logging.Filter("nothing")
        access.addFilter(flt)
        assert eligible_handler(access) is None
        access.removeFilter(flt)

        handler.setFormatter(logging.Formatter("%(message)s"))
        assert eligible_handler(access) is None  # another shape of line
        handler.setFormatter(handler.front_formatter)

        access.setLevel(logging.WARNING)
        assert eligible_handler(access) is None  # --no-access-log
        access.setLevel(logging.INFO)
        assert eligible_handler(access) is handler


def test_not_eligible_without_a_real_file(loop: asyncio.AbstractEventLoop) -> None:
    import io

    with installed(io.StringIO()):
        assert eligible_handler(logging.getLogger("pagi.access")) is None


def test_writes_hold_whole_lines_within_pipe_buf(
    stream: TextIO, loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers write to the same stderr: a write must never split a line or pass PIPE_BUF."""
    sizes: list[int] = []
    real_write = os.write

    def recording_write(fd: int, data: bytes | memoryview) -> int:
        sizes.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr(access_writer.os, "write", recording_write)
    with installed(stream) as handler:
        writer = AccessWriter(handler, loop)
        for i in range(200):
            writer.write(f"line {i:03d} " + "x" * 90)
        writer.write("long " + "y" * (2 * WRITE_MAX))  # alone in its write
        writer.flush()
        lines = _read(stream)
    assert [line.split(" ")[5] for line in lines[:200]] == [f"{i:03d}" for i in range(200)]
    assert lines[200].endswith("y" * 10)
    assert len(sizes) > 5 and all(size <= WRITE_MAX for size in sizes[:-1])
    assert sizes[-1] > WRITE_MAX
