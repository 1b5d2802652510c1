"""Cross-venue arbitrage (B5): the same asset on two or more venues; buy where it is cheap, sell where it
is dear, when the edge after fees and transfer costs beats a threshold.

On every top-of-book change of any of its instruments the strategy puts each venue's book in one quote
currency and asks the pure `best_opportunity` (`tradewright.strategies.arb_edge`) for the best buy/sell
pair, sized within both books, `max_size_base`, each venue's inventory cap and, on spot, the cash and the
asset held there. It hands that pair to the engine as a two-leg plan (`ctx.execute`): the executor sends
both legs as IOC limits, and unwinds or hedges whatever fills if one leg fails (docs/arbitrage.md). One
workflow at a time; after it ends (or is refused by risk — the portfolio caps, per-venue notional and
balance checks of `[risk]` apply to every leg) the strategy waits `cooldown_ms` before the next.

Balances: the portfolio keeps cash per currency, not per venue; a spot buy is bounded by the cash in its
quote currency and a spot sell by the position held on that very instrument (its venue's inventory).
Set `max_venue_notional_quote` in `[risk]` to cap what may sit on any one venue.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec

from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide, TimeInForce
from tradewright.model.events import WorkflowEvent, WorkflowFinished, WorkflowRefused
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.model.multileg import CompensationPolicy, ExecutionPolicy, LegSpec, Plan, WorkflowMode
from tradewright.strategies.arb_edge import Opportunity, VenueQuote, best_opportunity
from tradewright.strategy.base import BookTrigger, Strategy

__all__ = ["CrossVenueArb", "CrossVenueArbConfig"]

_ZERO = Decimal(0)


class CrossVenueArbConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Instruments are ids (`SYMBOL.VENUE`) of the same asset; money in `quote_currency` unless named."""

    instruments: list[str]
    max_size_base: Decimal
    min_edge_bps: Decimal = Decimal(5)
    transfer_cost_bps: Decimal = Decimal(0)
    quote_currency: str = "USDT"
    quote_rates: dict[str, Decimal] = {}  # other quote currencies, in `quote_currency` (e.g. USDC = 0.9998)
    max_inventory_base: Decimal | None = None  # |position| allowed on each venue
    depth_levels: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10
    cooldown_ms: Annotated[int, msgspec.Meta(ge=0)] = 1_000
    mode: WorkflowMode = WorkflowMode.SIMULTANEOUS
    max_slippage_bps: Decimal = Decimal(0)
    leg_timeout_ms: Annotated[int, msgspec.Meta(ge=1)] = 2_000
    compensation: CompensationPolicy = CompensationPolicy.UNWIND

    def __post_init__(self) -> None:
        if len(set(self.instruments)) < 2:
            raise ValueError("`instruments` needs at least two different instruments (one per venue)")
        for name in ("max_size_base", "min_edge_bps", "transfer_cost_bps", "max_slippage_bps"):
            value: Decimal = getattr(self, name)
            if not value.is_finite() or value < 0 or (name == "max_size_base" and value == 0):
                raise ValueError(
                    f"`{name}` must be a number {'>' if name == 'max_size_base' else '>='} 0, got {value}"
                )
        for currency, rate in self.quote_rates.items():
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"`quote_rates.{currency}` must be a number > 0, got {rate}")


