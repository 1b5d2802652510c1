"""Opening-range breakout, retest entry: trade the break of the session's first minutes, on the retest.

The opening range is the high and low of the bars that open in the first `range_minutes` of the
session (`session`, default the regular "rth" session; the main one or the UTC day if the instrument
has none). No trade is taken inside the range. After it, a close beyond the range is a breakout; the
entry waits for a retest: a later bar that comes back to within `retest_ticks` of the broken edge and
closes beyond it again. Then it enters at the next open with the bracket's stop and target. A close
back through the far side of the range cancels the setup; at most one trade per session, no entry
later than `last_entry_minutes` into it, and an open position is closed when the session ends.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide
from tradewright.strategies.bracket import BracketConfig, BracketStrategy
from tradewright.strategies.session import SessionTracker

__all__ = ["OpeningRangeRetest", "OpeningRangeRetestConfig"]

_MINUTE_NS = 60_000_000_000


class OpeningRangeRetestConfig(BracketConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Minutes from the session open; `retest_ticks` in ticks."""

    session: str = "rth"
    range_minutes: Annotated[int, msgspec.Meta(ge=1)] = 30
    retest_ticks: Annotated[int, msgspec.Meta(ge=0)] = 2
    last_entry_minutes: Annotated[int, msgspec.Meta(ge=1)] = 240
    long_only: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.last_entry_minutes <= self.range_minutes:
            raise ValueError(
                f"`last_entry_minutes` ({self.last_entry_minutes}) must exceed `range_minutes` ({self.range_minutes})"
            )


class OpeningRangeRetest(BracketStrategy):
    Config = OpeningRangeRetestConfig

    def __init__(
        self, strategy_id: str, instruments: list[InstrumentId], config: OpeningRangeRetestConfig
    ) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.sessions: SessionTracker | None = None
        self.range_high: int | None = None
        self.range_low: int | None = None
        self.breakout: OrderSide | None = None
        self.traded = False

    def on_start(self, **kw: Any) -> None:
        self.sessions = SessionTracker(self.ctx.instrument(self.iid), self.cfg.session)

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        sessions = self.sessions
        assert sessions is not None
        self.update_common(bar)
        ts = bar.ts_open_ns
        if sessions.update(ts):
            self.range_high = self.range_low = None
            self.breakout = None
            self.traded = False
        if not sessions.in_session(ts):
            return
        if bar.ts_event >= sessions.end_ns and self.position != 0:
            self.exit("session_close")
            return
        since = ts - sessions.start_ns
        high, low, close = bar.high_ticks, bar.low_ticks, bar.close_ticks
        if since < self.cfg.range_minutes * _MINUTE_NS:
            self.range_high = high if self.range_high is None else max(self.range_high, high)
            self.range_low = low if self.range_low is None else min(self.range_low, low)
            return  # inside the opening range: never trade
        if self.range_high is None or self.range_low is None or self.traded or self.busy:
            return
        if since >= self.cfg.last_entry_minutes * _MINUTE_NS or self.position != 0:
            return
        top, bottom, near = self.range_high, self.range_low, self.cfg.retest_ticks
        if self.breakout is None:
            if close > top:
                self.breakout = OrderSide.BUY
            elif close < bottom and not self.cfg.long_only:
                self.breakout = OrderSide.SELL
        elif self.breakout is OrderSide.BUY:
            if close < bottom:
                self.breakout = None  # failed: back through the far side
            elif low <= top + near and close > top:
                self.traded = self.enter(OrderSide.BUY, bar, "orb_retest_long") is not None
        elif close > top:
            self.breakout = None
        elif high >= bottom - near and close < bottom:
            self.traded = self.enter(OrderSide.SELL, bar, "orb_retest_short") is not None
