"""VWAP pullback: in a trend, buy the dip to the session's VWAP (sell the rally to it in a downtrend).

The VWAP is anchored at the instrument's session open (`session`; the UTC day when the instrument has
no sessions) and weights each bar's typical price by its volume (bars without volume weigh one each).
Up-trend: the close is above the VWAP and above EMA(`trend_ema`), and the regime detector (when on)
says "trend". The entry bar dips to within `band_atr` ATRs of the VWAP and closes back above it, up
on the bar: buy at the next open, with the bracket's ATR stop and target. Down-trend is the mirror.
No entries in the first `min_session_bars` bars of a session (the VWAP is still noise there).

The decision itself is `VwapPullbackSignal`, which the day-trading composite (`day_trader.py`) shares.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Protocol

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.indicators import EMA, VWAP
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide
from tradewright.model.instrument import Instrument
from tradewright.strategies.bracket import BracketConfig, BracketStrategy
from tradewright.strategies.regime import Regime
from tradewright.strategies.session import SessionTracker

__all__ = ["VwapPullback", "VwapPullbackConfig", "VwapPullbackParams", "VwapPullbackSignal"]


class _Params(Protocol):
    @property
    def session(self) -> str: ...
    @property
    def trend_ema(self) -> int: ...
    @property
    def band_atr(self) -> float: ...
    @property
    def min_session_bars(self) -> int: ...
    @property
    def long_only(self) -> bool: ...


class VwapPullbackParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The signal's parameters alone (the composite's `[strategy.params.vwap_pullback]`)."""

    session: str = ""
    trend_ema: Annotated[int, msgspec.Meta(ge=2)] = 50
    band_atr: Annotated[float, msgspec.Meta(ge=0)] = 0.25
    min_session_bars: Annotated[int, msgspec.Meta(ge=1)] = 15
    long_only: bool = False


class VwapPullbackConfig(BracketConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`session` names an instrument session ("" = the main one); periods in bars; `band_atr` in ATRs."""

    session: str = ""
    trend_ema: Annotated[int, msgspec.Meta(ge=2)] = 50
    band_atr: Annotated[float, msgspec.Meta(ge=0)] = 0.25
    min_session_bars: Annotated[int, msgspec.Meta(ge=1)] = 15
    long_only: bool = False


class VwapPullbackSignal:
    """The pullback decision, bar by bar: `update` with every bar, then ask `entry`."""

    def __init__(self, params: _Params, instrument: Instrument) -> None:
        self.params = params
        self.vwap = VWAP(session_length_ns=1 << 62)  # anchored by hand at each session open
        self.ema = EMA(params.trend_ema)
        self.sessions = SessionTracker(instrument, params.session)
        self.session_bars = 0

    def update(self, bar: BarView) -> None:
        close = bar.close
        self.ema.update(close)
        if self.sessions.update(bar.ts_open_ns):
            self.vwap.reset()
            self.session_bars = 0
        volume = bar.volume
        self.vwap.update_bar(bar.ts_open_ns, bar.high, bar.low, close, volume if math.isfinite(volume) else 1.0)
        self.session_bars += 1

    @property
    def ready(self) -> bool:
        return self.vwap.ready and self.ema.ready

    def entry(self, bar: BarView, atr: float) -> tuple[OrderSide, str] | None:
        """The side and reason of an entry at the next open, or None (no pullback, VWAP too young)."""
        if not self.ready or self.session_bars < self.params.min_session_bars:
            return None
        close = bar.close
        vwap, band = self.vwap.value, self.params.band_atr * atr
        if close > vwap and close > self.ema.value and bar.low <= vwap + band and close > bar.open:
            return OrderSide.BUY, "vwap_pullback_long"
        if (
            not self.params.long_only
            and close < vwap
            and close < self.ema.value
            and bar.high >= vwap - band
            and close < bar.open
        ):
            return OrderSide.SELL, "vwap_pullback_short"
        return None


class VwapPullback(BracketStrategy):
    Config = VwapPullbackConfig

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: VwapPullbackConfig) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.signal: VwapPullbackSignal | None = None

    def on_start(self, **kw: Any) -> None:
        self.signal = VwapPullbackSignal(self.cfg, self.ctx.instrument(self.iid))

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        signal = self.signal
        assert signal is not None
        self.update_common(bar)
        signal.update(bar)
        if self.busy or self.position != 0 or not self.atr.ready:
            return
        if self.detector is not None and self.regime is not Regime.TREND:
            return
        decision = signal.entry(bar, self.atr.value)
        if decision is not None:
            self.enter(decision[0], bar, decision[1])
