"""The risk engine: the kernel's `RiskGate`. Every order command passes here before it leaves the node.

Synchronous and deterministic: it reads the kernel clock, the books, the open orders and the portfolio
through `TradingHost`, and changes trading state only by emitting events (`BreakerTripped`,
`TradingStateChanged`, `BreakerReset`, `FlattenStarted`, `FlattenFinished`) through the kernel, so the
event log says what happened and why. Checks run per command and per monitor tick (every
`monitor_interval_ms` when a time-based breaker or the daily loss tripwire is set), never per
market-data row.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from tradewright.config.run import InstrumentLimits, RiskConfig
from tradewright.core.errors import TradewrightError
from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.commands import CancelOrder, Command, ModifyOrder, SubmitOrder
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import (
    BreakerReset,
    BreakerTripped,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    RiskEvent,
    TradingState,
    TradingStateChanged,
)
from tradewright.model.orders import Order
from tradewright.risk import breakers as brk
from tradewright.risk import checks
from tradewright.risk.breakers import Breakers, Trip
from tradewright.risk.buckets import RateLimiter
from tradewright.risk.checks import Denial, InstrumentRules, Proposal
from tradewright.risk.daily import DAILY_LOSS, MAX_TRADES, DailyControls
from tradewright.risk.exposure import ValueFn, Working, reference_price, working_for, working_set
from tradewright.risk.host import TradingHost
from tradewright.risk.kill_switch import KillSwitch
from tradewright.risk.session_close import SESSION_CLOSE, SessionClose
from tradewright.risk.state import NODE, Scope, TradingStates, covers, stricter, where
from tradewright.risk.summary import run_summary

__all__ = ["OPERATOR", "RiskEngine"]

OPERATOR = "operator"
_ACTIONS = {"reducing": TradingState.REDUCING, "halted": TradingState.HALTED}
_S = 1_000_000_000
_MS = 1_000_000
_ZERO = Decimal(0)
_SUMMARY_EVENTS = 50
_GRID_MEMO = 4096


class RiskEngine:
    """Pre-trade checks, caps, rate limits, breakers, daily controls, trading states and the kill switch."""

    def __init__(self, config: RiskConfig | None = None, *, log: logging.Logger | None = None) -> None:
        self.cfg = cfg = config or RiskConfig()
        self.log = log or logging.getLogger("tradewright.risk")
        self.states = TradingStates()
        self.breakers = Breakers(cfg)
        self.daily = DailyControls(cfg, self._total_pnl)
        self.kill = KillSwitch(self)
        self.session_close = SessionClose(self) if cfg.flatten_before_close_minutes is not None else None
        self.denials: dict[str, int] = {}
        # Orders of the multi-leg executor that undo or hedge a failed leg: they pass REDUCING (see `admit_compensation`).
        self._compensations: set[ClientOrderId] = set()
        self.journal: list[RiskEvent] = []
        self._host: TradingHost | None = None
        self._value: ValueFn | None = None
        self._rules: dict[InstrumentId, InstrumentRules] = {}
        self._on_grid: set[tuple[InstrumentId, Decimal | None, Decimal]] = set()
        self._cooldowns: dict[tuple[str, Scope], int] = {}
        self._monitoring = False
        self._order_rates = (
            _limiter(cfg.max_orders_per_second_instrument, _S),
            _limiter(cfg.max_orders_per_second_venue, _S),
        )
        self._cancel_rates = (
            _limiter(cfg.max_cancels_per_minute_instrument, 60 * _S),
            _limiter(cfg.max_cancels_per_minute_venue, 60 * _S),
        )
        self._watch_daily = self.daily.watch_loss or cfg.max_trades_per_day is not None
        self._caps = _uses_caps(cfg)

    # --- wiring -----------------------------------------------------------------------------
    @property
    def host(self) -> TradingHost:
        if self._host is None:
            raise TradewrightError("the risk engine is not bound to a kernel yet")
        return self._host

    def bind(self, host: TradingHost) -> None:
        """Attach to the node (the kernel calls this once); start the monitor if a breaker needs it."""
        self._host = host
        self._value = host.portfolio.exposure_value
        now = host.clock.now_ns()
        self.daily.roll(now)
        if self.session_close is not None:
            host.schedule(now, self.session_close.arm, None)  # runs once the node has its instruments
        if self.breakers.watch_market or self.breakers.watch_latency or self.daily.watch_loss:
            self._monitoring = True
            host.schedule(now + self.cfg.monitor_interval_ms * _MS, self._monitor, None)

    def stop(self) -> None:
        """The node is stopping: end the periodic monitor and the session-close schedule (so a drain of
        scheduled work terminates)."""
        self._monitoring = False
        if self.session_close is not None:
            self.session_close.stopped = True

    def reconfigure(self, config: RiskConfig) -> None:
        """Adopt changed per-order limits and portfolio caps while running (an operator's limit change
        through the API). Breakers, rate limits and daily controls keep the settings they started with."""
        self.cfg = config
        self._rules.clear()
        self._caps = _uses_caps(config)

    def limits_for(self, instrument_id: InstrumentId) -> InstrumentLimits:
        return self._rules_for(instrument_id).limits

    def _rules_for(self, instrument_id: InstrumentId) -> InstrumentRules:
        rules = self._rules.get(instrument_id)
        if rules is None:
            rules = self._rules[instrument_id] = InstrumentRules(self.cfg.limits_for(str(instrument_id)))
        return rules

    # --- RiskGate ---------------------------------------------------------------------------
    def check(self, command: Command, order: Order | None) -> Denial | None:
        """Return None to let the command through, or why not."""
        if isinstance(command, SubmitOrder):
            denial = self._check_submit(command)
        elif isinstance(command, CancelOrder):
            denial = self._check_cancel(command, order)
        elif isinstance(command, ModifyOrder):
            denial = self._check_modify(command, order)
        else:
            denial = None
        if denial is not None:
            self.denials[denial.reason] = self.denials.get(denial.reason, 0) + 1
        return denial

    def on_event(self, event: Event) -> None:
        """Keep breakers, daily controls and the kill switch current (called for every event, so what
        nothing is configured to watch is skipped before any work)."""
        kind = type(event)
        brk_ = self.breakers
        if kind is OrderSubmitted:
            if brk_.watch_latency:
                assert isinstance(event, OrderSubmitted)
                brk_.on_submitted(event.client_order_id, event.instrument_id.venue, self.host.clock.now_ns())
        elif kind is OrderAccepted or kind is OrderFilled:
            assert isinstance(event, OrderAccepted | OrderFilled)
            if brk_.watch_latency or brk_.watch_rejects:
                now = self.host.clock.now_ns()
                venue = event.instrument_id.venue
                self._trip_all(brk_.on_answered(event.client_order_id, venue, now, accepted=True))
            if kind is OrderFilled:
                if self._watch_daily:
                    assert isinstance(event, OrderFilled)
                    self._on_fill(event, self.host.clock.now_ns())
                self._kill_progress()
        elif kind is OrderRejected:
            assert isinstance(event, OrderRejected)
            if brk_.watch_rejects or brk_.watch_latency:
                now = self.host.clock.now_ns()
                venue = event.instrument_id.venue
                self._trip_all(brk_.on_rejected(event.client_order_id, venue, event.reason, now))
            self._kill_progress()
        elif kind is OrderCanceled or kind is OrderExpired or kind is OrderDenied:
            assert isinstance(event, OrderCanceled | OrderExpired | OrderDenied)
            if brk_.watch_latency:
                venue = event.instrument_id.venue
                brk_.on_answered(event.client_order_id, venue, self.host.clock.now_ns(), accepted=False)
            self._kill_progress()

    def flatten_all(self, reason: str, actor: str = OPERATOR) -> None:
        """Kill switch: cancel every open order, close every position within the price band, then HALT."""
        self.log.warning("flatten all (%s): %s", actor, reason)
        self.kill.start(reason, actor)

    # --- operator commands ------------------------------------------------------------------
    def set_state(self, state: TradingState, *, scope: Scope = NODE, reason: str) -> None:
        """Set a scope's state by hand (held under the cause "operator"); ACTIVE lifts every hold on it."""
        if state is TradingState.ACTIVE:
            self.reset(scope=scope, reason=reason)
        else:
            self.hold(scope, OPERATOR, state, reason)

    def reset(self, *, scope: Scope = NODE, reason: str, breaker: str | None = None) -> None:
        """Lift one breaker's hold on `scope`, or every hold on it (an explicit reset, recorded)."""
        for cause in list(self.states.holds(scope)):
            if breaker is None or cause == breaker:
                self.release(scope, cause, reason)

    def state_for(self, instrument_id: InstrumentId) -> TradingState:
        return self.states.for_instrument(instrument_id)

    # --- multi-leg workflows (tradewright.engine.executor) --------------------------------------
    def precheck(self, command: SubmitOrder) -> Denial | None:
        """Judge a new order as `check` would, without counting it or using a rate-limit token: the
        executor checks every leg of a plan this way before it sends any (a plan refused whole is better
        than one leg sent and another denied)."""
        return self._check_submit(command, dry_run=True)

    def admit_compensation(self, client_order_id: ClientOrderId) -> None:
        """Let this order through a REDUCING state: it unwinds or hedges a failed leg of a multi-leg
        workflow, which is what REDUCING is for. Every other check still applies, and HALTED stops it."""
        self._compensations.add(client_order_id)

    # --- state changes ----------------------------------------------------------------------
    def emit(self, event: RiskEvent) -> None:
        self.journal.append(event)
        self.host.emit(event)

    def trip(self, breaker: str, scope: Scope, action: TradingState, reason: str, *, cooldown: bool) -> None:
        """A breaker fired: record it, hold its scope at `action` and (C4 breakers) schedule the cool-down."""
        held = self.states.holds(scope).get(breaker)
        if held is not None and stricter(held[0], action) is held[0]:
            return  # already holding at least this strictly: nothing new to say
        now = self.host.clock.now_ns()
        kind, target = scope
        self.log.warning("breaker %s tripped on %s -> %s: %s", breaker, where(scope), action, reason)
        self.emit(
            BreakerTripped(
                breaker=breaker,
                scope=kind,
                target=target,
                action=action,
                reason=reason,
                ts_event=now,
                ts_init=now,
            )
        )
        self.hold(scope, breaker, action, reason)
        if cooldown and self.cfg.breaker_cooldown_ms is not None:
            key = (breaker, scope)
            gen = self._cooldowns[key] = self._cooldowns.get(key, 0) + 1
            self.host.schedule(
                now + self.cfg.breaker_cooldown_ms * _MS, self._cool_down, (breaker, scope, gen)
            )

    def hold(self, scope: Scope, cause: str, state: TradingState, reason: str) -> None:
        before, after = self.states.hold(scope, cause, state, reason)
        if before is not after:
            self._state_changed(scope, before, after, cause, reason)
            if self.cfg.cancel_orders_on_halt and stricter(after, before) is after:
                host = self.host
                host.schedule(host.clock.now_ns(), self._cancel_in_scope, scope)

    def release(self, scope: Scope, cause: str, reason: str) -> None:
        if cause not in self.states.holds(scope):
            return
        now = self.host.clock.now_ns()
        kind, target = scope
        self.emit(
            BreakerReset(breaker=cause, scope=kind, target=target, reason=reason, ts_event=now, ts_init=now)
        )
        self.breakers.reset(cause, scope)
        before, after = self.states.release(scope, cause)
        if before is not after:
            self._state_changed(scope, before, after, cause, reason)

    def _state_changed(
        self, scope: Scope, before: TradingState, after: TradingState, cause: str, reason: str
    ) -> None:
        now = self.host.clock.now_ns()
        kind, target = scope
        # The daily session-close hold is routine (it comes every day); everything else is news.
        level = logging.INFO if cause == SESSION_CLOSE else logging.WARNING
        self.log.log(level, "trading state of %s: %s -> %s (%s: %s)", where(scope), before, after, cause, reason)
        self.emit(
            TradingStateChanged(
                scope=kind,
                target=target,
                state=after,
                previous=before,
                cause=cause,
                reason=reason,
                ts_event=now,
                ts_init=now,
            )
        )

    def _cool_down(self, arg: tuple[str, Scope, int]) -> None:
        breaker, scope, gen = arg
        if self._cooldowns.get((breaker, scope)) == gen:
            self.release(scope, breaker, f"cool-down of {self.cfg.breaker_cooldown_ms} ms elapsed")

    def _cancel_in_scope(self, scope: Scope) -> None:
        """After a scope became stricter: cancel what may no longer work there (HALTED: everything;
        REDUCING: orders that would add to the position). The kill switch's own orders stay."""
        host = self.host
        for order in host.orders.open_orders():
            iid = order.instrument_id
            if (
                not covers(scope, iid)
                or self.kill.owns(order.client_order_id)
                or order.status is OrderStatus.PENDING_CANCEL
            ):
                continue
            state = self.states.for_instrument(iid)
            if state is TradingState.ACTIVE:
                continue
            if state is TradingState.REDUCING:
                pos = host.portfolio.find_position(iid)
                qty = _ZERO if pos is None else pos.quantity
                if (order.side is OrderSide.BUY and qty < 0) or (order.side is OrderSide.SELL and qty > 0):
                    continue  # this order reduces: it may stay
            host.cancel(
                CancelOrder(
                    client_order_id=order.client_order_id,
                    instrument_id=iid,
                    ts_init=host.clock.now_ns(),
                    actor=f"risk:{state.value.lower()}",
                )
            )

    def _trip_all(self, trips: list[Trip]) -> None:
        cfg = self.cfg
        for t in trips:
            if t.breaker in (brk.CONSECUTIVE_REJECTS, brk.REJECT_BURST):
                action = _ACTIONS[cfg.breaker_rejects_action]
            elif t.breaker == brk.ACK_LATENCY:
                action = _ACTIONS[cfg.breaker_latency_action]
            else:
                action = _ACTIONS[cfg.breaker_market_action]
            self.trip(t.breaker, t.scope, action, t.reason, cooldown=True)

    # --- monitors ---------------------------------------------------------------------------
    def _observe(self, instrument_id: InstrumentId | None, now: int) -> None:
        """Bring time-dependent controls up to `now`: day roll, market anomaly, daily loss."""
        host = self.host
        if self.daily.roll(now):
            self._new_day(now)
        if self.breakers.watch_market:
            iids = host.instruments if instrument_id is None else (instrument_id,)
            for iid in iids:
                book = host.books.get(iid)
                if book is not None:
                    self._trip_all(self.breakers.market(iid, book, reference_price(host, iid), now))
        if self.daily.watch_loss:
            trip = self.daily.check_loss()
            if trip is not None:
                self.trip(
                    trip.breaker, NODE, _ACTIONS[self.cfg.daily_loss_action], trip.reason, cooldown=False
                )

    def _monitor(self, _: Any) -> None:
        if not self._monitoring:
            return
        host = self.host
        now = host.clock.now_ns()
        self._observe(None, now)
        self._trip_all(self.breakers.overdue(now))
        host.schedule(now + self.cfg.monitor_interval_ms * _MS, self._monitor, None)

    def _new_day(self, now: int) -> None:
        """A new trading day lifts the daily tripwires (and only them)."""
        label = self.daily.day.label(self.daily.index or 0)
        for scope, cause, _, _ in self.states.all_holds():
            if scope == NODE and cause in (DAILY_LOSS, MAX_TRADES):
                self.release(scope, cause, f"new trading day from {label}")

    def _on_fill(self, fill: OrderFilled, now: int) -> None:
        if self.daily.roll(now):
            self._new_day(now)
        pos = self.host.portfolio.find_position(fill.instrument_id)
        after = _ZERO if pos is None else pos.quantity  # the kernel applied the fill before risk hears of it
        before = after - fill.side.sign * fill.last_qty
        opens = abs(after) > abs(before) or after * before < 0
        trip = self.daily.on_fill(fill.client_order_id, opens=opens)
        if trip is not None:
            self.trip(trip.breaker, NODE, _ACTIONS[self.cfg.max_trades_action], trip.reason, cooldown=False)
        if self.daily.watch_loss:
            loss = self.daily.check_loss()
            if loss is not None:
                self.trip(
                    loss.breaker, NODE, _ACTIONS[self.cfg.daily_loss_action], loss.reason, cooldown=False
                )

    def _kill_progress(self) -> None:
        if self.kill.active:
            self.kill.check_done()
        if self.session_close is not None and self.session_close.active:
            self.session_close.on_progress()

    def _total_pnl(self) -> Decimal:
        host = self.host
        total = _ZERO
        for pos in host.portfolio.positions:
            total += pos.realized_pnl - pos.fees
            if pos.quantity != 0:
                mark = host.mark(pos.instrument.id)
                if mark is not None:
                    total += pos.unrealized_pnl(mark)
        return total

    # --- checks -----------------------------------------------------------------------------
    def _check_submit(self, cmd: SubmitOrder, *, dry_run: bool = False) -> Denial | None:
        host = self.host
        inst = host.instruments.get(cmd.instrument_id)
        if inst is None:
            return Denial(
                "unknown_instrument", f"{cmd.side} {cmd.quantity} {cmd.instrument_id}: unknown instrument"
            )
        p = Proposal(inst, cmd.side, cmd.quantity, cmd.quantity, cmd.price, cmd.order_type, cmd.reduce_only)
        compensating = cmd.client_order_id in self._compensations
        return self._check_order(
            p, own=self._owns(cmd.client_order_id), compensating=compensating, dry_run=dry_run
        )

    def _owns(self, cid: ClientOrderId) -> bool:
        """A closing order the risk engine placed itself (kill switch, session close)."""
        return self.kill.owns(cid) or (self.session_close is not None and self.session_close.owns(cid))

    def _check_modify(self, cmd: ModifyOrder, order: Order | None) -> Denial | None:
        if order is None:
            return None
        inst = self.host.instruments[order.instrument_id]
        quantity = order.quantity if cmd.quantity is None else cmd.quantity
        price = order.price if cmd.price is None else cmd.price
        leaves = max(_ZERO, quantity - order.filled_qty)
        p = Proposal(
            inst,
            order.side,
            quantity,
            leaves,
            price,
            order.order_type,
            order.reduce_only,
            exclude=order.client_order_id,
        )
        return self._check_order(p, own=self._owns(order.client_order_id))

    def _check_order(
        self, p: Proposal, *, own: bool, compensating: bool = False, dry_run: bool = False
    ) -> Denial | None:
        host = self.host
        iid = p.instrument.id
        key = (iid, p.price, p.quantity)
        if key not in self._on_grid:  # market makers repeat prices and sizes: validate each once
            denial = checks.grid(p)
            if denial is not None:
                return denial
            if len(self._on_grid) >= _GRID_MEMO:
                self._on_grid.clear()
            self._on_grid.add(key)
        rules = self._rules_for(iid)
        lim = rules.limits
        value = self._value
        assert value is not None
        ref = reference_price(host, iid) if rules.per_order_limits or own else None
        if own:
            # The kill switch's closing orders: inside the band by construction, and reduce-only against
            # the position alone (the orders it is cancelling at the same moment no longer count).
            pos = host.portfolio.find_position(iid)
            alone = Working(p.instrument, _ZERO if pos is None else pos.quantity, None)
            return checks.limits(p, _band_only(lim), alone, alone.reduces(p.side, p.leaves), ref, value)
        now = host.clock.now_ns()
        self._observe(iid, now)
        state = self.states.for_instrument(iid)
        # Only what a set limit needs is computed: with no [risk] section a check costs a few lookups.
        w = None
        if p.reduce_only or state is not TradingState.ACTIVE or rules.needs_working:
            w = working_for(host, iid, p.exclude)
        reduces = w is not None and w.reduces(p.side, p.leaves)
        denial = self._check_state(p, state, reduces or (compensating and state is TradingState.REDUCING))
        if denial is not None:
            return denial
        denial = self._rate(self._order_rates, iid, now, "order_rate", "orders per second", take=False)
        if denial is not None:
            return denial
        if w is not None:
            denial = checks.limits(p, lim, w, reduces, ref, value)
        elif rules.per_order_limits:
            denial = checks.limits(p, lim, Working(p.instrument, _ZERO, None), False, ref, value)
        if denial is None and not (reduces or compensating) and rules.has_guards:
            denial = checks.guards(p, lim, host.books.get(iid), ref)
        if denial is None and self._caps:
            denial = checks.portfolio_caps(p, self.cfg, host, working_set(host, p.exclude), value)
        if denial is None and not dry_run:
            self._rate(self._order_rates, iid, now, "order_rate", "orders per second", take=True)
        return denial

    def _check_state(self, p: Proposal, state: TradingState, reduces: bool) -> Denial | None:
        if state is TradingState.ACTIVE or (state is TradingState.REDUCING and reduces):
            return None
        why = "; ".join(
            f"{where((kind, target))} {held}: {cause} ({reason})"
            for (kind, target), cause, held, reason in self.states.all_holds()
            if covers((kind, target), p.instrument.id)
        )
        if state is TradingState.HALTED:
            return Denial("trading_halted", f"{p.describe()}: trading is HALTED — {why}")
        return Denial("trading_reducing", f"{p.describe()}: only exposure-reducing orders pass — {why}")

    def _check_cancel(self, cmd: CancelOrder, order: Order | None) -> Denial | None:
        """Cancels always pass, except a strategy's own cancels beyond the cancel rate limits."""
        if order is None:
            return None
        now = self.host.clock.now_ns()
        from_strategy = cmd.actor == order.strategy_id
        if from_strategy:
            denial = self._rate(
                self._cancel_rates, order.instrument_id, now, "cancel_rate", "cancels per minute", take=False
            )
            if denial is not None:
                return denial
        self._rate(
            self._cancel_rates, order.instrument_id, now, "cancel_rate", "cancels per minute", take=True
        )
        return None

    def _rate(
        self,
        limiters: tuple[RateLimiter | None, RateLimiter | None],
        iid: InstrumentId,
        now: int,
        reason: str,
        unit: str,
        *,
        take: bool,
    ) -> Denial | None:
        for limiter, key, scope in ((limiters[0], iid, "instrument"), (limiters[1], iid.venue, "venue")):
            if limiter is None:
                continue
            bucket = limiter.bucket(key, now)
            if take:
                bucket.take(now)
            elif not bucket.available(now):
                wait_ms = bucket.wait_ns(now) / _MS
                return Denial(
                    f"{reason}_{scope}",
                    f"{key}: over the limit of {unit} per {scope} (next allowed in {wait_ms:g} ms)",
                )
        return None

    # --- reporting --------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Risk fields for a run's summary: the state in force, what holds it, what fired, what was denied."""
        return run_summary(self.states, self.journal, self.denials)


def _uses_caps(cfg: RiskConfig) -> bool:
    return cfg.check_balance or any(
        v is not None
        for v in (
            cfg.max_gross_exposure_quote,
            cfg.max_net_exposure_quote,
            cfg.max_venue_notional_quote,
            cfg.max_open_order_notional_quote,
        )
    )


def _limiter(limit: int | None, period_ns: int) -> RateLimiter | None:
    return None if limit is None else RateLimiter(limit, period_ns)


def _band_only(lim: InstrumentLimits) -> InstrumentLimits:
    return InstrumentLimits(price_band_bps=lim.price_band_bps)
