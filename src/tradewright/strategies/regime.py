"""A market regime detector: trend, range or neutral, from ADX and the width of the Bollinger bands.

- **trend**: ADX at or above `trend_adx` (directional movement is strong);
- **range**: ADX at or below `range_adx` and the Bollinger bands no wider than `range_width_ratio`
  times their own average width over `width_period` bars (no direction, no expansion);
- **neutral**: everything else, and until the indicators are warm.

Strategies consult it to trade only where their edge lives (a pullback needs a trend, a fade needs
a range) and tag their trades with it, so the journal can report results per regime.
"""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec

from tradewright.indicators import ADX, EMA, BollingerBands

__all__ = ["Regime", "RegimeConfig", "RegimeDetector"]


class Regime(enum.StrEnum):
    TREND = "trend"
    RANGE = "range"
    NEUTRAL = "neutral"


class RegimeConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Thresholds of the regime detector (ADX is in [0, 100]; periods in bars)."""

    adx_period: Annotated[int, msgspec.Meta(ge=2)] = 14
    trend_adx: Annotated[float, msgspec.Meta(ge=0, le=100)] = 25.0
    range_adx: Annotated[float, msgspec.Meta(ge=0, le=100)] = 20.0
    bb_period: Annotated[int, msgspec.Meta(ge=2)] = 20
    width_period: Annotated[int, msgspec.Meta(ge=1)] = 100
    range_width_ratio: Annotated[float, msgspec.Meta(gt=0)] = 1.0

    def __post_init__(self) -> None:
        if self.range_adx > self.trend_adx:
            raise ValueError(f"`range_adx` ({self.range_adx}) must not exceed `trend_adx` ({self.trend_adx})")


class RegimeDetector:
    """Update with each bar's high, low and close; read `regime`."""

    __slots__ = ("_adx", "_bands", "_width", "config", "regime")

    def __init__(self, config: RegimeConfig | None = None) -> None:
        self.config = config or RegimeConfig()
        self._adx = ADX(self.config.adx_period)
        self._bands = BollingerBands(self.config.bb_period, 2.0, 2.0)
        self._width = EMA(self.config.width_period)
        self.regime = Regime.NEUTRAL

    @property
    def adx(self) -> float:
        return self._adx.value

    @property
    def band_width(self) -> float:
        """(upper - lower) / middle of the Bollinger bands; NaN until ready."""
        bands = self._bands
        return (bands.upper - bands.lower) / bands.middle if bands.ready else float("nan")

    def update(self, high: float, low: float, close: float) -> Regime:
        """Add a bar; return the regime after it."""
        self._adx.update(high, low, close)
        bands = self._bands
        bands.update(close)
        if not bands.ready:
            return self.regime
        width = (bands.upper - bands.lower) / bands.middle if bands.middle != 0.0 else 0.0
        self._width.update(width)
        adx = self._adx
        cfg = self.config
        if not (adx.ready and self._width.ready):
            self.regime = Regime.NEUTRAL
        elif adx.value >= cfg.trend_adx:
            self.regime = Regime.TREND
        elif adx.value <= cfg.range_adx and width <= cfg.range_width_ratio * self._width.value:
            self.regime = Regime.RANGE
        else:
            self.regime = Regime.NEUTRAL
        return self.regime
