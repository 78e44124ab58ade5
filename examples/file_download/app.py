"""A file download: the worker names a file, the front streams it from disk.

``http.response.body`` with ``file`` makes the worker open the file (with its
own permissions) and hand the open descriptor to the front, which streams it
to the client without reading it into memory. ``GET /`` serves this module's
own source; ``GET /big?mib=N`` serves a generated file of N MiB.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

_BIG_FILES: dict[int, str] = {}


def _big_file(mib: int) -> str:
    path = _BIG_FILES.get(mib)
    if path is None or not os.path.exists(path):
        fd, path = tempfile.mkstemp(prefix=f"pagi-example-{mib}MiB-")
        with os.fdopen(fd, "wb") as f:
            block = bytes(range(256)) * 4096  # 1 MiB
            for _ in range(mib):
                f.write(block)
        _BIG_FILES[mib] = path
    return path


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
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
