"""Mean reversion: fade a stretch outside the Bollinger bands when the RSI agrees, in a ranging market.

Long when the close is below the lower band (SMA(`bb_period`) - `bb_std` standard deviations) and
RSI(`rsi_period`) is below `rsi_low`; short above the upper band with RSI above `rsi_high`. With the
regime detector on, only in a "range" regime (a trend is where fading loses). Exits: the bracket's
ATR stop and target, and, with `exit_at_mean`, a close back at the middle band.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.indicators import RSI, BollingerBands
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide
from tradewright.strategies.bracket import BracketConfig, BracketStrategy
from tradewright.strategies.regime import Regime

__all__ = ["MeanReversion", "MeanReversionConfig"]


class MeanReversionConfig(BracketConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Periods in bars; `bb_std` in standard deviations; RSI thresholds in [0, 100]."""

    bb_period: Annotated[int, msgspec.Meta(ge=2)] = 20
    bb_std: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    rsi_period: Annotated[int, msgspec.Meta(ge=2)] = 14
    rsi_low: Annotated[float, msgspec.Meta(ge=0, le=100)] = 30.0
    rsi_high: Annotated[float, msgspec.Meta(ge=0, le=100)] = 70.0
    exit_at_mean: bool = True
    long_only: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.rsi_low >= self.rsi_high:
            raise ValueError(f"`rsi_low` ({self.rsi_low}) must be below `rsi_high` ({self.rsi_high})")


class MeanReversion(BracketStrategy):
    Config = MeanReversionConfig

    def __init__(
        self, strategy_id: str, instruments: list[InstrumentId], config: MeanReversionConfig
    ) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.bands = BollingerBands(config.bb_period, config.bb_std, config.bb_std)
        self.rsi = RSI(config.rsi_period)

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        self.update_common(bar)
        close = bar.close
        self.bands.update(close)
        self.rsi.update(close)
        if not (self.bands.ready and self.rsi.ready) or self.busy:
            return
        position = self.position
        if position != 0:
            middle = self.bands.middle
            if self.cfg.exit_at_mean and (
                (position > 0 and close >= middle) or (position < 0 and close <= middle)
            ):
                self.exit("mean_reached")
            return
        if self.detector is not None and self.regime is not Regime.RANGE:
            return
        if close < self.bands.lower and self.rsi.value < self.cfg.rsi_low:
            self.enter(OrderSide.BUY, bar, "bollinger_rsi_oversold")
        elif not self.cfg.long_only and close > self.bands.upper and self.rsi.value > self.cfg.rsi_high:
            self.enter(OrderSide.SELL, bar, "bollinger_rsi_overbought")