class CrossVenueArb(Strategy):
    """See the module docstring."""

    Config = CrossVenueArbConfig
    book_trigger = BookTrigger.TOP

    def __init__(
        self, strategy_id: str, instruments: list[InstrumentId], config: CrossVenueArbConfig
    ) -> None:
        try:
            listed = [InstrumentId.parse(text) for text in config.instruments]
        except ValueError as exc:
            raise ConfigError(f"`strategy.params.instruments`: {exc}") from None
        super().__init__(strategy_id, list(dict.fromkeys([*instruments, *listed])), config)
        self.cfg = config
        self.active: str | None = None  # the workflow in flight
        self.quiet_until_ns = 0
        self.stats: dict[str, Any] = {
            "opportunities": 0,
            "completed": 0,
            "compensated": 0,
            "aborted": 0,
            "unresolved": 0,
            "refused": 0,
            "expected_edge_quote": _ZERO,
        }

    def on_start(self, **kw: Any) -> None:
        for iid in self.instruments:
            inst = self.ctx.instrument(iid)
            if inst.inverse or inst.kind is InstrumentKind.BINARY_OUTCOME:
                raise ConfigError(f"cross-venue arbitrage trades linear instruments; {iid} is {inst.kind}")
            self._rate(inst)  # an unknown quote currency is a config error, said now

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        if self.active is not None or self.ctx.now_ns() < self.quiet_until_ns:
            return
        quotes = [self._quote(iid) for iid in self.instruments]
        opportunity = best_opportunity(
            quotes,
            min_edge_bps=self.cfg.min_edge_bps,
            transfer_cost_bps=self.cfg.transfer_cost_bps,
            max_size=self.cfg.max_size_base,
        )
        if opportunity is None:
            return
        self.stats["opportunities"] += 1
        self.stats["expected_edge_quote"] += opportunity.edge_quote
        self.ctx.log.info(
            "buy %s on %s, sell on %s: %s bps (%s %s)",
            opportunity.size,
            opportunity.buy,
            opportunity.sell,
            opportunity.edge_bps.quantize(Decimal("0.1")),
            opportunity.edge_quote,
            self.cfg.quote_currency,
        )
        self.active = self.ctx.execute(self._plan(opportunity))

    def on_workflow(self, event: WorkflowEvent, **kw: Any) -> None:
        if event.workflow_id != self.active:
            return
        if isinstance(event, WorkflowFinished):
            self.stats[event.status.value.lower()] += 1
        elif isinstance(event, WorkflowRefused):
            self.stats["refused"] += 1
        else:
            return
        self.active = None
        self.quiet_until_ns = self.ctx.now_ns() + self.cfg.cooldown_ms * 1_000_000

    def snapshot_state(self) -> dict[str, Any]:
        return {"stats": {k: str(v) for k, v in self.stats.items()}}

    def restore_state(self, state: dict[str, Any]) -> None:
        for key, value in state.get("stats", {}).items():
            self.stats[key] = Decimal(value) if key == "expected_edge_quote" else int(value)

    # --- helpers --------------------------------------------------------------------------------
    def _rate(self, inst: Instrument) -> Decimal:
        if inst.quote == self.cfg.quote_currency:
            return Decimal(1)
        rate = self.cfg.quote_rates.get(inst.quote)
        if rate is None:
            raise ConfigError(
                f"{inst.id} is quoted in {inst.quote}: give `strategy.params.quote_rates.{inst.quote}` "
                f"(its value in {self.cfg.quote_currency})"
            )
        return rate

    def _quote(self, iid: InstrumentId) -> VenueQuote:
        ctx, cfg = self.ctx, self.cfg
        inst = ctx.instrument(iid)
        book = ctx.book(iid)
        base = inst.multiplier  # base asset per unit of size (linear instruments)
        position = ctx.position(iid).quantity * base
        max_buy = max_sell = None
        if cfg.max_inventory_base is not None:
            max_buy = max(_ZERO, cfg.max_inventory_base - position)
            max_sell = max(_ZERO, cfg.max_inventory_base + position)
        cash = None
        if inst.kind is InstrumentKind.SPOT:
            max_sell = min(max_sell, max(_ZERO, position)) if max_sell is not None else max(_ZERO, position)
            cash = ctx.balance(inst.quote)
        return VenueQuote(
            instrument_id=iid,
            bids=[(px, qty * base) for px, qty in book.depth(1, cfg.depth_levels)],
            asks=[(px, qty * base) for px, qty in book.depth(-1, cfg.depth_levels)],
            taker_fee=inst.taker_fee,
            lot_size=inst.lot_size * base,
            quote_rate=self._rate(inst),
            max_buy=max_buy,
            max_sell=max_sell,
            cash=cash,
        )

    def _plan(self, o: Opportunity) -> Plan:
        legs = []
        for iid, side, limit in ((o.buy, OrderSide.BUY, o.buy_limit), (o.sell, OrderSide.SELL, o.sell_limit)):
            inst = self.ctx.instrument(iid)
            hedge = self._hedge_for(o)
            legs.append(
                LegSpec(
                    instrument_id=iid,
                    side=side,
                    quantity=inst.make_size(o.size / inst.multiplier),
                    limit_price=limit,
                    time_in_force=TimeInForce.IOC,
                    hedge_instrument_id=hedge,
                )
            )
        policy = ExecutionPolicy(
            mode=self.cfg.mode,
            max_slippage_bps=self.cfg.max_slippage_bps,
            leg_timeout_ms=self.cfg.leg_timeout_ms,
            compensation=self.cfg.compensation,
        )
        return Plan(legs=tuple(legs), policy=policy, tag=f"arb {o.edge_bps.quantize(Decimal('0.1'))} bps")

    def _hedge_for(self, o: Opportunity) -> InstrumentId | None:
        """Under the HEDGE policy: a third venue of the same asset takes a failed leg's missing size
        (with only two venues there is none, and a failed leg is unwound)."""
        if self.cfg.compensation is not CompensationPolicy.HEDGE:
            return None
        return next((iid for iid in self.instruments if iid not in (o.buy, o.sell)), None)
