"""Dutch-book arbitrage on prediction markets (B4): buy or sell a whole set of outcomes when the books
price it away from what it must pay at resolution, after fees.

Each configured group is a binary market (YES, NO) or a mutually exclusive neg-risk event (YES_i, NO_i
for every outcome). On every book change the group's baskets are priced exactly
(`tradewright.strategies.arbitrage`): binary buy both / sell both; neg-risk buy all YES and the best
short set (sell all YES, buy all NO and convert, or a mixed basket). The best one above `min_profit`
is traded leg by leg as fill-or-kill orders at the worst level each leg was sized on, the thinnest
leg first. If a leg fails (rejected, killed, denied) the legs already filled are unwound: each is
closed by an IOC order through the touch (at most `unwind_slippage_ticks` away), retried every
`unwind_retry_ms` up to `unwind_attempts` times; a group left unbalanced after that is not traded
again and says so in the log.

A neg-risk group must list every outcome of its event and no placeholder ("Other") outcome: the
basket only pays what it should if exactly one of the listed outcomes wins. Build groups from a
discovered event with `group_from_event`, which returns None for events that cannot be relied on.

SELL legs need the tokens: with `short_sells = false` (the default) they are sized by the position
held; set it true only where selling what you do not hold is allowed (a simulated venue) — on
Polymarket, mint (split) or convert first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide, TimeInForce
from tradewright.model.events import OrderDenied, OrderEvent, OrderFilled, TimerFired
from tradewright.model.prediction import FeeSchedule, OutcomeEvent
from tradewright.strategies.arbitrage import (
    Basket,
    Leg,
    LegPlan,
    Opportunity,
    binary_baskets,
    evaluate,
    neg_risk_baskets,
)
from tradewright.strategy.base import BookTrigger, Strategy

__all__ = ["DutchBook", "DutchBookConfig", "DutchBookGroup", "group_from_event"]

_ZERO = Decimal(0)


class DutchBookGroup(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One market or event. `instruments`: binary ``[YES, NO]``; neg-risk ``[YES_1, NO_1, YES_2, NO_2, …]``."""

    kind: Literal["binary", "neg_risk"]
    instruments: list[str]
    fees: FeeSchedule = FeeSchedule()
    conversion_fee_rate: Decimal = _ZERO

    def __post_init__(self) -> None:
        for text in self.instruments:
            InstrumentId.parse(text)
        if self.kind == "binary" and len(self.instruments) != 2:
            raise ValueError(f"a binary group has two instruments [YES, NO], got {len(self.instruments)}")
        if self.kind == "neg_risk" and (len(self.instruments) < 4 or len(self.instruments) % 2):
            raise ValueError("a neg-risk group lists YES and NO of at least two outcomes, in pairs")
        if not _ZERO <= self.conversion_fee_rate < 1:
            raise ValueError(f"`conversion_fee_rate` must be in [0, 1), got {self.conversion_fee_rate}")

    @property
    def ids(self) -> list[InstrumentId]:
        return [InstrumentId.parse(t) for t in self.instruments]


class DutchBookConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Edges and profits in collateral; sizes in sets (one share of every leg)."""

    groups: list[DutchBookGroup]
    max_sets: Decimal
    min_edge: Decimal = _ZERO  # per set, after fees and `cost_per_set`
    min_profit: Decimal = _ZERO  # per trade
    cost_per_set: Decimal = _ZERO  # gas of a merge/split per set, when you intend one
    min_marketable_notional: Decimal = Decimal(1)
    depth_levels: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50
    short_sells: bool = False
    unwind_slippage_ticks: Annotated[int, msgspec.Meta(ge=0)] = 5
    unwind_attempts: Annotated[int, msgspec.Meta(ge=1)] = 3
    unwind_retry_ms: Annotated[int, msgspec.Meta(ge=1)] = 500
    cooldown_ms: Annotated[int, msgspec.Meta(ge=0)] = 1000

    def __post_init__(self) -> None:
        if not self.groups:
            raise ValueError("`groups` is empty: nothing to watch")
        if not self.max_sets.is_finite() or self.max_sets <= 0:
            raise ValueError(f"`max_sets` must be a number > 0, got {self.max_sets}")
        for name in ("min_edge", "min_profit", "cost_per_set", "min_marketable_notional"):
            value = getattr(self, name)
            if not value.is_finite() or value < 0:
                raise ValueError(f"`{name}` must be a number >= 0, got {value}")


def group_from_event(event: OutcomeEvent, *, fees: FeeSchedule | None = None) -> DutchBookGroup | None:
    """The neg-risk group of a discovered event, or None when the event cannot be relied on to pay
    exactly one YES among its listed markets (not neg-risk, a placeholder outcome, an inactive one)."""
    if not event.is_exhaustive:
        return None
    instruments: list[str] = []
    for market in event.markets:
        instruments += [str(market.instrument_id(0)), str(market.instrument_id(1))]
    return DutchBookGroup(
        kind="neg_risk",
        instruments=instruments,
        fees=fees or event.markets[0].fees,
        conversion_fee_rate=event.conversion_fee_rate,
    )


class _Phase(enum.Enum):
    LEGS = "legs"
    UNWIND = "unwind"


@dataclass(slots=True)
class _Run:
    """One basket being traded: legs sent one by one, then (on failure) the unwind."""

    group: int
    opportunity: Opportunity
    legs: list[LegPlan]
    phase: _Phase = _Phase.LEGS
    next_leg: int = 0
    pending: ClientOrderId | None = None
    filled: dict[InstrumentId, Decimal] = field(default_factory=dict)  # signed, by instrument
    attempts: int = 0


class DutchBook(Strategy):
    Config = DutchBookConfig
    book_trigger = BookTrigger.TOP

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: DutchBookConfig) -> None:
        wanted = [iid for g in config.groups for iid in g.ids]
        super().__init__(strategy_id, list(dict.fromkeys([*instruments, *wanted])), config)
        self.cfg = config
        self._group_of: dict[InstrumentId, list[int]] = {}
        for k, g in enumerate(config.groups):
            for iid in g.ids:
                self._group_of.setdefault(iid, []).append(k)
        self._run: _Run | None = None
        self._quiet_until_ns = 0
        self.broken: set[int] = set()  # groups left unbalanced after an unwind gave up
        self.trades: list[Opportunity] = []  # baskets completed
        self.unwinds = 0

    # --- pricing ------------------------------------------------------------------------------
    def _leg(self, iid: InstrumentId, side: OrderSide, fees: FeeSchedule) -> Leg:
        book = self.ctx.book(iid)
        inst = book.instrument
        levels = book.depth(-1 if side is OrderSide.BUY else 1, self.cfg.depth_levels)
        inventory = None
        if side is OrderSide.SELL and not self.cfg.short_sells:
            inventory = max(self.ctx.position(iid).quantity, _ZERO)
        return Leg(
            iid,
            side,
            levels,
            fees,
            lot_size=inst.lot_size,
            min_size=inst.min_size,
            min_notional=self.cfg.min_marketable_notional,
            inventory=inventory,
        )

    def baskets(self, k: int) -> list[Basket]:
        g = self.cfg.groups[k]
        ids = g.ids
        if g.kind == "binary":
            yes, no = ids
            return binary_baskets(
                self._leg(yes, OrderSide.BUY, g.fees),
                self._leg(no, OrderSide.BUY, g.fees),
                self._leg(yes, OrderSide.SELL, g.fees),
                self._leg(no, OrderSide.SELL, g.fees),
            )
        yes_ids, no_ids = ids[0::2], ids[1::2]
        return neg_risk_baskets(
            [self._leg(i, OrderSide.BUY, g.fees) for i in yes_ids],
            [self._leg(i, OrderSide.SELL, g.fees) for i in yes_ids],
            [self._leg(i, OrderSide.BUY, g.fees) for i in no_ids],
            conversion_fee_rate=g.conversion_fee_rate,
        )

    def best(self, k: int) -> Opportunity | None:
        """The most profitable sized basket of group `k` right now (None if none clears the limits)."""
        found = [
            o
            for o in (
                evaluate(
                    b,
                    min_edge=self.cfg.min_edge,
                    min_profit=self.cfg.min_profit,
                    max_sets=self.cfg.max_sets,
                    cost_per_set=self.cfg.cost_per_set,
                )
                for b in self.baskets(k)
            )
            if o is not None
        ]
        return max(found, key=lambda o: o.profit, default=None)

    # --- hooks --------------------------------------------------------------------------------
    def on_book(self, book: OrderBook, **kw: Any) -> None:
        if self._run is not None or self.ctx.now_ns() < self._quiet_until_ns:
            return
        for k in self._group_of.get(book.instrument.id, []):
            if k in self.broken:
                continue
            opportunity = self.best(k)
            if opportunity is not None:
                self._start(k, opportunity)
                return

    def _start(self, k: int, opportunity: Opportunity) -> None:
        # Thinnest leg first: it is the one most likely to fail, before anything else is exposed.
        legs = sorted(opportunity.legs, key=lambda p: self._depth_at(p))
        self.ctx.log.info(
            "dutch book %s on group %d: %s sets, profit %s",
            opportunity.kind,
            k,
            opportunity.sets,
            opportunity.profit,
        )
        self._run = _Run(group=k, opportunity=opportunity, legs=legs)
        self._send_next_leg()

    def _depth_at(self, plan: LegPlan) -> Decimal:
        book = self.ctx.book(plan.instrument_id)
        side = -1 if plan.side is OrderSide.BUY else 1
        return sum((size for _, size in book.depth(side, self.cfg.depth_levels)), _ZERO)

    def _send_next_leg(self) -> None:
        run = self._run
        assert run is not None
        if run.next_leg >= len(run.legs):
            self.trades.append(run.opportunity)
            self._finish()
            return
        plan = run.legs[run.next_leg]
        run.pending = self.ctx.submit(
            plan.instrument_id,
            plan.side,
            plan.size,
            plan.limit_price,
            time_in_force=TimeInForce.FOK,
            tag=f"dutch:{run.opportunity.kind}:leg{run.next_leg}",
        )

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        run = self._run
        if run is None or event.client_order_id != run.pending:
            return
        order = self.ctx.order(event.client_order_id)
        if order is None:
            return
        denied = isinstance(event, OrderDenied)
        if not denied and not order.is_closed:
            return
        run.pending = None
        if order.filled_qty > 0:
            signed = order.filled_qty if order.side is OrderSide.BUY else -order.filled_qty
            run.filled[order.instrument_id] = run.filled.get(order.instrument_id, _ZERO) + signed
        if run.phase is _Phase.UNWIND:
            self._unwind_step()
            return
        if not denied and order.filled_qty == order.quantity:
            run.next_leg += 1
            self._send_next_leg()
            return
        self.ctx.log.warning(
            "dutch book leg %d of %s failed (%s): unwinding %d filled leg(s)",
            run.next_leg,
            run.opportunity.kind,
            getattr(event, "reason", type(event).__name__),
            sum(1 for q in run.filled.values() if q != 0),
        )
        self.unwinds += 1
        run.phase = _Phase.UNWIND
        self._unwind_step()

    def on_fill(self, fill: OrderFilled, **kw: Any) -> None:
        """Fills are counted from the order when it closes (`on_order`)."""

    def _unwind_step(self) -> None:
        run = self._run
        assert run is not None
        for iid, qty in run.filled.items():
            if qty == 0:
                continue
            if run.attempts >= self.cfg.unwind_attempts:
                self.broken.add(run.group)
                self.ctx.log.error(
                    "dutch book group %d left unbalanced after %d unwind attempts: %s",
                    run.group,
                    run.attempts,
                    {str(i): str(q) for i, q in run.filled.items() if q != 0},
                )
                self._finish()
                return
            run.attempts += 1
            side = OrderSide.SELL if qty > 0 else OrderSide.BUY
            price = self._through_touch(iid, side)
            if price is None:
                self.ctx.set_alarm("dutch_unwind", self.ctx.now_ns() + self.cfg.unwind_retry_ms * 1_000_000)
                return
            run.pending = self.ctx.submit(
                iid, side, abs(qty), price, time_in_force=TimeInForce.IOC, tag="dutch:unwind"
            )
            return
        self.ctx.log.info("dutch book unwind of group %d complete", run.group)
        self._finish()

    def _through_touch(self, iid: InstrumentId, side: OrderSide) -> Decimal | None:
        book = self.ctx.book(iid)
        inst = book.instrument
        touch = book.best_bid_tick if side is OrderSide.SELL else book.best_ask_tick
        if touch is None:
            return None
        ticks = (
            touch - self.cfg.unwind_slippage_ticks
            if side is OrderSide.SELL
            else touch + self.cfg.unwind_slippage_ticks
        )
        lowest, highest = 1, inst.price_to_ticks(Decimal(1)) - 1  # outcome prices live in (0, 1)
        return inst.ticks_to_price(min(max(ticks, lowest), highest))

    def on_timer(self, event: TimerFired, **kw: Any) -> None:
        if event.name == "dutch_unwind" and self._run is not None and self._run.pending is None:
            self._unwind_step()

    def _finish(self) -> None:
        self._run = None
        self._quiet_until_ns = self.ctx.now_ns() + self.cfg.cooldown_ms * 1_000_000

    @property
    def busy(self) -> bool:
        return self._run is not None
