"""A venue's config for the commands that talk to a venue without a node (`markets`, `turbine claim`):
built from the flags given (`--rest-url`, `--ws-url`) and `--set KEY=VALUE` pairs, decoded into the
venue package's own config type, so unknown keys and bad values are refused naming them."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from typing import Any

__all__ = ["venue_config"]


def venue_config(config_types: Sequence[type[Any]], given: dict[str, Any], pairs: Sequence[str]) -> Any:
    """Decode the settings into the first config type that accepts them."""
    import msgspec

    from tradewright.core.errors import ConfigError

    settings = {k: v for k, v in given.items() if v is not None}
    for item in pairs:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"--set must look like KEY=VALUE, got {item!r}")
        try:
            settings[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            settings[key.strip()] = value
    problems: list[str] = []
    for config_type in config_types:
        try:
            return msgspec.convert(settings, type=config_type)
        except (msgspec.ValidationError, ValueError) as exc:
            problems.append(str(exc))
    raise ConfigError(f"invalid venue settings: {'; '.join(problems)}")
