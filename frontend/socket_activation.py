"""systemd socket activation: listening sockets passed as ``LISTEN_FDS``.

The service manager (or ``systemd-socket-activate``) passes ``LISTEN_FDS=n``
descriptors starting at 3, ``LISTEN_PID`` (the process they are meant for) and
optionally ``LISTEN_FDNAMES`` (colon-separated names, ``FileDescriptorName=``
in a ``.socket`` unit; systemd's default name is ``unknown``, or the unit name).

Invariants:

* Descriptors are taken only when ``LISTEN_PID`` is this process; otherwise
  they belong to someone else (a parent that forgot to clean up) and are left
  alone.
* The three variables are removed from the environment either way, so
  spawned workers never take the front's sockets for their own.
* Each descriptor becomes a client listener exactly like ``--fd N``; its name
  is kept for the log, ``pagi-ctl status`` and per-listener options.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass

SD_LISTEN_FDS_START = 3


@dataclass(frozen=True, slots=True)
class ActivatedSocket:
    fd: int
    name: str


class ActivationError(ValueError):
    """The variables are present but inconsistent; the message says how."""


def listen_fds(environ: MutableMapping[str, str] | None = None) -> list[ActivatedSocket]:
    """The sockets systemd passed to this process (removing the variables)."""
    env = os.environ if environ is None else environ
    pid_text = env.pop("LISTEN_PID", "")
    count_text = env.pop("LISTEN_FDS", "")
    names_text = env.pop("LISTEN_FDNAMES", None)
    if not count_text:
        return []
    if not pid_text.isdigit() or int(pid_text) != os.getpid():
        return []
    if not count_text.isdigit():
        raise ActivationError(f"LISTEN_FDS={count_text!r} is not a number")
    count = int(count_text)
    names = names_text.split(":") if names_text else []
    if names and len(names) != count:
        raise ActivationError(
            f"LISTEN_FDNAMES names {len(names)} socket(s) but LISTEN_FDS is {count}"
        )
    if not names:
        names = ["unknown"] * count
    return [
        ActivatedSocket(SD_LISTEN_FDS_START + i, name or "unknown") for i, name in enumerate(names)
    ]
