"""Opening the file of a file body (``file``, ``fh``, ``http.response.pathsend``).

The worker opens the file itself, with its own permissions, and passes the
descriptor to the front (SCM_RIGHTS), which streams it. Everything that can be
wrong with the file is found here, before the response state changes, so a
failed file send leaves the response as it was (PAGI Www 0.6): the app may
still answer otherwise.
"""

from __future__ import annotations

import os
import stat

from .http_events import InvalidEvent


def open_file(
    etype: str, path: str | bytes | None, offset: int, length: int | None, app_fd: int = -1
) -> int:
    """Open ``path`` (or duplicate the app's ``app_fd``) for a file body; check
    the range against its size."""
    if path is None:
        try:
            fd = os.dup(app_fd)
        except OSError as exc:
            raise type(exc)(exc.errno, f"{etype}: 'fh' is not usable: {exc.strerror}") from None
        os.set_inheritable(fd, False)
        path = f"<fh {app_fd}>"
    else:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except ValueError as exc:  # e.g. an embedded NUL
            raise InvalidEvent(f"{etype}: invalid file path {path!r:.200}: {exc}") from None
        except OSError as exc:
            raise type(exc)(
                exc.errno, f"{etype}: cannot open file: {exc.strerror}", os.fsdecode(path)
            ) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidEvent(f"{etype}: {os.fsdecode(path)!r} is not a regular file")
        size = st.st_size
        if offset > size:
            raise InvalidEvent(
                f"{etype}: 'offset' {offset} is beyond the end of {os.fsdecode(path)!r} "
                f"({size} bytes)"
            )
        if length is not None and offset + length > size:
            raise InvalidEvent(
                f"{etype}: 'offset' + 'length' ({offset + length}) is beyond the end of "
                f"{os.fsdecode(path)!r} ({size} bytes)"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd
