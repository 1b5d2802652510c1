"""Typed configuration: TOML files plus environment overrides, validated at load."""

from tradewright.config.loader import apply_env_overrides, load_toml, to_struct

__all__ = ["apply_env_overrides", "load_toml", "to_struct"]
