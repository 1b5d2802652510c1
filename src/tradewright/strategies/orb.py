"""Opening-range breakout, retest entry: trade the break of the session's first minutes, on the retest.

The opening range is the high and low of the bars that open in the first `range_minutes` of the
session (`session`, default the regular "rth" session; the main one or the UTC day if the instrument
has none). No trade is taken inside the range. After it, a close beyond the range is a breakout; the
entry waits for a retest: a later bar that comes back to within `retest_ticks` of the broken edge and
closes beyond it again. Then it enters at the next open with the bracket's stop and target. A close
back through the far side of the range cancels the setup; at most one trade per session, no entry
later than `last_entry_minutes` into it, and an open position is closed when the session ends.

The decision itself is `OrbRetestSignal`, which the day-trading composite (`day_trader.py`) shares.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide
from tradewright.model.instrument import Instrument
from tradewright.strategies.bracket import BracketConfig, BracketStrategy
from tradewright.strategies.session import SessionTracker

__all__ = ["OpeningRangeRetest", "OpeningRangeRetestConfig", "OrbRetestParams", "OrbRetestSignal"]

_MINUTE_NS = 60_000_000_000
SESSION_CLOSE = "session_close"


class _Params(Protocol):
    @property
    def session(self) -> str: ...
    @property
    def range_minutes(self) -> int: ...
    @property
    def retest_ticks(self) -> int: ...
    @property
    def last_entry_minutes(self) -> int: ...
    @property
    def long_only(self) -> bool: ...


def _check(range_minutes: int, last_entry_minutes: int) -> None:
    if last_entry_minutes <= range_minutes:
        raise ValueError(
            f"`last_entry_minutes` ({last_entry_minutes}) must exceed `range_minutes` ({range_minutes})"
        )


class OrbRetestParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The signal's parameters alone (the composite's `[strategy.params.orb_retest]`)."""

    session: str = "rth"
    range_minutes: Annotated[int, msgspec.Meta(ge=1)] = 30
    retest_ticks: Annotated[int, msgspec.Meta(ge=0)] = 2
    last_entry_minutes: Annotated[int, msgspec.Meta(ge=1)] = 240
    long_only: bool = False

    def __post_init__(self) -> None:
        _check(self.range_minutes, self.last_entry_minutes)


class OpeningRangeRetestConfig(BracketConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Minutes from the session open; `retest_ticks` in ticks."""

    session: str = "rth"
    range_minutes: Annotated[int, msgspec.Meta(ge=1)] = 30
    retest_ticks: Annotated[int, msgspec.Meta(ge=0)] = 2
    last_entry_minutes: Annotated[int, msgspec.Meta(ge=1)] = 240
    long_only: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(self.range_minutes, self.last_entry_minutes)


class OrbRetestSignal:
    """The opening-range decision, bar by bar (see the module docstring).

    `on_bar` returns ``(side, reason)`` for an entry, ``SESSION_CLOSE`` when an open position must be
    closed at the session's end, or None. Call `entered()` when an entry was actually sent (one trade
    a session).
    """

    def __init__(self, params: _Params, instrument: Instrument) -> None:
        self.params = params
        self.sessions = SessionTracker(instrument, params.session)
        self.range_high: int | None = None
        self.range_low: int | None = None
        self.breakout: OrderSide | None = None
        self.traded = False

    def on_bar(self, bar: BarView, *, position_open: bool, busy: bool) -> tuple[OrderSide, str] | str | None:
        sessions = self.sessions
        params = self.params
        ts = bar.ts_open_ns
        if sessions.update(ts):
            self.range_high = self.range_low = None
            self.breakout = None
            self.traded = False
        if not sessions.in_session(ts):
            return None
        if bar.ts_event >= sessions.end_ns and position_open:
            return SESSION_CLOSE
        since = ts - sessions.start_ns
        high, low, close = bar.high_ticks, bar.low_ticks, bar.close_ticks
        if since < params.range_minutes * _MINUTE_NS:
            self.range_high = high if self.range_high is None else max(self.range_high, high)
            self.range_low = low if self.range_low is None else min(self.range_low, low)
            return None  # inside the opening range: never trade
        if self.range_high is None or self.range_low is None or self.traded or busy:
            return None
        if since >= params.last_entry_minutes * _MINUTE_NS or position_open:
            return None
        top, bottom, near = self.range_high, self.range_low, params.retest_ticks
        if self.breakout is None:
            if close > top:
                self.breakout = OrderSide.BUY
            elif close < bottom and not params.long_only:
                self.breakout = OrderSide.SELL
        elif self.breakout is OrderSide.BUY:
            if close < bottom:
                self.breakout = None  # failed: back through the far side
            elif low <= top + near and close > top:
                return OrderSide.BUY, "orb_retest_long"
        elif close > top:
            self.breakout = None
        elif high >= bottom - near and close < bottom:
            return OrderSide.SELL, "orb_retest_short"
        return None

    def entered(self) -> None:
        self.traded = True


class OpeningRangeRetest(BracketStrategy):
    Config = OpeningRangeRetestConfig

    def __init__(
        self, strategy_id: str, instruments: list[InstrumentId], config: OpeningRangeRetestConfig
    ) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.signal: OrbRetestSignal | None = None

    def on_start(self, **kw: Any) -> None:
        self.signal = OrbRetestSignal(self.cfg, self.ctx.instrument(self.iid))

    @property
    def range_high(self) -> int | None:
        return None if self.signal is None else self.signal.range_high

    @property
    def range_low(self) -> int | None:
        return None if self.signal is None else self.signal.range_low

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        signal = self.signal
        assert signal is not None
        self.update_common(bar)
        decision = signal.on_bar(bar, position_open=self.position != 0, busy=self.busy)
        if decision == SESSION_CLOSE:
            self.exit(SESSION_CLOSE)
        elif isinstance(decision, tuple) and self.enter(decision[0], bar, decision[1]) is not None:
            signal.entered()
