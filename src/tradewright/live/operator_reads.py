"""The read side of `KernelOperator`: views of the kernel, risk engine, portfolio and counters."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from tradewright.core.errors import StoreError
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.engine.kernel import Kernel
from tradewright.live.latency import LatencyProbe
from tradewright.live.operator import OperatorError
from tradewright.live.operator_views import (
    BalanceView,
    BookLevel,
    BookView,
    DailyPnl,
    EquityPoint,
    FillView,
    Hold,
    InstrumentInfo,
    LatencyStats,
    LimitView,
    LogLine,
    OrderView,
    PnlLine,
    PnlSummary,
    PositionView,
    RiskEventView,
    RiskState,
    StrategyInfo,
    SystemInfo,
    VenueInfo,
    WorkflowView,
)
from tradewright.model.enums import OrderSide
from tradewright.model.events import TradingState
from tradewright.model.orders import Order
from tradewright.risk.engine import RiskEngine
from tradewright.risk.state import NODE
from tradewright.risk.summary import describe
from tradewright.store.ports import StateStore

if TYPE_CHECKING:
    from tradewright.engine.executor import ExecutorFigures
    from tradewright.live.operator_adapter import InstrumentCounters, VenueReading
    from tradewright.live.operator_events import EventHub

__all__ = ["LIMITS", "ReadsMixin"]

_ZERO = Decimal(0)
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The limits an operator may change while the node runs: name -> unit. Lower is tighter for each.
LIMITS = {
    "max_order_size_base": "base",
    "max_order_notional_quote": "quote",
    "max_position_base": "base",
    "max_position_quote": "quote",
    "price_band_bps": "bps",
    "max_gross_exposure_quote": "quote",
    "max_net_exposure_quote": "quote",
    "max_venue_notional_quote": "quote",
    "max_open_order_notional_quote": "quote",
}


class ReadsMixin:
    """Reads of `KernelOperator` (attributes set by its constructor)."""

    kernel: Kernel
    risk: RiskEngine
    store: StateStore | None
    node: str
    config_hash: str
    started_ns: int
    probe: LatencyProbe
    hub: EventHub
    counters: dict[str, InstrumentCounters]
    venue_sources: dict[str, Callable[[], VenueReading]]
    recent_fills: deque[FillView]
    fills_by_strategy: dict[str, int]
    log_lines: deque[LogLine]
    equity_points: deque[tuple[int, Decimal, Decimal]]
    daily: dict[str, list[Any]]
    recent_commands: deque[dict[str, Any]]
    operator_stopped: dict[str, int]

    if TYPE_CHECKING:  # provided by KernelOperator and HealthMixin

        @property
        def mode(self) -> str: ...

        def venues(self) -> list[VenueInfo]: ...

        def latency(self) -> list[LatencyStats]: ...

    # --- system -----------------------------------------------------------------------------
    def system(self) -> SystemInfo:
        from tradewright.live.operator_adapter import pid, version

        now = time.time_ns()
        return SystemInfo(
            node=self.node,
            mode=self.mode,
            version=version(),
            pid=pid(),
            started_ns=self.started_ns,
            clock_ns=self.kernel.clock.now_ns(),
            uptime_s=round((now - self.started_ns) / 1e9, 3),
            trading_state=self.trading_state(),
            kill_switch_active=self.risk.kill.active,
            config_hash=self.config_hash,
            store="" if self.store is None else str(getattr(self.store, "backend", "store")),
            strategies=len(self.kernel.strategies),
            instruments=len(self.kernel.instruments),
        )

    def system_header(self) -> dict[str, Any]:
        """What the dashboard header shows (published on `system` when it changes)."""
        return {
            "node": self.node,
            "mode": self.mode,
            "trading_state": self.trading_state(),
            "kill_switch_active": self.risk.kill.active,
            "holds": [f"{h.scope} {h.target}: {h.state} ({h.cause}: {h.reason})".replace("  ", " ") for h in self.holds()],
        }

    def trading_state(self) -> str:
        state = self.risk.states.most_restrictive()
        if self.kernel.halts.get(None) is not None:
            state = TradingState.HALTED
        return state.value

    def instruments(self) -> list[InstrumentInfo]:
        return [
            InstrumentInfo(
                instrument_id=str(inst.id),
                venue=str(inst.id.venue),
                symbol=inst.id.symbol,
                kind=str(inst.kind),
                base=inst.base,
                quote=inst.quote,
                tick_size=inst.tick_size,
                lot_size=inst.lot_size,
                trading_state=self.risk.state_for(inst.id).value,
            )
            for inst in self.kernel.instruments.values()
        ]

    def _instrument_id(self, text: str) -> InstrumentId:
        for iid in self.kernel.instruments:
            if str(iid) == text:
                return iid
        raise OperatorError("not_found", f"this node trades no instrument {text!r}")

    def book(self, instrument_id: str, depth: int) -> BookView:
        iid = self._instrument_id(instrument_id)
        book = self.kernel.books[iid]
        inst = book.instrument
        own: dict[tuple[int, Decimal], Decimal] = {}
        for order in self.kernel.orders.open_orders(iid):
            if order.price is not None:
                key = (1 if order.side is OrderSide.BUY else -1, order.price)
                own[key] = own.get(key, _ZERO) + order.leaves_qty
        own_bid, own_ask = self.kernel.orders.best_prices(iid)
        bid_tick, ask_tick = book.best_bid_tick, book.best_ask_tick
        return BookView(
            instrument_id=str(iid),
            ts_ns=self.kernel.clock.now_ns(),
            bids=[BookLevel(p, s, own.get((1, p), _ZERO)) for p, s in book.depth(1, depth)],
            asks=[BookLevel(p, s, own.get((-1, p), _ZERO)) for p, s in book.depth(-1, depth)],
            mid=book.mid,
            spread_ticks=None if bid_tick is None or ask_tick is None else ask_tick - bid_tick,
            own_bid=own_bid if inst is not None else None,
            own_ask=own_ask,
        )

    def quotes(self) -> list[dict[str, Any]]:
        """Our best working bid/ask per instrument against the market's (the `quotes` channel)."""
        out = []
        for iid, book in self.kernel.books.items():
            own_bid, own_ask = self.kernel.orders.best_prices(iid)
            out.append(
                {
                    "instrument_id": str(iid),
                    "ts_ns": self.kernel.clock.now_ns(),
                    "best_bid": book.best_bid,
                    "best_ask": book.best_ask,
                    "mid": book.mid,
                    "own_bid": own_bid,
                    "own_ask": own_ask,
                    "position": self._quantity(iid),
                }
            )
        return out

    # --- strategies, orders, fills ----------------------------------------------------------
    def strategies(self) -> list[StrategyInfo]:
        kernel = self.kernel
        out = []
        for s in kernel.strategies:
            if kernel.is_stopped(s):
                state = "stopped" if s.id in self.operator_stopped else "failed"
            else:
                state = "paused" if s.id in kernel.paused else "running"
            params: Any = msgspec.to_builtins(s.config) if s.config is not None else {}
            out.append(
                StrategyInfo(
                    strategy_id=str(s.id),
                    class_name=type(s).__name__,
                    instruments=[str(i) for i in s.instruments],
                    state=state,
                    accepts_signals=s.wants("on_signal"),
                    accepts_params=s.wants("on_config") and s.Config is not None,
                    params=params if isinstance(params, dict) else {"config": params},
                    open_orders=sum(1 for o in kernel.orders.open_orders() if o.strategy_id == s.id),
                    fills=self.fills_by_strategy.get(str(s.id), 0),
                )
            )
        return out

    def order_view(self, order: Order) -> OrderView:
        return OrderView(
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id,
            strategy_id=str(order.strategy_id),
            instrument_id=str(order.instrument_id),
            side=order.side.value,
            order_type=order.order_type.value,
            time_in_force=order.time_in_force.value,
            price=order.price,
            quantity=order.quantity,
            filled_qty=order.filled_qty,
            avg_px=order.avg_px,
            status=order.status.value,
            post_only=order.post_only,
            reduce_only=order.reduce_only,
            ts_init_ns=order.ts_init,
            ts_last_ns=order.ts_last,
        )

    def orders(
        self, *, open_only: bool, strategy_id: str | None, instrument_id: str | None, limit: int
    ) -> list[OrderView]:
        manager = self.kernel.orders
        found = manager.open_orders() if open_only else manager.all_orders
        picked = [
            o
            for o in found
            if (strategy_id is None or o.strategy_id == strategy_id)
            and (instrument_id is None or str(o.instrument_id) == instrument_id)
        ]
        picked.sort(key=lambda o: o.ts_last, reverse=True)
        return [self.order_view(o) for o in picked[:limit]]

    def order(self, client_order_id: str) -> OrderView:
        order = self.kernel.orders.get(ClientOrderId(client_order_id))
        if order is None:
            raise OperatorError("not_found", f"no order {client_order_id!r} on this node")
        return self.order_view(order)

    def fills(self, *, since_ns: int, strategy_id: str | None, limit: int) -> list[FillView]:
        store = self.store
        read = getattr(store, "read_fills", None)
        if read is not None:
            try:
                events = read(since_ns=since_ns, strategy_id=None if strategy_id is None else StrategyId(strategy_id), limit=limit)
            except StoreError as exc:
                raise OperatorError("conflict", f"the store could not be read: {exc}") from None
            from tradewright.live.operator_adapter import fill_view

            owners = {o.client_order_id: str(o.strategy_id) for o in self.kernel.orders.all_orders}
            return [fill_view(e, owners.get(e.client_order_id, strategy_id or "")) for e in events]
        picked = [
            f
            for f in reversed(self.recent_fills)
            if f.ts_ns >= since_ns and (strategy_id is None or f.strategy_id == strategy_id)
        ]
        return picked[:limit]

    # --- positions, balances, PnL -----------------------------------------------------------
    def _quantity(self, iid: InstrumentId) -> Decimal:
        pos = self.kernel.portfolio.find_position(iid)
        return _ZERO if pos is None else pos.quantity

    def position_of(self, iid: InstrumentId) -> PositionView:
        kernel = self.kernel
        inst = kernel.instruments[iid]
        pos = kernel.portfolio.position(inst)
        mark = kernel.mark(iid)
        return PositionView(
            instrument_id=str(iid),
            quantity=pos.quantity,
            avg_px=pos.avg_px,
            mark=mark,
            notional=None if mark is None else kernel.portfolio.position_value(inst, mark),
            realized_pnl=pos.realized_pnl,
            unrealized_pnl=None if mark is None else pos.unrealized_pnl(mark),
            fees=pos.fees,
        )

    def positions(self) -> list[PositionView]:
        return [self.position_of(p.instrument.id) for p in self.kernel.portfolio.positions]

    def balances(self) -> list[BalanceView]:
        return [BalanceView(c, v) for c, v in sorted(self.kernel.portfolio.balances.items())]

    def _currency(self) -> str:
        for inst in self.kernel.instruments.values():
            return inst.settle
        balances = self.kernel.portfolio.balances
        return next(iter(balances), "USD")

    def total_equity(self) -> Decimal:
        kernel = self.kernel
        marks = {iid: m for iid in kernel.instruments if (m := kernel.mark(iid)) is not None}
        return kernel.portfolio.equity(self._currency(), marks)

    def net_pnl(self) -> Decimal:
        total = _ZERO
        for line in self._pnl_lines():
            total += line.net
        return total

    def _pnl_lines(self) -> list[PnlLine]:
        lines = []
        for pos in self.kernel.portfolio.positions:
            mark = self.kernel.mark(pos.instrument.id)
            unreal = _ZERO if mark is None or pos.quantity == 0 else pos.unrealized_pnl(mark)
            lines.append(
                PnlLine(
                    instrument_id=str(pos.instrument.id),
                    realized=pos.realized_pnl,
                    unrealized=unreal,
                    fees=pos.fees,
                    net=pos.realized_pnl + unreal - pos.fees,
                )
            )
        return lines

    def pnl(self) -> PnlSummary:
        lines = self._pnl_lines()
        realized = sum((x.realized for x in lines), _ZERO)
        unrealized = sum((x.unrealized for x in lines), _ZERO)
        fees = sum((x.fees for x in lines), _ZERO)
        try:
            equity = self.total_equity()
        except KeyError:
            equity = sum(self.kernel.portfolio.balances.values(), _ZERO)
        return PnlSummary(
            ts_ns=self.kernel.clock.now_ns(),
            realized=realized,
            unrealized=unrealized,
            fees=fees,
            net=realized + unrealized - fees,
            equity=equity,
            by_instrument=lines,
        )

    def equity(self, *, since_ns: int, step_s: int) -> list[EquityPoint]:
        step_ns = max(1, step_s) * 1_000_000_000
        out: list[EquityPoint] = []
        last = -(1 << 62)
        for ts, equity, net in self.equity_points:
            if ts >= since_ns and ts - last >= step_ns:
                out.append(EquityPoint(ts, equity, net))
                last = ts
        return out

    def daily_pnl(self) -> list[DailyPnl]:
        return [
            DailyPnl(day=day, net=last - first, fees=fees, fills=n)
            for day, (first, last, fees, n) in sorted(self.daily.items())
        ]

    # --- multi-leg workflows ---------------------------------------------------------------
    def workflows(self, *, open_only: bool = True, limit: int = 100) -> list[WorkflowView]:
        """Multi-leg workflows with their legs and compensations (`live/operator_workflows.py`)."""
        from tradewright.live.operator_workflows import workflow_views

        return workflow_views(self.kernel, open_only=open_only, limit=limit)

    def workflow_figures(self) -> ExecutorFigures | None:
        """Leg delta, open-leg exposure and counts for metrics (None without an executor)."""
        from tradewright.live.operator_workflows import executor_figures

        return executor_figures(self.kernel)

    def workflow(self, workflow_id: str) -> WorkflowView:
        from tradewright.live.operator_workflows import find_workflow

        view = find_workflow(self.kernel, workflow_id)
        if view is not None:
            return view
        raise OperatorError("not_found", f"no workflow {workflow_id!r} on this node (open or recently finished)")

    # --- risk -------------------------------------------------------------------------------
    def holds(self) -> list[Hold]:
        return [
            Hold(scope=kind, target=target, cause=cause, state=state.value, reason=reason)
            for (kind, target), cause, state, reason in self.risk.states.all_holds()
        ]

    def risk_state(self) -> RiskState:
        return RiskState(
            state=self.trading_state(),
            holds=self.holds(),
            engine_halts={("node" if k is None else str(k)): v for k, v in self.kernel.halts.items()},
            kill_switch_active=self.risk.kill.active,
            denials=dict(sorted(self.risk.denials.items())),
        )

    def limits(self) -> list[LimitView]:
        cfg = self.risk.cfg
        return [LimitView(name, getattr(cfg, name), unit) for name, unit in LIMITS.items()]

    def risk_events(self, *, since_ns: int, limit: int) -> list[RiskEventView]:
        found = [
            RiskEventView(ts_ns=e.ts_event, kind=type(e).__name__, message=describe(e))
            for e in self.risk.journal
            if e.ts_event >= since_ns
        ]
        return found[-limit:]

    def logs(self, *, level: str, since_ns: int, limit: int) -> list[LogLine]:
        if level not in _LEVELS:
            raise OperatorError("invalid", f"level must be one of {', '.join(_LEVELS)}, got {level!r}")
        floor = _LEVELS.index(level)
        found = [
            line for line in self.log_lines if line.ts_ns >= since_ns and _LEVELS.index(line.level) >= floor
        ]
        return found[-limit:]

    # --- channel snapshots ------------------------------------------------------------------
    def channel_snapshot(self, channel: str) -> Any:
        if channel == "system":
            return self.system_header()
        if channel == "venues":
            return self.venues()
        if channel == "book":
            return [self.book(str(iid), 10) for iid in self.kernel.books]
        if channel == "quotes":
            return self.quotes()
        if channel == "orders":
            return self.orders(open_only=True, strategy_id=None, instrument_id=None, limit=500)
        if channel == "fills":
            return list(self.recent_fills)[-100:]
        if channel == "positions":
            return self.positions()
        if channel == "pnl":
            return self.pnl()
        if channel == "risk":
            return self.risk_state()
        if channel == "strategies":
            return self.strategies()
        if channel == "latency":
            return self.latency()
        if channel == "logs":
            return [line for line in self.log_lines if line.level in ("WARNING", "ERROR", "CRITICAL")][-100:]
        if channel == "commands":
            return list(self.recent_commands)
        if channel == "workflows":
            return self.workflows(open_only=False, limit=50)
        raise OperatorError("invalid", f"unknown channel {channel!r}")

    def node_scope_state(self) -> str:
        return self.risk.states.state(NODE).value
