"""Builders for bar scenarios: bars written in ticks, a scripted bar strategy, one call to run them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import IO, Any

import msgspec
import numpy as np

from tradewright.backtest.bar_engine import BarBacktestEngine
from tradewright.core.ids import InstrumentId
from tradewright.data.bars import BarSeries
from tradewright.model.bar_view import BarView
from tradewright.model.contracts import futures_instrument
from tradewright.model.events import OrderEvent, OrderFilled
from tradewright.model.instrument import Instrument
from tradewright.sim.bar_fill import BarFillConfig
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency
from tradewright.strategy.base import Strategy
from tradewright.strategy.context import StrategyContext
from tradewright.strategy.tags import parse_tag

MNQ = futures_instrument("MNQH4.XCME")  # tick 0.25, 2 USD a point: 0.50 USD a tick
MINUTE = 60_000_000_000
T0 = 1_704_150_000_000_000_000  # 2024-01-01 23:00 UTC, a Globex open (17:00 Chicago)
Ohlc = tuple[int, int, int, int]


def make_bars(
    inst: Instrument,
    ohlc: list[Ohlc],
    *,
    start_ns: int = T0,
    interval_ns: int = MINUTE,
    volume: float = 100.0,
    ts: list[int] | None = None,
) -> BarSeries:
    """Bars from (open, high, low, close) tick counts, one `interval_ns` apart (or at `ts`)."""
    ticks = np.array(ohlc, dtype=np.int64).reshape(-1, 4)
    prices = ticks.astype(np.float64) * float(inst.tick_size)
    stamps = np.array(ts if ts is not None else [start_ns + i * interval_ns for i in range(len(ohlc))])
    return BarSeries(
        ts_open_ns=stamps.astype(np.int64),
        open=prices[:, 0].copy(),
        high=prices[:, 1].copy(),
        low=prices[:, 2].copy(),
        close=prices[:, 3].copy(),
        volume=np.full(len(ohlc), volume),
        interval_ns=interval_ns,
        source="scenario",
        instrument=inst,
        open_ticks=ticks[:, 0].copy(),
        high_ticks=ticks[:, 1].copy(),
        low_ticks=ticks[:, 2].copy(),
        close_ticks=ticks[:, 3].copy(),
    )


Action = Callable[[StrategyContext, BarView], Any]


class BarScript(Strategy):
    """Run `actions[i]` at the close of bar i; record every order event and fill it sees."""

    def __init__(self, instrument_id: InstrumentId, actions: dict[int, Action] | None = None) -> None:
        super().__init__("SCRIPT", [instrument_id])
        self.actions = actions or {}
        self.events: list[OrderEvent] = []
        self.fills: list[OrderFilled] = []
        self.on_fill_actions: list[Callable[[StrategyContext, OrderFilled], Any]] = []
        self.seen: list[tuple[int, float]] = []

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        self.seen.append((bar.index, bar.close))
        action = self.actions.get(bar.index)
        if action is not None:
            action(self.ctx, bar)

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        self.events.append(event)

    def on_fill(self, fill: OrderFilled, **kw: Any) -> None:
        self.fills.append(fill)
        for react in self.on_fill_actions:
            react(self.ctx, fill)

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


def run_bars(
    series: BarSeries,
    strategy: Strategy,
    *,
    fill: BarFillConfig | None = None,
    latency_ns: int = 0,
    fees: FeeModel | None = None,
    balance: Decimal = Decimal(100_000),
    record: bool = True,
    events: IO[bytes] | None = None,
) -> BarBacktestEngine:
    engine = BarBacktestEngine(
        series,
        starting_balance=balance,
        latency=ConstantLatency(latency_ns, latency_ns),
        fees=fees,
        fill_config=fill,
        record=record,
        events_file=events,
    )
    engine.add_strategy(strategy)
    engine.run()
    return engine


def order_tags(events: bytes) -> dict[str, dict[str, str]]:
    """Client order id -> the tags its SubmitOrder carried (from an events.jsonl stream)."""
    out: dict[str, dict[str, str]] = {}
    for line in events.splitlines():
        record = msgspec.json.decode(line)
        if record["type"] == "SubmitOrder":
            _, _, tag = record["actor"].partition(":")
            out[record["client_order_id"]] = parse_tag(tag)
    return out
