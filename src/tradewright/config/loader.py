"""Load TOML into frozen, typed configs. Unknown keys and out-of-range values are errors that name the key.

Environment variables override values as ``TRADEWRIGHT__SECTION__KEY=value`` (double underscores separate
levels). Secrets are read only from the environment and never appear in a config's repr.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from tradewright.core.errors import ConfigError

__all__ = ["apply_env_overrides", "load_toml", "to_struct"]

T = TypeVar("T")

_AT = re.compile(r" - at `\$(.*)`$")
_ENUM_VALUE = re.compile(r"Invalid enum value .*", re.DOTALL)


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, naming the file and the line of a syntax error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def to_struct(kind: type[T], data: Mapping[str, Any], where: str) -> T:
    """Convert a mapping to a typed config; the error names the full key, e.g. `strategy.params.size`."""
    try:
        return msgspec.convert(dict(data), kind, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _AT.search(message)
        path = where
        if match is not None:
            suffix = match.group(1)
            message = message[: match.start()]
            path = (where + suffix).lstrip(".")
        unknown = re.match(r"Object contains unknown field `(.+)`", message)
        if unknown is not None:
            key = f"{path}.{unknown.group(1)}" if path else unknown.group(1)
            raise ConfigError(f"unknown config key `{key}`") from None
        missing = re.match(r"Object missing required field `(.+)`", message)
        if missing is not None:
            key = f"{path}.{missing.group(1)}" if path else missing.group(1)
            raise ConfigError(f"missing required config key `{key}`") from None
        # msgspec quotes an enum value it does not know; a secret pasted into the wrong key would be
        # repeated in the error (and in logs): say what is wrong without the value.
        message = _ENUM_VALUE.sub("Invalid enum value (not shown)", message)
        raise ConfigError(f"invalid value for `{path}`: {message}") from None


def apply_env_overrides(data: dict[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return a copy of `data` with TRADEWRIGHT__A__B=value applied (values parsed as TOML scalars)."""
    environ = os.environ if environ is None else environ
    result: dict[str, Any] = _deep_copy(data)
    for name, raw in environ.items():
        if not name.startswith("TRADEWRIGHT__"):
            continue
        keys = [k.lower() for k in name[len("TRADEWRIGHT__") :].split("__") if k]
        if not keys:
            continue
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        node = result
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"environment variable {name} overrides `{key}`, which is not a section")
            node = child
        node[keys[-1]] = value
    return result


def _deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in data.items()}
