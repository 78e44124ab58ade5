"""``--env-file``: a dotenv-style file of ``KEY=VALUE`` lines (parser is pure).

Accepted syntax, one assignment per line:

* blank lines and lines starting with ``#`` are skipped; ``export KEY=VALUE``
  is allowed (so the file can also be sourced by a shell);
* ``KEY`` is ``[A-Za-z_][A-Za-z0-9_]*``;
* an unquoted value is trimmed, and a `` #`` starts a comment;
* ``'single quoted'`` values are literal; ``"double quoted"`` values know the
  escapes ``\\n \\t \\\\ \\" \\$``;
* no ``${VAR}`` expansion and no multi-line values: both are refused rather
  than read differently from other tools.

Any other line is an :class:`EnvFileError` naming the line number. Loading
never overrides a variable that is already in the environment (the caller's
environment wins, as with ``python-dotenv`` and uvicorn).
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping

_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "$": "$"}


class EnvFileError(ValueError):
    """A line of an env file that is not ``KEY=VALUE``."""


def _unquote(raw: str, lineno: int) -> str:
    if raw[:1] == "'":
        end = raw.find("'", 1)
        if end < 0:
            raise EnvFileError(f"line {lineno}: unterminated ' quote (values are one line)")
        rest = raw[end + 1 :].strip()
        if rest and not rest.startswith("#"):
            raise EnvFileError(f"line {lineno}: unexpected text after the quoted value")
        return raw[1:end]
    if raw[:1] == '"':
        out: list[str] = []
        i = 1
        while i < len(raw):
            c = raw[i]
            if c == "\\" and i + 1 < len(raw):
                nxt = raw[i + 1]
                if nxt not in _ESCAPES:
                    raise EnvFileError(f"line {lineno}: unknown escape \\{nxt}")
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if c == '"':
                rest = raw[i + 1 :].strip()
                if rest and not rest.startswith("#"):
                    raise EnvFileError(f"line {lineno}: unexpected text after the quoted value")
                return "".join(out)
            if c == "$" and raw[i + 1 : i + 2] == "{":
                raise EnvFileError(f"line {lineno}: ${{...}} expansion is not supported")
            out.append(c)
            i += 1
        raise EnvFileError(f'line {lineno}: unterminated " quote (values are one line)')
    value = re.split(r"\s#", raw, maxsplit=1)[0].strip()
    if "${" in value:
        raise EnvFileError(f"line {lineno}: ${{...}} expansion is not supported")
    return value


def parse_env(text: str) -> dict[str, str]:
    """The assignments of an env file, in order; :class:`EnvFileError` on a bad line."""
    values: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(stripped)
        if match is None:
            raise EnvFileError(f"line {lineno}: expected KEY=VALUE, got {stripped[:60]!r}")
        values[match.group(1)] = _unquote(match.group(2).strip(), lineno)
    return values


def apply_env(values: dict[str, str], environ: MutableMapping[str, str]) -> list[str]:
    """Set the variables not already in ``environ``; return the names that were set."""
    added = [key for key in values if key not in environ]
    for key in added:
        environ[key] = values[key]
    return added


def load_env_file(path: str, environ: MutableMapping[str, str]) -> list[str]:
    """Read ``path`` and :func:`apply_env` it; ``OSError``/``EnvFileError`` name the file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return apply_env(parse_env(text), environ)
    except EnvFileError as exc:
        raise EnvFileError(f"{path}: {exc}") from None
