"""The libFuzzer process of ``python -m bench.fuzz`` (engine atheris).

``python -m bench.fuzz.atheris_child TARGET [libFuzzer options] CORPUS...``:
instruments pagi's modules, then hands the target to libFuzzer, which exits
the process (status != 0 and a ``crash-*`` file) on the first failure.
"""

from __future__ import annotations

import sys

import atheris


def main() -> None:
    name = sys.argv.pop(1)
    with atheris.instrument_imports(include=["pagi", "wsproto", "h11", "msgpack", "h2", "hpack"]):
        from bench.fuzz.targets import TARGETS
    target = TARGETS[name]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
