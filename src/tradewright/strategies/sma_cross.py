"""SMA cross: long when the fast simple moving average is above the slow one (and short below, if allowed).

The simplest trend follower and the library's smallest example. On the bar where SMA(`fast`) crosses
above SMA(`slow`) it buys at the next open; where it crosses below it sells (closing a long, and
opening a short unless `long_only`). With the defaults it also carries the bracket (`BracketConfig`):
an ATR stop and a target; with ``sizing = "all_in"``, ``stop_atr = 0``, ``target_r = 0`` and
``use_regime = false`` it is the classic all-in/all-out benchmark strategy (bench/bars.py).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.indicators import SMA
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide
from tradewright.strategies.bracket import BracketConfig, BracketStrategy

__all__ = ["SmaCross", "SmaCrossConfig"]


class SmaCrossConfig(BracketConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`fast` and `slow` are periods in bars."""

    fast: Annotated[int, msgspec.Meta(ge=1)] = 10
    slow: Annotated[int, msgspec.Meta(ge=2)] = 30
    long_only: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.fast >= self.slow:
            raise ValueError(f"`fast` ({self.fast}) must be below `slow` ({self.slow})")


class SmaCross(BracketStrategy):
    Config = SmaCrossConfig

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: SmaCrossConfig) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.fast = SMA(config.fast)
        self.slow = SMA(config.slow)
        self._above: bool | None = None
        # Bound methods, looked up once: on_bar runs for every bar.
        self._update_fast = self.fast.update
        self._update_slow = self.slow.update
        self._common = config.stop_atr > 0 or config.use_regime

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        close = bar.close
        self._update_fast(close)
        self._update_slow(close)
        if self._common:
            self.update_common(bar)
        slow = self.slow.value
        if slow != slow:
            return  # NaN: still warming up
        above = self.fast.value > slow
        if above is self._above:
            return
        first = self._above is None
        self._above = above
        if first:
            return  # no cross yet: only the state at the end of the warm-up
        position = self.position
        if above:
            if position <= 0:
                self.enter(OrderSide.BUY, bar, "sma_cross_up")  # closes a short in the same order
        elif self.cfg.long_only:
            if position > 0:
                self.exit("sma_cross_down")
        elif position >= 0:
            self.enter(OrderSide.SELL, bar, "sma_cross_down")  # closes a long in the same order
