"""`KernelOperator`: the operator port over what every node has — kernel, risk engine, optional store,
venue health sources — for the paper node and the live node alike (see `live/operator.py`).

It is also a kernel sink (`kernel.sinks`): every event becomes a channel message (`operator_events`),
per-instrument counters for metrics and `tradewright status`, and the venue's answer that closes an
order's latency path. A ticker task publishes the coalesced channels (book, quotes, pnl, latency,
venues, system) and samples equity once a second. Reads run on the node's loop thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradewright import __version__
from tradewright.core.clock import ns_to_iso
from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.engine.control import StrategyControl
from tradewright.engine.kernel import Kernel
from tradewright.live.latency import LatencyProbe
from tradewright.live.operator import OperatorError
from tradewright.live.operator_commands import CommandsMixin
from tradewright.live.operator_events import EventHub, Subscription
from tradewright.live.operator_health import HealthMixin
from tradewright.live.operator_reads import ReadsMixin
from tradewright.live.operator_views import CommandContext, FillView, LogLine
from tradewright.model.commands import Command
from tradewright.model.events import (
    Event,
    FlattenFinished,
    FlattenStarted,
    OrderAccepted,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    PositionChanged,
    RiskEvent,
    WorkflowEvent,
    WorkflowRefused,
)
from tradewright.risk.engine import RiskEngine
from tradewright.store.ports import StateStore
from tradewright.venues._common.feed import FeedStats
from tradewright.venues._common.ports import VenueHealth

__all__ = ["InstrumentCounters", "KernelOperator", "VenueReading"]

_FILLS_KEPT = 2000
_LOGS_KEPT = 2000
_EQUITY_KEPT = 7200  # one point a second: the last two hours
_TICK_S = 0.2  # coalesced channels publish at most 5 times a second
_ACK_EVENTS = (OrderAccepted, OrderFilled, OrderRejected)


@dataclass(frozen=True, slots=True)
class VenueReading:
    """One venue's health as its node knows it; `feed` carries the market-data counters, if any."""

    health: VenueHealth
    reason: str
    simulated: bool
    feed: FeedStats | None = None


@dataclass(slots=True)
class InstrumentCounters:
    """What happened on one instrument since the node started (metrics and `tradewright status`)."""

    orders_submitted: int = 0
    orders_accepted: int = 0
    orders_denied: int = 0
    orders_rejected: int = 0
    cancels: int = 0
    fills: int = 0
    filled_qty: Decimal = Decimal(0)


