"""Paper trading over recordings of several instruments replayed together in scaled real time: the same
kernel, strategy and simulated venues as a multi-instrument backtest (`tradewright.sim.multi.MultiMarket`),
fed by the replay data client on the wall clock. `tradewright paper CONFIG` runs it when `[data] paths`
hold more than one instrument (the cross-venue arbitrage: docs/arbitrage.md).

Plans run on the kernel's in-memory executor, as in a backtest. SIGINT/SIGTERM, the end of `duration_s`
or of the data stop it in order: the strategy's on_stop, a cancel of every open order, the venues'
answers, a last equity sample, then the outputs (the backtest's files, workflows.csv included).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from tradewright.analysis.multi_run import write_multi_outputs
from tradewright.analysis.run_folder import RunFolder
from tradewright.config.run import RunConfig
from tradewright.core.ids import InstrumentId
from tradewright.engine.executor import executor_for
from tradewright.engine.kernel import INF, Kernel
from tradewright.live.clock import ScaledClock
from tradewright.live.replay_feed import ReplayDataClient
from tradewright.live.status import StatusSink, StatusTracker, StrategyFailures
from tradewright.model.columnar import MarketStream
from tradewright.portfolio.portfolio import MarkPrice, Portfolio
from tradewright.risk.engine import RiskEngine
from tradewright.runlog.portfolio_recorder import PortfolioRecorder
from tradewright.runlog.workflow_ledger import WorkflowLedger
from tradewright.sim.factory import build_fees, build_latency, build_queue_model
from tradewright.sim.multi import MultiMarket, prepare_streams
from tradewright.strategy.base import Strategy

__all__ = ["MultiPaperNode", "run_multi_paper"]

_SIGNALLED = "stop requested (signal)"


class _PortfolioTracker(StatusTracker):
    """The status line's PnL over every instrument (the position shown is the first one's)."""

    def equity(self) -> Decimal | None:
        kernel = self.kernel
        settle = kernel.instruments[self.instrument_id].settle
        total = kernel.portfolio.balance(settle)
        for iid, inst in kernel.instruments.items():
            if kernel.portfolio.position(inst).quantity == 0:
                continue
            mark = kernel.mark(iid)
            if mark is None:
                return None
            total += kernel.portfolio.position_value(inst, mark)
        return total


class MultiPaperNode:
    """Several instruments, one strategy, one simulated venue per venue, driven by wall-clock time x speed."""

    def __init__(
        self,
        streams: Sequence[MarketStream],
        strategy: Strategy,
        config: RunConfig,
        *,
        speed: float,
        events_file: IO[bytes] | None = None,
        status: StatusSink | None = None,
        status_interval_s: float = 0.5,
    ) -> None:
        prepared, self.far_levels_dropped = prepare_streams(streams, build_fees(config))
        first = prepared[0].instrument
        self.clock = ScaledClock(min(int(s.ts_recv[0]) for s in prepared), speed)
        log = logging.getLogger("tradewright.paper.kernel")
        self.kernel = Kernel(
            self.clock,
            portfolio=Portfolio(
                {first.settle: config.account.starting_balance},
                mark_price=MarkPrice(config.account.mark_price),
            ),
            risk=RiskEngine(config.risk),
            id_prefix="PP",
            fence_strategy_errors=True,
            log=log,
        )
        self.failures = StrategyFailures(self.kernel)
        log.addHandler(self.failures)
        self.market = MultiMarket(
            self.kernel,
            prepared,
            latency=build_latency(config),
            queue_model=build_queue_model(config),
            starting_positions=config.account.starting_positions,
            on_inventory=self._inventory_booked,
        )
        executor_for(self.kernel)  # in memory, as in a backtest; attached before the strategy can start plans
        self.kernel.add_strategy(strategy)
        ids = self.market.instrument_ids
        self.recorder = PortfolioRecorder(self.kernel, ids, events_file)
        self.ledger = WorkflowLedger(self.kernel.instruments)
        self.tracker = _PortfolioTracker(
            self.kernel, ids[0], "paper", status, start_equity=config.account.starting_balance
        )
        self.kernel.sinks.extend([self.recorder, self.ledger, self.tracker])
        self.status_interval_s = status_interval_s
        self.sample_ns = config.run.equity_sample_ms * 1_000_000
        self.rows_done = 0
        self.stop_reason = ""

    def _inventory_booked(self, iid: InstrumentId, qty: Decimal, mid: Decimal) -> None:
        self.recorder.starting_positions[iid] = (qty, mid)
        self.recorder.dirty = True

    async def run(self, stop: asyncio.Event, duration_s: float | None = None) -> None:
        """Run until the data ends, `duration_s` wall seconds pass, or `stop` is set."""
        kernel, market = self.kernel, self.market
        queue: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue(maxsize=256)
        feed_task = asyncio.create_task(
            ReplayDataClient(market.times, self.clock, queue).run(), name="replay-feed"
        )
        deadline = None if duration_s is None else time.monotonic() + duration_s
        next_status = time.monotonic()
        kernel.schedule(self.clock.now_ns(), self._sample, None)
        market.start()
        kernel.start()
        try:
            while not stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    self.stop_reason = f"duration of {duration_s:g} s reached"
                    break
                if time.monotonic() >= next_status:
                    next_status = time.monotonic() + self.status_interval_s
                    self.tracker.report(self.rows_done)
                due = kernel.next_due_ns()
                timeout = 0.05 if due >= INF else min(0.05, self.clock.wall_seconds_until(due))
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=max(timeout, 0.0005))
                except TimeoutError:
                    kernel.run_due(self.clock.now_ns())
                    continue
                if item is None:
                    self.stop_reason = "end of the recording"
                    break
                times = market.times
                for n in range(item[0], item[1]):
                    kernel.run_due(int(times[n]))
                    market.apply(n)
                self.rows_done = item[1]
                kernel.run_due(self.clock.now_ns())
            else:
                self.stop_reason = _SIGNALLED
        finally:
            feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed_task
            self._shutdown()

    def _sample(self, _: Any) -> None:
        now = self.clock.now_ns()
        self.recorder.sample(now)
        self.kernel.schedule(now + self.sample_ns, self._sample, None)

    def _shutdown(self) -> None:
        """Stop the strategy, cancel every order, let the venues answer, record the final state."""
        kernel = self.kernel
        self.clock.freeze()
        kernel.stop()
        kernel.cancel_all_orders(actor=f"paper:shutdown ({self.stop_reason})")
        self._sample = lambda _: None  # type: ignore[method-assign]
        while kernel.next_due_ns() < INF:
            kernel.run_due(kernel.next_due_ns())
        self.recorder.sample(self.clock.now_ns())


def run_multi_paper(
    config: RunConfig,
    streams: Sequence[MarketStream],
    strategy: Strategy,
    *,
    speed: float,
    duration_s: float | None,
    out: Path,
    on_ready: Callable[[], None] | None = None,
    status: StatusSink | None = None,
    overwrite: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Run a multi-instrument paper session with signal handling; write the run folder atomically."""
    folder = RunFolder(out, overwrite=overwrite)
    started = time.perf_counter()
    try:
        with folder.path("events.jsonl").open("wb") as events:
            node = MultiPaperNode(streams, strategy, config, speed=speed, events_file=events, status=status)

            async def main() -> None:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                if on_ready is not None:
                    on_ready()
                try:
                    await node.run(stop, duration_s)
                finally:
                    for sig in (signal.SIGINT, signal.SIGTERM):
                        loop.remove_signal_handler(sig)

            asyncio.run(main())
        summary = write_multi_outputs(
            folder,
            node.kernel,
            node.recorder,
            node.ledger,
            rows=node.rows_done,
            wall_seconds=time.perf_counter() - started,
            starting_balance=config.account.starting_balance,
            far_levels_dropped=node.far_levels_dropped,
            title=f"Paper: {config.run.name}",
            config_text=config.source_text,
            extra={
                "mode": "paper",
                "speed": speed,
                "stop_reason": node.stop_reason,
                "open_orders_at_end": len(node.kernel.orders.open_orders()),
                "strategies_stopped": dict(node.failures.reasons),
            },
        )
        final = folder.commit()
    except BaseException:
        folder.abandon()
        raise
    return final, summary
