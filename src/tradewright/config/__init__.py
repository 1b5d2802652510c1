"""Typed configuration: TOML files plus environment overrides, validated at load."""

from tradewright.config.loader import apply_env_overrides, load_toml, to_struct
from tradewright.config.run import RunConfig, load_run_config

__all__ = ["RunConfig", "apply_env_overrides", "load_run_config", "load_toml", "to_struct"]
