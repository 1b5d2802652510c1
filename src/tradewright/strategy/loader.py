"""Load a user's or a built-in strategy class named in a run config, and build it with validated params."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from typing import Any

from tradewright.config.loader import to_struct
from tradewright.config.run import RunConfig
from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId
from tradewright.strategy.base import Strategy

__all__ = ["load_strategy_class", "make_strategy"]


def load_strategy_class(config: RunConfig) -> type[Strategy]:
    """Import the strategy class named in `[strategy]` (from a file path or a module)."""
    sc = config.strategy
    if bool(sc.path) == bool(sc.module):
        raise ConfigError("`strategy` needs exactly one of `path` (a .py file) or `module`")
    if sc.path:
        file = config.resolve(sc.path)
        if not file.is_file():
            raise ConfigError(f"`strategy.path`: no such file {file}")
        name = "tradewright_user_strategy_" + hashlib.sha1(str(file).encode()).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise ConfigError(f"`strategy.path`: cannot import {file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(sc.module)
        except ImportError as exc:
            raise ConfigError(f"`strategy.module`: cannot import {sc.module}: {exc}") from None
    cls = getattr(module, sc.class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(
            f"`strategy.class`: {sc.class_name} is not a Strategy subclass in {sc.path or sc.module}"
        )
    return cls


def make_strategy(config: RunConfig, instrument_id: InstrumentId) -> Strategy:
    """Build the configured strategy for one instrument; bad params raise ConfigError naming the key."""
    cls = load_strategy_class(config)
    params: Any = config.strategy.params
    if cls.Config is not None:
        params = to_struct(cls.Config, config.strategy.params, "strategy.params")
    try:
        return cls(config.strategy.id, [instrument_id], params)
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc)) from None
