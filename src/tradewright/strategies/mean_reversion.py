"""Mean reversion: fade a stretch outside the Bollinger bands when the RSI agrees, in a ranging market.

Long when the close is below the lower band (SMA(`bb_period`) - `bb_std` standard deviations) and
RSI(`rsi_period`) is below `rsi_low`; short above the upper band with RSI above `rsi_high`. With the
regime detector on, only in a "range" regime (a trend is where fading loses). Exits: the bracket's
ATR stop and target, and, with `exit_at_mean`, a close back at the middle band.

The decision itself is `MeanReversionSignal`, which the day-trading composite (`day_trader.py`) shares.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Protocol

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.indicators import RSI, BollingerBands
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide
from tradewright.strategies.bracket import BracketConfig, BracketStrategy
from tradewright.strategies.regime import Regime

__all__ = ["MeanReversion", "MeanReversionConfig", "MeanReversionParams", "MeanReversionSignal"]


class _Params(Protocol):
    @property
    def bb_period(self) -> int: ...
    @property
    def bb_std(self) -> float: ...
    @property
    def rsi_period(self) -> int: ...
    @property
    def rsi_low(self) -> float: ...
    @property
    def rsi_high(self) -> float: ...
    @property
    def exit_at_mean(self) -> bool: ...
    @property
    def long_only(self) -> bool: ...


def _check(low: float, high: float) -> None:
    if low >= high:
        raise ValueError(f"`rsi_low` ({low}) must be below `rsi_high` ({high})")


class MeanReversionParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The signal's parameters alone (the composite's `[strategy.params.mean_reversion]`)."""

    bb_period: Annotated[int, msgspec.Meta(ge=2)] = 20
    bb_std: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    rsi_period: Annotated[int, msgspec.Meta(ge=2)] = 14
    rsi_low: Annotated[float, msgspec.Meta(ge=0, le=100)] = 30.0
    rsi_high: Annotated[float, msgspec.Meta(ge=0, le=100)] = 70.0
    exit_at_mean: bool = True
    long_only: bool = False

    def __post_init__(self) -> None:
        _check(self.rsi_low, self.rsi_high)


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
        _check(self.rsi_low, self.rsi_high)


class MeanReversionSignal:
    """The fade decision, bar by bar: `update` with every bar, then `exit` (holding) or `entry` (flat)."""

    def __init__(self, params: _Params) -> None:
        self.params = params
        self.bands = BollingerBands(params.bb_period, params.bb_std, params.bb_std)
        self.rsi = RSI(params.rsi_period)

    def update(self, bar: BarView) -> None:
        close = bar.close
        self.bands.update(close)
        self.rsi.update(close)

    @property
    def ready(self) -> bool:
        return self.bands.ready and self.rsi.ready

    def exit(self, bar: BarView, position: Decimal) -> str | None:
        """"mean_reached" when the close is back at the middle band (with `exit_at_mean`)."""
        if not self.params.exit_at_mean or not self.ready:
            return None
        middle, close = self.bands.middle, bar.close
        if (position > 0 and close >= middle) or (position < 0 and close <= middle):
            return "mean_reached"
        return None

    def entry(self, bar: BarView) -> tuple[OrderSide, str] | None:
        if not self.ready:
            return None
        close, params = bar.close, self.params
        if close < self.bands.lower and self.rsi.value < params.rsi_low:
            return OrderSide.BUY, "bollinger_rsi_oversold"
        if not params.long_only and close > self.bands.upper and self.rsi.value > params.rsi_high:
            return OrderSide.SELL, "bollinger_rsi_overbought"
        return None


class MeanReversion(BracketStrategy):
    Config = MeanReversionConfig

    def __init__(
        self, strategy_id: str, instruments: list[InstrumentId], config: MeanReversionConfig
    ) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.signal = MeanReversionSignal(config)
        self.bands = self.signal.bands
        self.rsi = self.signal.rsi

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        signal = self.signal
        self.update_common(bar)
        signal.update(bar)
        if not signal.ready or self.busy:
            return
        position = self.position
        if position != 0:
            reason = signal.exit(bar, position)
            if reason is not None:
                self.exit(reason)
            return
        if self.detector is not None and self.regime is not Regime.RANGE:
            return
        decision = signal.entry(bar)
        if decision is not None:
            self.enter(decision[0], bar, decision[1])
