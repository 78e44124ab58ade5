"""Explaining a long wait for pagi-front, so a mistyped ``--socket-dir`` is not silent.

While ``<socket-dir>/workers.sock`` does not answer the worker retries forever
(the front may simply start later). :class:`WaitReport` says when to explain:
first after :data:`FIRST_REPORT` seconds of failed attempts, then every
:data:`REPEAT_REPORT` seconds, each time one WARNING line. :func:`explain`
names the likely reason from the last error and what is (not) on disk:

* the directory does not exist (the usual typo), or is not a directory;
* it exists but holds no ``workers.sock`` (no front uses that directory);
* ``workers.sock`` exists but nobody accepts (a front stopped uncleanly);
* permission denied (the worker runs as a user outside the socket's group).
"""

from __future__ import annotations

import errno
import os
import stat

#: Seconds of failed attempts before the first explanation.
FIRST_REPORT = 3.0
#: Seconds between later explanations of the same wait.
REPEAT_REPORT = 60.0


class WaitReport:
    """When to log an explanation of one waiting period (reset once connected)."""

    def __init__(self, first: float = FIRST_REPORT, every: float = REPEAT_REPORT) -> None:
        self._first = first
        self._every = every
        self._since: float | None = None
        self._next = 0.0

    def reset(self) -> None:
        self._since = None

    def due(self, now: float) -> bool:
        """Called after each failed attempt; True when an explanation is due."""
        if self._since is None:
            self._since = now
            self._next = now + self._first
            return False
        if now >= self._next:
            self._next = now + self._every
            return True
        return False

    def until_due(self, now: float) -> float:
        """Seconds until the next explanation (so a backoff sleep does not overshoot it)."""
        return float("inf") if self._since is None else max(0.0, self._next - now)

    def waited(self, now: float) -> float:
        return 0.0 if self._since is None else now - self._since


def _owner(st: os.stat_result) -> str:
    return f"uid {st.st_uid}, gid {st.st_gid}, mode {stat.S_IMODE(st.st_mode):04o}"


def explain(socket_dir: str, error: OSError) -> str:
    """Why ``<socket_dir>/workers.sock`` does not answer, in one sentence."""
    path = os.path.join(socket_dir, "workers.sock")
    hint = "is pagi-front started, and is this its --socket-dir (PAGI_SOCKET_DIR)?"
    if error.errno in (errno.EACCES, errno.EPERM):
        try:
            st = os.stat(path)
            where = f"{path} ({_owner(st)})"
        except OSError:
            where = f"{socket_dir} or {path}"
        return (
            f"permission denied on {where}: this worker runs as uid {os.getuid()} "
            f"gid {os.getgid()}; run it as the front's user or in its group"
        )
    try:
        dir_stat = os.stat(socket_dir)
    except FileNotFoundError:
        return f"the directory {socket_dir} does not exist: {hint}"
    except OSError as exc:
        return f"cannot look into {socket_dir}: {exc.strerror}"
    if not stat.S_ISDIR(dir_stat.st_mode):
        return f"{socket_dir} is not a directory: {hint}"
    try:
        sock_stat = os.stat(path)
    except FileNotFoundError:
        return f"{socket_dir} holds no workers.sock, so no pagi-front serves there: {hint}"
    except OSError as exc:
        return f"cannot look at {path}: {exc.strerror}"
    if not stat.S_ISSOCK(sock_stat.st_mode):
        return f"{path} is not a socket"
    if error.errno == errno.ECONNREFUSED:
        return (
            f"{path} exists but nothing accepts on it: the pagi-front that made it "
            "has stopped (a new front replaces it)"
        )
    return f"{path}: {error.strerror or error}"