class KernelOperator(CommandsMixin, HealthMixin, ReadsMixin):
    """See the module docstring. `venues` maps a venue name to a function reading its health."""

    def __init__(
        self,
        kernel: Kernel,
        risk: RiskEngine,
        *,
        mode: str,
        node: str,
        venues: Mapping[str, Callable[[], VenueReading]],
        store: StateStore | None = None,
        config_hash: str = "",
        log: logging.Logger | None = None,
    ) -> None:
        self.kernel = kernel
        self.risk = risk
        self._mode = mode
        self.node = node
        self.venue_sources = dict(venues)
        self.store = store
        self.config_hash = config_hash
        self.log = log or logging.getLogger("tradewright.operator")
        self.control = StrategyControl(kernel)
        self.probe = LatencyProbe()
        self.started_ns = time.time_ns()
        self.started_clock_ns = kernel.clock.now_ns()
        self.hub = EventHub(mode, kernel.clock.now_ns, self._snapshot)
        self.counters: dict[str, InstrumentCounters] = {}
        self.recent_fills: deque[FillView] = deque(maxlen=_FILLS_KEPT)
        self.fills_by_strategy: dict[str, int] = {}
        self.log_lines: deque[LogLine] = deque(maxlen=_LOGS_KEPT)
        self.equity_points: deque[tuple[int, Decimal, Decimal]] = deque(maxlen=_EQUITY_KEPT)
        self.daily: dict[str, list[Any]] = {}  # day -> [first net, last net, fees, fills]
        self.recent_commands: deque[dict[str, Any]] = deque(maxlen=50)
        self.operator_stopped: dict[str, int] = {}  # strategy id -> fills it missed since an operator stop
        self.flatten_tokens: dict[str, tuple[str, int]] = {}  # token -> (actor, expiry ns on the wall clock)
        self._ticker: asyncio.Task[None] | None = None
        self._log_handler: _LogCapture | None = None
        kernel.sinks.append(self)
        kernel.probe = self.probe

    @property
    def mode(self) -> str:
        return self._mode

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Start publishing the coalesced channels and capturing log lines (on the node's loop)."""
        handler = _LogCapture(self, asyncio.get_running_loop())
        logging.getLogger("tradewright").addHandler(handler)
        self._log_handler = handler
        self._ticker = asyncio.create_task(self._tick(), name="operator-ticker")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._log_handler is not None:
            logging.getLogger("tradewright").removeHandler(self._log_handler)
            self._log_handler = None

    async def _tick(self) -> None:
        next_slow = 0.0
        while True:
            try:
                self.publish_fast()
                now = time.monotonic()
                if now >= next_slow:
                    next_slow = now + 1.0
                    self.publish_slow()
            except Exception:  # a task boundary: a failing snapshot must not end the channels
                self.log.exception("operator channels: publishing failed")
            await asyncio.sleep(_TICK_S)

    def publish_fast(self) -> None:
        hub = self.hub
        if hub.wanted("book"):
            for iid in self.kernel.books:
                hub.publish_state("book", "book.snapshot", self.book(str(iid), 10))
        if hub.wanted("quotes"):
            hub.publish_state("quotes", "quote.updated", self.quotes())
        hub.publish_state("system", "system.status", self.system_header())

    def publish_slow(self) -> None:
        self.sample_equity()
        hub = self.hub
        if hub.wanted("pnl"):
            hub.publish_state("pnl", "pnl.tick", self.pnl())
        if hub.wanted("latency"):
            hub.publish_state("latency", "latency.sample", self.latency())
        if hub.wanted("venues"):
            hub.publish_state("venues", "venue.status", self.venues())

    # --- streaming --------------------------------------------------------------------------
    def subscribe(self, channels: Iterable[str], queue_size: int) -> Subscription:
        try:
            return self.hub.subscribe(channels, queue_size)
        except ValueError as exc:
            raise OperatorError("invalid", str(exc)) from None

    def unsubscribe(self, subscription: Subscription) -> None:
        self.hub.unsubscribe(subscription)

    def add_channels(self, subscription: Subscription, channels: Iterable[str]) -> None:
        try:
            self.hub.add_channels(subscription, channels)
        except ValueError as exc:
            raise OperatorError("invalid", str(exc)) from None

    def remove_channels(self, subscription: Subscription, channels: Iterable[str]) -> None:
        self.hub.remove_channels(subscription, channels)

    def command_event(self, ctx: CommandContext, kind: str, data: dict[str, Any]) -> None:
        message = {"command_id": ctx.command_id, "actor": ctx.actor, **data}
        self.recent_commands.append({"type": kind, **message})
        self.hub.publish("commands", kind, message)

    def enable_tracing(self, provider: Any = None) -> None:
        from tradewright.live.tracing import OrderPathTracer

        self.probe.on_path = OrderPathTracer(provider)

    def _snapshot(self, channel: str) -> Any:
        return self.channel_snapshot(channel)

    # --- EventSink --------------------------------------------------------------------------
    def on_command(self, command: Command) -> None:
        pass  # commands are published by the command methods themselves, with their outcome

    def on_event(self, event: Event) -> None:
        hub = self.hub
        if isinstance(event, OrderEvent):
            self._on_order_event(event)
        elif type(event) is PositionChanged:
            if hub.wanted("positions"):
                hub.publish("positions", "position.updated", self.position_of(event.instrument_id))
            else:
                hub.seq["positions"] += 1
        elif isinstance(event, RiskEvent):
            self._on_risk_event(event)
        elif isinstance(event, WorkflowEvent):
            self._on_workflow_event(event)

    def _on_workflow_event(self, event: WorkflowEvent) -> None:
        """A workflow step (or a refused plan): the workflow as it now stands, on the `workflows` channel."""
        if not self.hub.wanted("workflows"):
            self.hub.seq["workflows"] += 1
            return
        from tradewright.live.operator_workflows import find_workflow

        kind = "workflow." + _event_kind(type(event).__name__.removeprefix("Workflow"))
        view = find_workflow(self.kernel, event.workflow_id)
        data: Any = view
        if isinstance(event, WorkflowRefused) or view is None:
            data = {
                "workflow_id": event.workflow_id,
                "strategy_id": str(event.strategy_id),
                "status": "REFUSED" if isinstance(event, WorkflowRefused) else "UNKNOWN",
                "reason": getattr(event, "message", ""),
            }
        self.hub.publish("workflows", kind, data)

    def _on_order_event(self, event: OrderEvent) -> None:
        kind = type(event)
        iid = str(event.instrument_id)
        counters = self.counters.get(iid)
        if counters is None:
            counters = self.counters[iid] = InstrumentCounters()
        name = kind.__name__
        if name == "OrderSubmitted":
            counters.orders_submitted += 1
        elif name == "OrderPendingCancel":
            counters.cancels += 1
        elif kind is OrderAccepted:
            counters.orders_accepted += 1
        elif kind is OrderDenied:
            counters.orders_denied += 1
            self.probe.forget(event.client_order_id)
        elif kind is OrderRejected:
            counters.orders_rejected += 1
        if kind in _ACK_EVENTS:
            self.probe.acknowledged(event.client_order_id, name)
        order = self.kernel.orders.get(ClientOrderId(event.client_order_id))
        if kind is OrderFilled:
            assert isinstance(event, OrderFilled)
            counters.fills += 1
            counters.filled_qty += event.last_qty
            strategy_id = "" if order is None else str(order.strategy_id)
            self.fills_by_strategy[strategy_id] = self.fills_by_strategy.get(strategy_id, 0) + 1
            if strategy_id in self.operator_stopped:
                self.operator_stopped[strategy_id] += 1
            fill = fill_view(event, strategy_id)
            self.recent_fills.append(fill)
            self._count_daily(event)
            self.hub.publish("fills", "fill", fill)
        if self.hub.wanted("orders") and order is not None:
            self.hub.publish("orders", "order." + _event_kind(name), self.order_view(order))
        else:
            self.hub.seq["orders"] += 1

    def _on_risk_event(self, event: RiskEvent) -> None:
        name = type(event).__name__
        if isinstance(event, FlattenStarted | FlattenFinished):
            kind = "killswitch.progress"
        elif name == "TradingStateChanged":
            kind = "risk.state"
        elif name == "BreakerTripped":
            kind = "risk.breaker_tripped"
        elif name == "BreakerReset":
            kind = "risk.breaker_reset"
        else:
            kind = "risk." + _event_kind(name)
        from tradewright.risk.summary import describe

        data = {"event": name, "message": describe(event), "state": self.risk_state()}
        self.hub.publish("risk", kind, data)

    def _count_daily(self, fill: OrderFilled) -> None:
        day = ns_to_iso(fill.ts_event)[:10]
        entry = self.daily.get(day)
        if entry is None:
            net = self.net_pnl()
            entry = self.daily[day] = [net, net, Decimal(0), 0]
        entry[2] += fill.fee
        entry[3] += 1

    def sample_equity(self) -> None:
        now = self.kernel.clock.now_ns()
        try:
            equity = self.total_equity()
        except KeyError:
            return  # a position without a mark yet (no book): nothing honest to plot
        net = self.net_pnl()
        self.equity_points.append((now, equity, net))
        day = ns_to_iso(now)[:10]
        entry = self.daily.get(day)
        if entry is None:
            self.daily[day] = [net, net, Decimal(0), 0]
        else:
            entry[1] = net


def fill_view(event: OrderFilled, strategy_id: str) -> FillView:
    return FillView(
        ts_ns=event.ts_event,
        client_order_id=event.client_order_id,
        venue_order_id=event.venue_order_id,
        trade_id=event.trade_id,
        strategy_id=strategy_id,
        instrument_id=str(event.instrument_id),
        side=event.side.value,
        price=event.last_px,
        quantity=event.last_qty,
        liquidity=event.liquidity.value,
        fee=event.fee,
        fee_currency=event.fee_currency,
    )


def _event_kind(name: str) -> str:
    """OrderPendingCancel -> pending_cancel; OrderFilled -> filled."""
    stem = name.removeprefix("Order")
    out = []
    for i, ch in enumerate(stem):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


class _LogCapture(logging.Handler):
    """Keeps the node's log lines for `GET /logs`; WARNING and above also go to the `logs` channel."""

    def __init__(self, operator: KernelOperator, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.INFO)
        self.operator = operator
        self.loop = loop
        self.thread = loop_thread_id()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = LogLine(
                ts_ns=int(record.created * 1e9),
                level=record.levelname,
                logger=record.name,
                message=record.getMessage()[:2000],
            )
        except Exception:  # a broken log call must not break the node
            return
        if loop_thread_id() == self.thread:
            self._add(line)
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self.loop.call_soon_threadsafe(self._add, line)

    def _add(self, line: LogLine) -> None:
        self.operator.log_lines.append(line)
        if line.level in ("WARNING", "ERROR", "CRITICAL"):
            self.operator.hub.publish("logs", "log", line)


def loop_thread_id() -> int:
    import threading

    return threading.get_ident()


def pid() -> int:
    return os.getpid()


def version() -> str:
    return __version__


def parse_instrument(text: str) -> InstrumentId:
    try:
        return InstrumentId.parse(text)
    except Exception:
        raise OperatorError("invalid", f"not an instrument id (SYMBOL.VENUE): {text!r}") from None
