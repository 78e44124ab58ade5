"""``--log-config FILE``: the standard library's logging configuration, from a file.

The file's suffix picks the format, as in uvicorn:

* ``.json`` — a :func:`logging.config.dictConfig` dictionary;
* ``.yaml`` / ``.yml`` — the same dictionary in YAML; needs PyYAML, which pagi
  does not depend on (without it: a clear error naming the package);
* anything else — the INI format of :func:`logging.config.fileConfig`, applied
  with ``disable_existing_loggers=False``.

:func:`read_log_config` parses and checks the file up front, so a broken file is
refused at the command line (exit 2) before anything starts; :func:`apply_log_config`
installs it after the program's own default logging, so the file wins for
everything it names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import configparser


class LogConfigError(ValueError):
    """The log configuration file cannot be read, parsed, or applied."""


@dataclass(frozen=True, slots=True)
class LogConfig:
    """A parsed log configuration: ``dict_config`` or ``ini`` is set, never both."""

    path: str
    dict_config: dict[str, object] | None = None
    ini: configparser.RawConfigParser | None = None


def _parse_yaml(text: str) -> object:
    try:
        import yaml
    except ImportError:
        raise LogConfigError(
            "a YAML log config needs PyYAML, which is not installed "
            "(pip install pyyaml, or write the file as .json or .ini)"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LogConfigError(f"not valid YAML: {exc}") from None


def read_log_config(path: str) -> LogConfig:
    """Read and check ``path``; :class:`LogConfigError` says what is wrong with it.

    The parsers are imported here: only a front or worker given ``--log-config``
    pays for them at start-up."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as exc:
        raise LogConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    suffix = os.path.splitext(path)[1].lower()
    if suffix in (".json", ".yaml", ".yml"):
        if suffix == ".json":
            import json

            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise LogConfigError(f"{path}: not valid JSON: {exc}") from None
        else:
            try:
                data = _parse_yaml(text)
            except LogConfigError as exc:
                raise LogConfigError(f"{path}: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != 1:
            raise LogConfigError(f"{path}: expected a logging dictConfig mapping with 'version: 1'")
        return LogConfig(path, dict_config=data)
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        raise LogConfigError(f"{path}: not a valid INI file: {exc}") from None
    if not parser.has_section("loggers"):
        raise LogConfigError(
            f"{path}: an INI log config needs [loggers], [handlers] and [formatters] "
            "sections (use .json or .yaml for a dictConfig)"
        )
    return LogConfig(path, ini=parser)


def apply_log_config(config: LogConfig) -> None:
    """Install ``config`` over the current logging setup."""
    import logging.config  # only with --log-config: keeps start-up light

    try:
        if config.dict_config is not None:
            logging.config.dictConfig(config.dict_config)
        else:
            assert config.ini is not None
            logging.config.fileConfig(config.ini, disable_existing_loggers=False)
    except (ValueError, TypeError, KeyError, AttributeError, ImportError, OSError) as exc:
        raise LogConfigError(f"{config.path}: cannot apply it: {exc}") from None
