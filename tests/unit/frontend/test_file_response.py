"""FileResponse: a file body through an HTTPStream, against a fake writer (no sockets).

The stream is the file's :class:`FileSink`; these pin down what the file
part does through it: the head with the file's length, the pieces, the end
of the body, trailers that wait behind the file, and the failures.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from pagi.frontend.streams.file_body import CHUNK_SIZE
from pagi.frontend.streams.http_phase import DONE
from pagi.frontend.streams.http_stream import HTTPStream
from pagi.protocol import BodyMode
from stream_doubles import FakeHost, FakeHTTPWriter, FakeLink, FakePool

HEADERS = [[b"content-type", b"application/octet-stream"]]
TRAILERS = [[b"x-checksum", b"abc"]]


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 5))


def make() -> tuple[HTTPStream, FakeHTTPWriter, FakeLink]:
    link = FakeLink()
    host = FakeHost(FakePool(link))
    writer = FakeHTTPWriter()
    stream = HTTPStream(host, writer, "GET", b"/f", "1.1", False, host.loop.time())
    stream.start(b"/f", b"", [], BodyMode.NONE)
    return stream, writer, link


def open_file(tmp_path: Path, data: bytes) -> int:
    path = tmp_path / "body"
    path.write_bytes(data)
    return os.open(path, os.O_RDONLY)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def is_closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    os.close(fd)  # do not leak it from a failing test
    return False


def body_of(writer: FakeHTTPWriter) -> bytes:
    return b"".join(call[1] for call in writer.calls if call[0] == "data")


def test_the_file_goes_out_with_its_length_and_the_body_ends(tmp_path: Path) -> None:
    async def main() -> None:
        stream, writer, _link = make()
        data = os.urandom(CHUNK_SIZE + 100)
        stream.on_response_start(200, HEADERS, False)
        stream.on_response_file(open_file(tmp_path, data), 10, None)
        await settle()
        assert writer.calls[0] == ("respond", 200, len(data) - 10, True)
        assert body_of(writer) == data[10:]
        assert writer.calls[-2:] == [("data", b"", True), ("end",)]
        assert stream.done and stream.file is None and stream.body_bytes == len(data) - 10

    run(main)


def test_trailers_that_come_during_the_file_go_out_after_it(tmp_path: Path) -> None:
    async def main() -> None:
        stream, writer, _link = make()
        data = b"x" * 1000
        stream.on_response_start(200, HEADERS, True)
        writer.paused = True  # the client is backed up: the file waits
        stream.on_response_file(open_file(tmp_path, data), 0, 500)
        stream.on_response_trailers(TRAILERS)
        await settle()
        assert body_of(writer) == b"" and not stream.done
        writer.paused = False
        stream.on_writable()
        await settle()
        assert body_of(writer) == data[:500]
        assert writer.calls[-3:] == [("flush",), ("trailers", TRAILERS), ("end",)]
        assert stream.done and stream.file is None

    run(main)


def test_announced_trailers_are_waited_for_after_the_file(tmp_path: Path) -> None:
    async def main() -> None:
        stream, writer, _link = make()
        stream.on_response_start(200, HEADERS, True)
        stream.on_response_file(open_file(tmp_path, b"abc"), 0, None)
        await settle()
        assert body_of(writer) == b"abc" and writer.calls[-1] == ("flush",)
        assert not stream.done and stream.file is None
        stream.on_response_trailers(TRAILERS)
        assert writer.calls[-2:] == [("trailers", TRAILERS), ("end",)] and stream.done

    run(main)


def test_a_descriptor_that_is_no_regular_file_is_a_500(tmp_path: Path) -> None:
    async def main() -> None:
        stream, writer, _link = make()
        read_end, write_end = os.pipe()
        try:
            stream.on_response_start(200, HEADERS, False)
            stream.on_response_file(read_end, 0, None)
            assert ("reply", 500, "", ()) in writer.calls
            assert stream.done and stream.file is None
            assert is_closed(read_end)
        finally:
            os.close(write_end)

    run(main)


def test_a_file_for_a_finished_stream_is_closed_at_once(tmp_path: Path) -> None:
    async def main() -> None:
        stream, writer, _link = make()
        stream.on_response(200, HEADERS, False, b"done", False)
        assert stream.phase == DONE
        fd = open_file(tmp_path, b"late")
        stream.on_response_file(fd, 0, None)
        assert stream.file is None and body_of(writer) == b"done"
        assert is_closed(fd)

    run(main)
