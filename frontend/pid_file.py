"""``--pid-file PATH``: the front's pid, written once it serves, removed at exit.

* Written after the listeners are open (a front that fails to start leaves no
  file), atomically (temporary file + rename), as ``PID\\n``.
* A file naming a live process refuses the start (exit 1, "already running");
  a stale one (dead pid, garbage) is replaced.
* Removed at exit only if it still names this process, so a successor that
  took the path over keeps its file.
"""

from __future__ import annotations

import os


class PidFileError(Exception):
    """The pid file cannot be written, or names a live process."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def read_pid(path: str) -> int | None:
    """The pid in ``path``, or None if it is missing or not a pid."""
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


class PidFile:
    """One pid file owned by this process between :meth:`write` and :meth:`remove`."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self._written = False

    def write(self) -> None:
        pid = os.getpid()
        other = read_pid(self.path)
        if other is not None and other != pid and _pid_alive(other):
            raise PidFileError(
                f"pid file {self.path} names process {other}, which is running: "
                "another pagi-front is already running (or remove the file)"
            )
        tmp = f"{self.path}.{pid}.tmp"
        try:
            with open(tmp, "w", encoding="ascii") as f:
                f.write(f"{pid}\n")
            os.replace(tmp, self.path)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise PidFileError(f"cannot write pid file {self.path}: {exc.strerror}") from None
        self._written = True

    def remove(self) -> None:
        if not self._written:
            return
        self._written = False
        if read_pid(self.path) == os.getpid():
            try:
                os.unlink(self.path)
            except OSError:
                pass
