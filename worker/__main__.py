"""``python -m pagi.worker``: the same program as ``pagi-worker``.

pagi-front starts its embedded workers this way; their command line is read
without typer when :func:`.spawned_argv.parse_spawned` can (a faster start),
else (and for everything a person types) by the typer command line.
"""

import os
import sys

from .spawned_argv import parse_spawned

if __name__ == "__main__":
    config = parse_spawned(sys.argv[1:], os.environ)
    if config is None:
        from .cli import main

        main()
    else:
        from .runner import run

        sys.exit(run(config))
