"""Replay several instruments' recordings together through one kernel: a strategy that trades more than one
instrument (cross-venue arbitrage, spot against perpetual) sees every book in time order.

The market side — merging the rows, one simulated venue per venue name, fee overrides, starting inventory —
is `tradewright.sim.multi.MultiMarket` (shared with paper mode). Here it runs on a simulated clock as fast
as it goes: scheduled work due before a row runs before it; rows at the same time as scheduled work are
applied first (data before actions, as in `BacktestEngine`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from tradewright.core.clock import SimClock
from tradewright.core.ids import InstrumentId, Venue
from tradewright.engine.kernel import INF, Kernel
from tradewright.engine.ports import RiskGate
from tradewright.model.columnar import MarketStream
from tradewright.portfolio.portfolio import MarkPrice, Portfolio
from tradewright.runlog.portfolio_recorder import PortfolioRecorder
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import LatencyModel
from tradewright.sim.multi import MultiMarket, prepare_streams
from tradewright.sim.queue import QueueModel
from tradewright.sim.venue import SimVenue
from tradewright.strategy.base import Strategy

__all__ = ["MultiBacktestEngine", "MultiBacktestResult"]


@dataclass(slots=True)
class MultiBacktestResult:
    kernel: Kernel
    venues: dict[Venue, SimVenue]
    recorder: PortfolioRecorder
    instrument_ids: list[InstrumentId]
    rows: int
    wall_seconds: float


class MultiBacktestEngine:
    """Wire one kernel, one simulated venue per venue name and the strategies around several streams."""

    def __init__(
        self,
        streams: Sequence[MarketStream],
        *,
        starting_balance: Decimal,
        latency: LatencyModel | None = None,
        queue_model: QueueModel | None = None,
        fees: FeeModel | None = None,
        risk: RiskGate | None = None,
        mark_price: MarkPrice = MarkPrice.MID,
        equity_sample_ns: int = 1_000_000_000,
        events_file: IO[bytes] | None = None,
        starting_positions: Mapping[str, Decimal] | None = None,
        id_prefix: str = "BT",
        end_flush_ns: int = 1_000_000_000,
    ) -> None:
        if equity_sample_ns <= 0:
            raise ValueError(f"equity_sample_ns must be > 0, got {equity_sample_ns}")
        prepared, self.far_levels_dropped = prepare_streams(streams, fees)
        first = prepared[0].instrument
        self.clock = SimClock(min(int(s.ts_recv[0]) for s in prepared))
        self.kernel = Kernel(
            self.clock,
            portfolio=Portfolio({first.settle: starting_balance}, mark_price=mark_price),
            risk=risk,
            id_prefix=id_prefix,
        )
        self.market = MultiMarket(
            self.kernel,
            prepared,
            latency=latency,
            queue_model=queue_model,
            starting_positions=starting_positions,
            on_inventory=self._inventory_booked,
        )
        self.streams = prepared
        self.instrument_ids = self.market.instrument_ids
        self.venues = self.market.venues
        self.recorder = PortfolioRecorder(self.kernel, self.instrument_ids, events_file)
        self.kernel.sinks.append(self.recorder)
        self.equity_sample_ns = equity_sample_ns
        self.end_flush_ns = end_flush_ns

    def add_strategy(self, strategy: Strategy) -> None:
        self.kernel.add_strategy(strategy)

    def _inventory_booked(self, iid: InstrumentId, qty: Decimal, mid: Decimal) -> None:
        self.recorder.starting_positions[iid] = (qty, mid)
        self.recorder.dirty = True

    def run(self, progress: Callable[[int, int], None] | None = None) -> MultiBacktestResult:
        """Replay every row; cancel what is still open at the end; return the result."""
        started = time.perf_counter()
        kernel, clock, market = self.kernel, self.clock, self.market
        times = market.times
        total = len(market)
        kernel.schedule(clock.now_ns(), self._sample, None)
        market.start()
        kernel.start()
        for n in range(total):
            t = int(times[n])
            if kernel.next_due_ns() < t:
                kernel.run_due(t - 1)
            clock.advance_to(t)
            market.apply(n)
            if progress is not None and n % 50_000 == 0:
                progress(n, total)
        self._finish(int(times[-1]))
        if progress is not None:
            progress(total, total)
        return MultiBacktestResult(
            kernel=kernel,
            venues=self.venues,
            recorder=self.recorder,
            instrument_ids=list(self.instrument_ids),
            rows=total,
            wall_seconds=time.perf_counter() - started,
        )

    def _sample(self, _: Any) -> None:
        now = self.clock.now_ns()
        self.recorder.sample(now)
        self.kernel.schedule(now + self.equity_sample_ns, self._sample, None)

    def _finish(self, last_ns: int) -> None:
        """Stop the strategy, cancel every open order, let the venues answer, take a last sample."""
        kernel = self.kernel
        kernel.run_due(last_ns)
        self._sample = lambda _: None  # type: ignore[method-assign]
        # Answers already in flight reach the strategy before it stops (latency outlives the data).
        kernel.run_due(last_ns + self.end_flush_ns)
        kernel.stop()
        kernel.cancel_all_orders(actor="backtest:end")
        while kernel.next_due_ns() < INF:
            kernel.run_due(kernel.next_due_ns())
        self.recorder.sample(self.clock.now_ns())
