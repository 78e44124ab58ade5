"""``--use-colors / --no-use-colors``: coloured level names on a terminal.

Without either flag colours are used when the log stream is a terminal, unless
``NO_COLOR`` is set (https://no-color.org) or ``TERM=dumb``. Only the level
name is coloured, so a line stays greppable and its shape does not change.
"""

from __future__ import annotations

import logging
import os
from typing import TextIO

_RESET = "\x1b[0m"
LEVEL_COLORS = {
    logging.DEBUG: "\x1b[36m",  # cyan
    logging.INFO: "\x1b[32m",  # green
    logging.WARNING: "\x1b[33m",  # yellow
    logging.ERROR: "\x1b[31m",  # red
    logging.CRITICAL: "\x1b[1;31m",  # bold red
}


def colors_wanted(choice: bool | None, stream: TextIO) -> bool:
    """The flag if given, else whether ``stream`` is a colour-capable terminal."""
    if choice is not None:
        return choice
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except ValueError:  # a closed stream
        return False


class ColorLevelFormatter(logging.Formatter):
    """A :class:`logging.Formatter` that wraps ``%(levelname)s`` in its ANSI colour."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        color = LEVEL_COLORS.get(record.levelno)
        if color is None:
            return super().formatMessage(record)
        plain = record.levelname
        record.levelname = f"{color}{plain}{_RESET}"
        try:
            return super().formatMessage(record)
        finally:
            record.levelname = plain


def make_formatter(fmt: str, use_colors: bool) -> logging.Formatter:
    return ColorLevelFormatter(fmt) if use_colors else logging.Formatter(fmt)
