"""Shared checks for indicator configs: each failure names the config field and its allowed range."""

from __future__ import annotations

import math

from tradewright.core.errors import ConfigError

__all__ = ["check_float", "check_int"]


def check_int(owner: str, field: str, value: object, *, minimum: int, allowed: tuple[int, ...] = ()) -> None:
    """Raise `ConfigError` unless `value` is an int >= `minimum` (and one of `allowed`, when given)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{owner}.{field} must be an integer >= {minimum}, got {value!r}")
    if allowed and value not in allowed:
        raise ConfigError(f"{owner}.{field} must be one of {', '.join(map(str, allowed))}, got {value}")
    if value < minimum:
        raise ConfigError(f"{owner}.{field} must be an integer >= {minimum}, got {value}")


def check_float(owner: str, field: str, value: object, *, minimum: float, strict: bool = False) -> None:
    """Raise `ConfigError` unless `value` is a finite number >= `minimum` (> `minimum` when `strict`)."""
    op = ">" if strict else ">="
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{owner}.{field} must be a finite number {op} {minimum}, got {value!r}")
    if value < minimum or (strict and value == minimum):
        raise ConfigError(f"{owner}.{field} must be a finite number {op} {minimum}, got {value}")
