"""A closed set of long options read without a CLI library.

Both programs read their most common command lines this way before falling
back to typer (``frontend/cli_fast.py``, ``worker/spawned_argv.py``): typer
costs more to import and build than the rest of their start-up. The reader
knows only ``--name`` flags, ``--name VALUE`` options (once, or repeatable)
and at most one positional argument; each value goes through its parser.

Invariant: :func:`read_options` gives ``None`` for anything outside that
shape — an unknown option, ``--name=value``, ``--``, a missing value, a
value that starts with ``-``, a parser's ``None``, a single option or flag
given twice, a second positional — so the caller can hand the command line
to typer, which reads (or refuses) it with its own messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

#: Turns an option's text into its value, or ``None`` to refuse it.
Parse = Callable[[str], object]


def text(value: str) -> str:
    """Any string (typer's ``str`` options)."""
    return value


def read_options(
    argv: Sequence[str],
    flags: Mapping[str, tuple[str, bool]],
    valued: Mapping[str, tuple[str, Parse]],
    repeated: Mapping[str, tuple[str, Parse]] | None = None,
    positional: tuple[str, Parse] | None = None,
) -> dict[str, object] | None:
    """Values by name (a list for a ``repeated`` option), or None (see the module).

    ``flags`` maps ``--name`` to (name, value); ``valued`` and ``repeated`` map
    ``--name`` to (name, parser); ``positional`` is (name, parser) of the one
    argument that is not an option.
    """
    repeated = repeated or {}
    values: dict[str, object] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-"):
            if positional is None or positional[0] in values:
                return None
            name, parse = positional
            step = 1
        elif arg in flags:
            name, flag = flags[arg]
            if name in values:
                return None
            values[name] = flag
            i += 1
            continue
        else:
            spec = valued.get(arg) or repeated.get(arg)
            if spec is None or i + 1 >= len(argv) or argv[i + 1].startswith("-"):
                return None
            name, parse = spec
            arg = argv[i + 1]
            step = 2
        value = parse(arg)
        if value is None:
            return None
        if argv[i] in repeated:
            items = values.setdefault(name, [])
            assert isinstance(items, list)
            items.append(value)
        elif name in values:
            return None
        else:
            values[name] = value
        i += step
    return values
