"""Incremental indicators: O(1) per update, plain floats in slotted objects, equal to TA-Lib.

Every indicator has `update(...)`, `value` (NaN until `ready`), `ready` and `reset()`, and a frozen
config validated at construction (`config`; an invalid field raises `ConfigError` naming it and
its allowed range). Indicators are signals, so they compute in floats; money stays exact elsewhere.
Inputs must be finite (the bar loaders reject non-finite prices).
"""

from typing import Protocol

from tradewright.indicators.momentum import ADX, RSI, ADXConfig, RSIConfig
from tradewright.indicators.moving import EMA, SMA, EMAConfig, SMAConfig
from tradewright.indicators.volatility import (
    ATR,
    ATRConfig,
    BollingerBands,
    BollingerConfig,
    RealisedVolatility,
    RealisedVolatilityConfig,
    TrueRange,
    true_range,
)
from tradewright.indicators.vwap import VWAP, VWAPConfig


class Indicator(Protocol):
    """What every indicator offers besides its own `update` signature."""

    @property
    def value(self) -> float: ...

    @property
    def ready(self) -> bool: ...

    def reset(self) -> None: ...


__all__ = [
    "ADX",
    "ATR",
    "EMA",
    "RSI",
    "SMA",
    "VWAP",
    "ADXConfig",
    "ATRConfig",
    "BollingerBands",
    "BollingerConfig",
    "EMAConfig",
    "Indicator",
    "RSIConfig",
    "RealisedVolatility",
    "RealisedVolatilityConfig",
    "SMAConfig",
    "TrueRange",
    "VWAPConfig",
    "true_range",
]
