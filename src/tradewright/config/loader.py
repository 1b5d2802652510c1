"""Load TOML into frozen, typed configs. Unknown keys and out-of-range values are errors that name the key.

Environment variables override values as ``TRADEWRIGHT__SECTION__KEY=value`` (double underscores separate
levels). Secrets are read only from the environment and never appear in a config's repr.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from tradewright.core.errors import ConfigError

__all__ = ["apply_env_overrides", "closest", "load_toml", "to_struct"]

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
    """Convert a mapping to a typed config; the error names the full key, e.g. `strategy.params.size`.

    An unknown key or an unknown choice names the closest valid one and lists them all.
    """
    try:
        return msgspec.convert(dict(data), kind, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _AT.search(message)
        path = where
        suffix = ""
        if match is not None:
            suffix = match.group(1)
            message = message[: match.start()]
            path = (where + suffix).lstrip(".")
        info = _type_at(msgspec.inspect.type_info(kind), suffix)
        unknown = re.match(r"Object contains unknown field `(.+)`", message)
        if unknown is not None:
            name = unknown.group(1)
            key = f"{path}.{name}" if path else name
            valid = (
                [f.encode_name for f in info.fields] if isinstance(info, msgspec.inspect.StructType) else []
            )
            raise ConfigError(f"unknown config key `{key}`" + _choices(name, valid, "keys", path)) from None
        missing = re.match(r"Object missing required field `(.+)`", message)
        if missing is not None:
            key = f"{path}.{missing.group(1)}" if path else missing.group(1)
            raise ConfigError(f"missing required config key `{key}`") from None
        bad = re.match(r"Invalid enum value (.+)$", message, re.DOTALL)
        values = _enum_values(info)
        if bad is not None and values:
            # The value itself is not repeated: a secret pasted into the wrong key would end up in the
            # error (and in logs). The closest valid value and the list of valid ones are enough.
            given = bad.group(1).strip("'\"")
            raise ConfigError(
                f"invalid value for `{path}` (not shown)" + _choices(given, values, "values")
            ) from None
        # msgspec quotes an enum value it does not know: say what is wrong without the value.
        message = _ENUM_VALUE.sub("Invalid enum value (not shown)", message)
        raise ConfigError(f"invalid value for `{path}`: {message}") from None


def closest(name: str, valid: Sequence[str]) -> str | None:
    """The valid name `name` was most likely meant to be (None when none is close)."""
    found = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return found[0] if found else None


# Fields a loader fills in itself: never a key a user writes.
_INTERNAL = frozenset({"base_dir", "source_text"})


def _choices(given: str, valid: Sequence[str], what: str, section: str = "") -> str:
    valid = [v for v in valid if v not in _INTERNAL]
    if not valid:
        return ""
    guess = closest(given, valid)
    prefix = f"{section}." if section and what == "keys" else ""
    hint = f" (did you mean `{prefix}{guess}`?)" if guess is not None else ""
    place = f" of [{section}]" if section else ""
    return f"{hint}; valid {what}{place}: {', '.join(sorted(valid))}"


def _type_at(info: Any, suffix: str) -> Any:
    """The msgspec type info at a `$.a.b` path suffix (unwrapping optionals; None when unknown)."""
    for part in [p for p in re.split(r"\.|\[\d+\]", suffix) if p]:
        info = _unwrap(info)
        if isinstance(info, msgspec.inspect.StructType):
            info = next((f.type for f in info.fields if f.encode_name == part), None)
        elif isinstance(info, msgspec.inspect.DictType):
            info = info.value_type
        else:
            return None
    return _unwrap(info)


def _unwrap(info: Any) -> Any:
    if isinstance(info, msgspec.inspect.UnionType):
        inner = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        if len(inner) == 1:
            return inner[0]
    if isinstance(info, msgspec.inspect.ListType | msgspec.inspect.TupleType):
        return info.item_type if isinstance(info, msgspec.inspect.ListType) else info
    return info


def _enum_values(info: Any) -> list[str]:
    if isinstance(info, msgspec.inspect.LiteralType):
        return [str(v) for v in info.values]
    if isinstance(info, msgspec.inspect.EnumType):
        return [str(m.value) for m in info.cls]
    return []


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
