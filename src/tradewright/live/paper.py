"""Paper trading on a replayed recording: the same kernel, strategy and simulated venue as a backtest,
fed by an asyncio data client in scaled real time.

SIGINT/SIGTERM (or the end of `duration_s`, or of the data) stop it in order: the strategy's on_stop,
a cancel of every open order (on a signal, with `risk.close_positions_on_sigterm`, the kill switch
instead: cancel and close every position), the venue's answers processed, a last equity sample, then
the outputs.

The kill switch can also be fired while it runs: after `flatten_after_s` wall seconds, or by
`tradewright flatten --pid PID` (through the node's control file, `tradewright.live.control`).

While it runs, the node hands a status snapshot (every `status_interval_s`) and a notice per fill to
its `StatusSink` (`tradewright.live.status`); a strategy that raises is stopped (fenced) and the
summary's `strategies_stopped` says which, where and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from tradewright.analysis.run_folder import RunFolder
from tradewright.analysis.run_summary import summary_of, write_outputs
from tradewright.config.run import RunConfig
from tradewright.core.errors import TradewrightError
from tradewright.engine.kernel import INF, Kernel
from tradewright.live.clock import ScaledClock
from tradewright.live.control import ControlFile
from tradewright.live.operator import NodeService
from tradewright.live.replay_feed import ReplayDataClient
from tradewright.live.status import StatusSink, StatusTracker, StrategyFailures
from tradewright.model.book import MAX_CAPACITY, OrderBook
from tradewright.model.columnar import F_LAST, KIND_DELTA, KIND_TRADE, MarketStream
from tradewright.model.data import TradeTick
from tradewright.model.enums import OrderSide
from tradewright.portfolio.portfolio import MarkPrice, Portfolio
from tradewright.risk.engine import RiskEngine
from tradewright.runlog.recorder import RunRecorder
from tradewright.sim.factory import build_fees, build_latency, build_queue_model
from tradewright.sim.venue import SimVenue
from tradewright.strategy.base import BookTrigger, Strategy

__all__ = ["PaperNode", "run_paper"]


_SIGNALLED = "stop requested (signal)"


class PaperNode:
    """One instrument, one strategy, one simulated venue, driven by wall-clock time x speed."""

    def __init__(
        self,
        stream: MarketStream,
        strategy: Strategy,
        config: RunConfig,
        *,
        speed: float,
        events_file: IO[bytes] | None = None,
        status: StatusSink | None = None,
        status_interval_s: float = 0.5,
        services: Sequence[NodeService] = (),
    ) -> None:
        if len(stream) == 0:
            raise TradewrightError("the recording has no rows")
        inst = stream.instrument
        # Levels absurdly far from the market never trade and do not fit the ladder: drop and count them.
        stream, self.far_levels_dropped = stream.without_far_levels(MAX_CAPACITY // 4)
        self.stream = stream
        self.clock = ScaledClock(int(stream.ts_recv[0]), speed)
        log = logging.getLogger("tradewright.paper.kernel")
        self.kernel = Kernel(
            self.clock,
            portfolio=Portfolio(
                {inst.settle: config.account.starting_balance},
                mark_price=MarkPrice(config.account.mark_price),
            ),
            risk=RiskEngine(config.risk),
            id_prefix="PP",
            fence_strategy_errors=True,
            log=log,
        )
        self.failures = StrategyFailures(self.kernel)
        log.addHandler(self.failures)
        self.book = OrderBook(inst)
        self.kernel.add_instrument(inst, self.book)
        self.venue = SimVenue(
            inst.id.venue,
            self.clock,
            self.kernel.schedule,
            self.kernel.on_venue_event,
            latency=build_latency(config),
            fees=build_fees(config),
            queue_model=build_queue_model(config),
        )
        self.venue.add_instrument(inst, self.book)
        self.kernel.add_execution_client(self.venue)
        self.kernel.add_strategy(strategy)
        self.recorder = RunRecorder(self.kernel, inst.id, events_file)
        self.kernel.sinks.append(self.recorder)
        self.tracker = StatusTracker(
            self.kernel, inst.id, "paper", status, start_equity=config.account.starting_balance
        )
        self.kernel.sinks.append(self.tracker)
        self.status_interval_s = status_interval_s
        self.sample_ns = config.run.equity_sample_ms * 1_000_000
        self.rows_done = 0
        self.stop_reason = ""
        self.close_on_signal = config.risk.close_positions_on_sigterm
        self.flatten_requests: list[str] = []  # reasons queued by a signal handler, served by the loop
        self._top: tuple[int | None, int | None, int, int] = (None, None, -1, -1)
        self.services = list(services)  # faces (the API) served while it runs, through its operator port
        self.operator = None if not services else _paper_operator(self, config.run.name)

    async def run(
        self, stop: asyncio.Event, duration_s: float | None = None, flatten_after_s: float | None = None
    ) -> None:
        """Run until the data ends, `duration_s` wall seconds pass, or `stop` is set; fire the kill switch
        after `flatten_after_s` wall seconds, and whenever `flatten_requests` has a reason queued."""
        kernel = self.kernel
        queue: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue(maxsize=256)
        feed = ReplayDataClient(self.stream, self.clock, queue)
        feed_task = asyncio.create_task(feed.run(), name="replay-feed")
        deadline = None if duration_s is None else time.monotonic() + duration_s
        flatten_at = None if flatten_after_s is None else time.monotonic() + flatten_after_s
        next_status = time.monotonic()
        kernel.schedule(self.clock.now_ns(), self._sample, None)
        kernel.start()
        iid = self.stream.instrument.id
        trigger = kernel.book_trigger(iid)
        wants_book = any(s.wants("on_book") for s in kernel.strategies_for(iid))
        wants_trades = kernel.needs_trades or any(s.wants("on_trade") for s in kernel.strategies_for(iid))
        services = await _start_services(self.operator, self.services)
        try:
            while not stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    self.stop_reason = f"duration of {duration_s:g} s reached"
                    break
                if flatten_at is not None and time.monotonic() >= flatten_at:
                    flatten_at = None
                    self.flatten_requests.append(f"paper --flatten-after {flatten_after_s:g} s")
                while self.flatten_requests:
                    kernel.flatten_all(self.flatten_requests.pop(0), actor="paper")
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
                self._process(item[0], item[1], trigger if wants_book else None, wants_trades)
            else:
                self.stop_reason = _SIGNALLED
        finally:
            feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed_task
            self._shutdown()
            await services.aclose()

    def _process(self, start: int, stop: int, trigger: BookTrigger | None, wants_trades: bool) -> None:
        stream = self.stream
        kernel = self.kernel
        iid = stream.instrument.id
        kind, flags, times = stream.kind, stream.flags, stream.ts_recv
        for k in range(start, stop):
            kernel.run_due(int(times[k]))
            self.venue.on_row(stream, k)
            kd = kind[k]
            if kd == KIND_DELTA and trigger is not None and flags[k] & F_LAST and self._top_changed(trigger):
                kernel.on_book(iid)
            elif kd == KIND_TRADE and wants_trades:
                kernel.on_trade(self._trade(k))
        self.rows_done = stop
        kernel.run_due(self.clock.now_ns())

    def _top_changed(self, trigger: BookTrigger) -> bool:
        book = self.book
        top = (book.best_bid_tick, book.best_ask_tick, book.best_bid_lots, book.best_ask_lots)
        if trigger is BookTrigger.EVERY:
            changed = True
        elif trigger is BookTrigger.TOP_PRICE:
            changed = top[:2] != self._top[:2]
        else:
            changed = top != self._top
        self._top = top
        return changed

    def _trade(self, k: int) -> TradeTick:
        stream = self.stream
        inst = stream.instrument
        side = int(stream.side[k])
        return TradeTick(
            instrument_id=inst.id,
            price=inst.ticks_to_price(int(stream.tick[k])),
            size=inst.lots_to_size(int(stream.lots[k])),
            aggressor=None if side == 0 else (OrderSide.BUY if side > 0 else OrderSide.SELL),
            trade_id=str(int(stream.update_id[k])),
            ts_event=int(stream.ts_event[k]),
            ts_init=self.clock.now_ns(),
        )

    def _sample(self, _: Any) -> None:
        now = self.clock.now_ns()
        self.recorder.sample(now)
        self.kernel.schedule(now + self.sample_ns, self._sample, None)

    def _shutdown(self) -> None:
        """Stop the strategy, cancel every order, let the venue answer, record the final state."""
        kernel = self.kernel
        self.clock.freeze()
        kernel.stop()
        if self.close_on_signal and self.stop_reason == _SIGNALLED:
            kernel.flatten_all(
                f"shutdown: {self.stop_reason} (risk.close_positions_on_sigterm)", "paper:shutdown"
            )
        else:
            kernel.cancel_all_orders(actor=f"paper:shutdown ({self.stop_reason})")
        # Only the venue's answers are still wanted: stop the sampler, drain what is in flight.
        self._sample = lambda _: None  # type: ignore[method-assign]
        while kernel.next_due_ns() < INF:
            kernel.run_due(kernel.next_due_ns())
        self.recorder.sample(self.clock.now_ns())


def run_paper(
    config: RunConfig,
    stream: MarketStream,
    strategy: Strategy,
    *,
    speed: float,
    duration_s: float | None,
    out: Path,
    flatten_after_s: float | None = None,
    on_ready: Callable[[], None] | None = None,
    status: StatusSink | None = None,
    overwrite: bool = False,
    services: Sequence[NodeService] = (),
) -> tuple[Path, dict[str, Any]]:
    """Run a paper session with signal handling; write the run folder atomically; return (folder, summary).

    SIGINT/SIGTERM stop it; `tradewright flatten --pid PID` fires the kill switch (see
    `tradewright.live.control`). `on_ready` is called once the handlers and the control file are in
    place (from then on a signal is safe to send). `status` receives the status line and fills.
    """
    folder = RunFolder(out, overwrite=overwrite)
    started = time.perf_counter()
    try:
        with folder.path("events.jsonl").open("wb") as events:
            node = PaperNode(
                stream, strategy, config, speed=speed, events_file=events, status=status, services=services
            )

            async def main() -> None:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                with ControlFile("paper", config.run.name) as control:
                    control.install(loop, node.flatten_requests.append)
                    if on_ready is not None:
                        on_ready()
                    try:
                        await node.run(stop, duration_s, flatten_after_s)
                    finally:
                        control.uninstall(loop)
                        for sig in (signal.SIGINT, signal.SIGTERM):
                            loop.remove_signal_handler(sig)

            asyncio.run(main())
        wall = time.perf_counter() - started
        open_orders = len(node.kernel.orders.open_orders())
        summary = summary_of(
            node.kernel,
            node.recorder,
            rows=node.rows_done,
            wall_seconds=wall,
            folder=folder.final,
            starting_balance=config.account.starting_balance,
            extra={
                "mode": "paper",
                "speed": speed,
                "stop_reason": node.stop_reason,
                "open_orders_at_end": open_orders,
                "strategies_stopped": dict(node.failures.reasons),
            },
        )
        write_outputs(
            folder,
            node.kernel,
            node.recorder,
            summary,
            title=f"Paper: {config.run.name}",
            config_text=config.source_text,
        )
        final = folder.commit()
    except BaseException:
        folder.abandon()
        raise
    return final, summary


def _paper_operator(node: PaperNode, name: str) -> Any:
    from tradewright.live.services import paper_operator

    return paper_operator(node, name)


async def _start_services(operator: Any, services: Sequence[NodeService]) -> contextlib.AsyncExitStack:
    if not services:
        return contextlib.AsyncExitStack()  # nothing to attach: import nothing
    from tradewright.live.services import start_services

    return await start_services(operator, services)
