"""A file download: the worker names a file, the front streams it from disk.

``http.response.body`` with ``file`` makes the worker open the file (with its
own permissions) and hand the open descriptor to the front, which streams it
to the client without reading it into memory. ``GET /`` serves this module's
own source; ``GET /big?mib=N`` (1-1024) serves a generated file of N MiB of
zeros.

The generated files are sparse (they take no disk space) and live in one
private temporary directory that lifespan shutdown removes, so the example
leaves nothing behind when the server stops.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

MiB = 1024 * 1024
_dir: str | None = None  # made on the first /big, removed at lifespan shutdown


def _big_file(mib: int) -> str:
    global _dir
    if _dir is None:
        _dir = tempfile.mkdtemp(prefix="pagi-example-download-")
    path = os.path.join(_dir, f"big-{mib}MiB.bin")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.truncate(mib * MiB)  # a hole: reads as zeros, uses no blocks
    return path


def _cleanup() -> None:
    global _dir
    if _dir is not None:
        shutil.rmtree(_dir, ignore_errors=True)
        _dir = None


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            _cleanup()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        raise RuntimeError(f"unsupported scope type {scope['type']!r}")
    if scope["path"] == "/big":
        query = dict(p.partition("=")[::2] for p in scope["query_string"].decode().split("&"))
        mib = max(1, min(int(query.get("mib", "1") or 1), 1024))
        path, name = _big_file(mib), f"big-{mib}MiB.bin"
    else:
        path, name = __file__, "app.py"
    size = os.path.getsize(path)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/octet-stream"),
                (b"content-length", str(size).encode()),
                (b"content-disposition", f'attachment; filename="{name}"'.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "file": path})
