"""The effective config of one research run, written as TOML so the run folder says exactly what ran.

A sweep or walk-forward run is the user's config plus overrides (the grid point, the data window).
`run_backtest` copies `config.source_text` into the run folder's config.toml; for these runs that text
is the effective config: the user's file as loaded (environment overrides included), the overrides
applied, relative paths made absolute, and a header naming the source file and the overrides. Running
`tradewright backtest RUN_DIR/config.toml` repeats the run.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tradewright.config.loader import apply_env_overrides, load_toml
from tradewright.core.errors import ConfigError

__all__ = ["apply_overrides", "dump_toml", "effective_config_text", "effective_data", "toml_value"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# Config values that are paths relative to the config file's folder.
_PATH_KEYS = (("data", "paths"), ("strategy", "path"), ("venue", "latency_file"))


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Set dotted keys in a nested dict (in place, as `load_run_config` does); return it."""
    for dotted, value in overrides.items():
        node = data
        *parents, last = dotted.split(".")
        for p in parents:
            child = node.setdefault(p, {})
            if not isinstance(child, dict):
                raise ConfigError(f"cannot set `{dotted}`: `{p}` is a value, not a table")
            node = child
        node[last] = value
    return data


def effective_data(config_path: Path, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The config as `load_run_config(config_path, overrides)` sees it, with its paths made absolute."""
    data = apply_overrides(apply_env_overrides(load_toml(config_path)), overrides)
    base = config_path.resolve().parent
    for section, key in _PATH_KEYS:
        table = data.get(section)
        if not isinstance(table, dict) or key not in table:
            continue
        value = table[key]
        if isinstance(value, str) and value:
            table[key] = str(base / value)
        elif isinstance(value, list):
            table[key] = [str(base / v) if isinstance(v, str) else v for v in value]
    return data


def effective_config_text(config_path: Path, overrides: Mapping[str, Any], *, header: str) -> str:
    """Return the effective config as TOML, `header` (plain lines) as comments on top."""
    data = effective_data(config_path, overrides)
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    text = comments + dump_toml(data)
    if tomllib.loads(text) != data:  # never write a config that does not read back as what ran
        raise ConfigError(f"cannot write the effective config of {config_path} as TOML")
    return text


def dump_toml(data: Mapping[str, Any]) -> str:
    """Write nested dicts of TOML values as TOML: scalars first, then one [table] per nested dict."""
    lines: list[str] = []
    _table(lines, (), data)
    return "\n".join(lines).strip() + "\n"


def _table(lines: list[str], path: tuple[str, ...], data: Mapping[str, Any]) -> None:
    scalars = [(k, v) for k, v in data.items() if not isinstance(v, dict)]
    tables = [(k, v) for k, v in data.items() if isinstance(v, dict)]
    if path and (scalars or not tables):
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
    lines.extend(f"{_key(k)} = {toml_value(v)}" for k, v in scalars)
    for k, v in tables:
        _table(lines, (*path, k), v)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    # JSON's escapes are TOML's, except that TOML also forbids a raw DEL in basic strings.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    """Write one value as TOML (`2`, `0.5`, `"text"`, `[1, 2]`, `{a = 1}`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"cannot write {value!r} ({type(value).__name__}) as a TOML value")
