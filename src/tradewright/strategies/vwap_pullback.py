"""VWAP pullback: in a trend, buy the dip to the session's VWAP (sell the rally to it in a downtrend).

The VWAP is anchored at the instrument's session open (`session`; the UTC day when the instrument has
no sessions) and weights each bar's typical price by its volume (bars without volume weigh one each).
Up-trend: the close is above the VWAP and above EMA(`trend_ema`), and the regime detector (when on)
says "trend". The entry bar dips to within `band_atr` ATRs of the VWAP and closes back above it, up
on the bar: buy at the next open, with the bracket's ATR stop and target. Down-trend is the mirror.
No entries in the first `min_session_bars` bars of a session (the VWAP is still noise there).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.indicators import EMA, VWAP
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide
from tradewright.strategies.bracket import BracketConfig, BracketStrategy
from tradewright.strategies.regime import Regime
from tradewright.strategies.session import SessionTracker

__all__ = ["VwapPullback", "VwapPullbackConfig"]


class VwapPullbackConfig(BracketConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`session` names an instrument session ("" = the main one); periods in bars; `band_atr` in ATRs."""

    session: str = ""
    trend_ema: Annotated[int, msgspec.Meta(ge=2)] = 50
    band_atr: Annotated[float, msgspec.Meta(ge=0)] = 0.25
    min_session_bars: Annotated[int, msgspec.Meta(ge=1)] = 15
    long_only: bool = False


class VwapPullback(BracketStrategy):
    Config = VwapPullbackConfig

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: VwapPullbackConfig) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.vwap = VWAP(session_length_ns=1 << 62)  # anchored by hand at each session open
        self.ema = EMA(config.trend_ema)
        self.sessions: SessionTracker | None = None
        self.session_bars = 0

    def on_start(self, **kw: Any) -> None:
        self.sessions = SessionTracker(self.ctx.instrument(self.iid), self.cfg.session)

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        assert self.sessions is not None
        self.update_common(bar)
        close = bar.close
        self.ema.update(close)
        if self.sessions.update(bar.ts_open_ns):
            self.vwap.reset()
            self.session_bars = 0
        volume = bar.volume
        self.vwap.update_bar(
            bar.ts_open_ns, bar.high, bar.low, close, volume if math.isfinite(volume) else 1.0
        )
        self.session_bars += 1
        if self.busy or self.position != 0 or not (self.vwap.ready and self.ema.ready and self.atr.ready):
            return
        if self.session_bars < self.cfg.min_session_bars:
            return
        if self.detector is not None and self.regime is not Regime.TREND:
            return
        vwap, band = self.vwap.value, self.cfg.band_atr * self.atr.value
        if close > vwap and close > self.ema.value and bar.low <= vwap + band and close > bar.open:
            self.enter(OrderSide.BUY, bar, "vwap_pullback_long")
        elif (
            not self.cfg.long_only
            and close < vwap
            and close < self.ema.value
            and bar.high >= vwap - band
            and close < bar.open
        ):
            self.enter(OrderSide.SELL, bar, "vwap_pullback_short")
