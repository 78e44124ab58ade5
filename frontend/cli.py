"""The ``pagi-front`` program (also ``python -m pagi.frontend``).

:func:`main` reads the usual command lines without typer
(:func:`.cli_fast.parse_common`: a faster cold start and a smaller front);
every other command line — ``--help``, errors, the other options, any
``PAGI_*`` variable — goes to the typer command in ``cli_command.py``,
which is the reference (``docs/cli.md``). Both end in
:func:`pagi.frontend.server.run` with the same config.
"""

from __future__ import annotations

import os
import sys

from .cli_fast import parse_common

__all__ = ["main"]


def main() -> None:
    """Console-script entry point (``pagi-front``)."""
    config = parse_common(sys.argv[1:], os.environ)
    if config is None:
        from .cli_command import cli

        cli(prog_name="pagi-front")
        return
    from .server import run

    sys.exit(run(config))
