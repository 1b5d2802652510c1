"""Reconciliation: compare what the venue reports with local state and say what to do about it.

Pure functions, no I/O: the live node reads the venue (`VenueStatePort`), calls these, and carries out
the actions they return (applying events through the kernel, so they are journaled like any other).

Rules (docs/persistence.md, "Reconciliation"):

- Orders. Every locally open order is compared with the venue's view of it, fetched by client order id.
  Its missed ack and missed fills (by trade id) are applied, then its end (cancelled, expired,
  rejected) if it has ended. An order the venue does not know was never received: it is marked
  rejected (never acknowledged) or cancelled (acknowledged once, gone now). A cancel we recorded but
  the venue never saw is sent again. Fills the venue reports that do not add up to its filled size
  halt the instrument. Orders working at the venue that are not open locally are cancelled
  (`cancel_unknown_orders`) or reported.
- Positions. The venue's position is compared with ours *as of the snapshot's time*: our fills after it
  are taken out, so a fill in flight is not mistaken for drift. A drift up to the threshold —
  max(`drift_pct` of our position, `drift_lots` lots) — is corrected to the venue's figure (audited);
  a larger one halts the instrument with a message naming both figures.
- Balances. Cash is the venue's: a difference beyond `balance_tolerance` is corrected (audited),
  never halted on (fees, funding and transfers move it legitimately).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

import msgspec

from tradewright.config.bounds import SecondsOrZero
from tradewright.core.errors import InvalidStateTransition
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenueOrderStatus
from tradewright.model.enums import OrderStatus
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
)
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.portfolio.portfolio import Portfolio

__all__ = [
    "Action",
    "ApplyEvent",
    "CancelUnknownOrder",
    "CorrectBalance",
    "CorrectPosition",
    "HaltInstrument",
    "ReconcileConfig",
    "ReportUnknownOrder",
    "ResendCancel",
    "drift_threshold",
    "reconcile_account",
    "reconcile_orders",
    "resolve_order",
]

_ZERO = Decimal(0)
NOT_FOUND = "not_found_at_venue"


class ReconcileConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The `[reconcile]` section: when the live node reconciles and how much drift it corrects itself.

    `interval_s`: seconds between periodic reconciliations (0: only at start). `drift_pct` and
    `drift_lots`: a position drift up to max(drift_pct % of our position, drift_lots lots) is
    corrected; a larger one halts the instrument. `confirmations`: consecutive reconciliations that
    must see the same drift before anything is done about it (1: act at once). `balance_tolerance`:
    a cash difference up to this (in the currency) is left alone.
    """

    interval_s: SecondsOrZero = 30.0
    drift_pct: Decimal = Decimal(5)
    drift_lots: Annotated[int, msgspec.Meta(ge=0)] = 1
    confirmations: Annotated[int, msgspec.Meta(ge=1, le=10)] = 2
    balance_tolerance: Decimal = Decimal("0.0001")
    cancel_unknown_orders: bool = True

    def __post_init__(self) -> None:
        for name in ("drift_pct", "balance_tolerance"):
            value = getattr(self, name)
            if not value.is_finite() or value < 0:
                raise ValueError(f"`reconcile.{name}` must be a number >= 0, got {value}")


# --- actions -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ApplyEvent:
    """Apply this order event through the kernel (a missed ack, fill or end, or a resolution)."""

    event: OrderEvent
    reason: str


@dataclass(frozen=True, slots=True)
class ResendCancel:
    """Our cancel was recorded but the order still works at the venue: send the cancel again."""

    client_order_id: ClientOrderId
    reason: str


@dataclass(frozen=True, slots=True)
class CancelUnknownOrder:
    """An order works at the venue that is not open here: cancel it there."""

    order: VenueOrder
    reason: str


@dataclass(frozen=True, slots=True)
class ReportUnknownOrder:
    """An order works at the venue that is not open here, and `cancel_unknown_orders` is off."""

    order: VenueOrder
    reason: str


@dataclass(frozen=True, slots=True)
class CorrectPosition:
    """Set our position to the venue's (a drift within the threshold); `quantity` is the new size."""

    instrument_id: InstrumentId
    local: Decimal
    venue: Decimal
    drift: Decimal
    threshold: Decimal
    quantity: Decimal
    price: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class HaltInstrument:
    """Stop new orders on the instrument: something is off that a person must look at."""

    instrument_id: InstrumentId
    reason: str


@dataclass(frozen=True, slots=True)
class CorrectBalance:
    """Set a balance to the venue's figure (`amount` is the new local total)."""

    currency: str
    local: Decimal
    venue: Decimal
    amount: Decimal
    reason: str


Action = (
    ApplyEvent
    | ResendCancel
    | CancelUnknownOrder
    | ReportUnknownOrder
    | CorrectPosition
    | HaltInstrument
    | CorrectBalance
)


# --- orders --------------------------------------------------------------------------------------
def resolve_order(
    order: Order, venue: VenueOrder | None, venue_fills: Sequence[OrderFilled], now_ns: int
) -> list[Action]:
    """What to apply to one local order given the venue's view of it (None: the venue does not know it)."""
    cid = order.client_order_id
    if order.status.is_terminal:
        return []
    if venue is None:
        return [_unknown_at_venue(order, now_ns)]
    actions: list[Action] = []
    scratch = copy.deepcopy(order)  # the events must replay on the order as it is: try them on a copy
    refused: list[str] = []

    def add(event: OrderEvent, reason: str) -> None:
        if not scratch.can_apply(event):
            return  # e.g. an ack the order no longer needs
        try:
            scratch.apply(event)
        except InvalidStateTransition as exc:  # an overfill: the venue and our books disagree
            refused.append(str(exc))
            return
        actions.append(ApplyEvent(event, reason))

    if scratch.venue_order_id is None and venue.venue_order_id:
        add(
            _event(OrderAccepted, order, venue.ts_ns, now_ns, venue_order_id=venue.venue_order_id),
            "missed ack",
        )
    known = {e.trade_id for e in order.events if isinstance(e, OrderFilled)}
    seen: set[TradeId] = set()
    missed = []
    for fill in venue_fills:
        if fill.client_order_id != cid or fill.trade_id in known or fill.trade_id in seen:
            continue
        seen.add(fill.trade_id)
        missed.append(fill)
    missed.sort(key=lambda f: (f.ts_event, _trade_key(f.trade_id)))
    for fill in missed:
        add(fill, f"missed fill {fill.trade_id}")
    # Fills read after the view may already include later ones (more is fine); fewer means some are missing.
    if refused or scratch.filled_qty < venue.filled_qty:
        detail = f" ({'; '.join(refused)})" if refused else ""
        return [
            HaltInstrument(
                order.instrument_id,
                f"order {cid}: the venue reports {venue.filled_qty} filled, but its fills add up to "
                f"{scratch.filled_qty} here{detail}; fills cannot be booked without their trade ids",
            )
        ]
    status = venue.status
    if status is VenueOrderStatus.OPEN:
        if scratch.status is OrderStatus.PENDING_CANCEL:
            actions.append(
                ResendCancel(cid, "the cancel was recorded, but the order still works at the venue")
            )
        elif scratch.status is OrderStatus.PENDING_UPDATE:
            add(
                _event(OrderModifyRejected, order, venue.ts_ns, now_ns, reason="not confirmed by the venue"),
                "modify never confirmed",
            )
    elif status is VenueOrderStatus.CANCELED:
        add(
            _event(OrderCanceled, order, venue.ts_ns, now_ns, reason="canceled at the venue"), "missed cancel"
        )
    elif status is VenueOrderStatus.EXPIRED:
        add(_event(OrderExpired, order, venue.ts_ns, now_ns), "missed expiry")
    elif status is VenueOrderStatus.REJECTED:
        add(
            _event(
                OrderRejected, order, venue.ts_ns, now_ns, reason="rejected", message="rejected at the venue"
            ),
            "missed rejection",
        )
    return actions


def _unknown_at_venue(order: Order, now_ns: int) -> Action:
    cid = order.client_order_id
    if order.status is OrderStatus.INITIALIZED:
        event: OrderEvent = _event(
            OrderDenied,
            order,
            now_ns,
            now_ns,
            reason="never_sent",
            message=f"order {cid} was recorded but never sent; the venue does not know it",
        )
        return ApplyEvent(event, "never sent")
    if order.venue_order_id is None:
        event = _event(
            OrderRejected,
            order,
            now_ns,
            now_ns,
            reason=NOT_FOUND,
            message=f"order {cid} never reached the venue: re-queried by its client order id, it is unknown there",
        )
        return ApplyEvent(event, "unknown at the venue, never acknowledged")
    event = _event(
        OrderCanceled,
        order,
        now_ns,
        now_ns,
        reason=f"{NOT_FOUND}: acknowledged as {order.venue_order_id} once, unknown at the venue now",
    )
    return ApplyEvent(event, "unknown at the venue, acknowledged before")


def reconcile_orders(
    local_open: Mapping[ClientOrderId, Order],
    venue_views: Mapping[ClientOrderId, VenueOrder | None],
    venue_fills: Mapping[ClientOrderId, Sequence[OrderFilled]],
    venue_open: Iterable[VenueOrder],
    config: ReconcileConfig,
    now_ns: int,
) -> list[Action]:
    """Resolve every locally open order (its view in `venue_views`; one missing there is not checked)
    and deal with orders working at the venue that are not open here."""
    actions: list[Action] = []
    for cid, order in local_open.items():
        if cid in venue_views:
            actions.extend(resolve_order(order, venue_views[cid], venue_fills.get(cid, ()), now_ns))
    for vo in venue_open:
        if vo.client_order_id in local_open:
            continue
        why = (
            f"order {vo.client_order_id} (venue id {vo.venue_order_id}, {vo.side} {vo.quantity} @ {vo.price}) "
            "works at the venue but is not an open order of this node"
        )
        actions.append(
            CancelUnknownOrder(vo, why) if config.cancel_unknown_orders else ReportUnknownOrder(vo, why)
        )
    return actions


# --- positions and balances ----------------------------------------------------------------------
def drift_threshold(instrument: Instrument, local: Decimal, config: ReconcileConfig) -> Decimal:
    """The largest drift corrected without halting: max(drift_pct % of |local|, drift_lots lots)."""
    return max(abs(local) * config.drift_pct / 100, instrument.lot_size * config.drift_lots)


def reconcile_account(
    instruments: Mapping[InstrumentId, Instrument],
    local_positions: Mapping[InstrumentId, Decimal],
    local_balances: Mapping[str, Decimal],
    recent_fills: Iterable[OrderFilled],
    snapshot: AccountSnapshot,
    config: ReconcileConfig,
) -> list[Action]:
    """Compare positions (in `instruments`) and balances with the venue's snapshot.

    `recent_fills` are fills already applied here; those after `snapshot.as_of_ns` are taken out of
    our figures before comparing (the venue's do not include them yet).
    """
    later = [f for f in recent_fills if f.ts_event > snapshot.as_of_ns]
    size_after: dict[InstrumentId, Decimal] = {}
    cash_after: dict[str, Decimal] = {}
    for fill in later:
        inst = instruments.get(fill.instrument_id)
        if inst is None:
            continue
        size_after[inst.id] = size_after.get(inst.id, _ZERO) + fill.side.sign * fill.last_qty
        flows = Portfolio()  # a fill's cash flows by the portfolio's own rules, from zero
        flows.apply_fill(inst, fill.side, fill.last_px, fill.last_qty, fill.fee, fill.fee_currency)
        for currency, amount in flows.balances.items():
            cash_after[currency] = cash_after.get(currency, _ZERO) + amount
    actions: list[Action] = []
    for iid, inst in sorted(instruments.items()):
        now = local_positions.get(iid, _ZERO)
        local = now - size_after.get(iid, _ZERO)
        held = snapshot.positions.get(iid)
        venue = _ZERO if held is None else held.quantity
        drift = venue - local
        if drift == 0:
            continue
        threshold = drift_threshold(inst, local, config)
        figures = (
            f"{iid}: the venue holds {venue}, this node {local} as of the venue's snapshot "
            f"(drift {drift:+}, threshold {threshold} = max({config.drift_pct}% of the position, "
            f"{config.drift_lots} lot(s) of {inst.lot_size}))"
        )
        if abs(drift) <= threshold:
            price = held.entry_price if held is not None and held.entry_price > 0 else _ZERO
            actions.append(
                CorrectPosition(
                    iid,
                    local,
                    venue,
                    drift,
                    threshold,
                    now + drift,
                    price,
                    f"position drift {figures}; corrected to the venue's",
                )
            )
        else:
            actions.append(
                HaltInstrument(
                    iid,
                    f"position drift {figures} is above the threshold; new orders halted until it is resolved by hand",
                )
            )
    for currency, venue_cash in sorted(snapshot.balances.items()):
        now = local_balances.get(currency, _ZERO)
        local = now - cash_after.get(currency, _ZERO)
        diff = venue_cash - local
        if abs(diff) <= config.balance_tolerance:
            continue
        actions.append(
            CorrectBalance(
                currency,
                local,
                venue_cash,
                now + diff,
                f"balance {currency}: the venue's cash is {venue_cash}, this node's {local} "
                f"(difference {diff:+}); set to the venue's",
            )
        )
    return actions


# --- helpers -------------------------------------------------------------------------------------
def _event(kind: type[OrderEvent], order: Order, ts_event: int, ts_init: int, **fields: object) -> OrderEvent:
    return kind(
        client_order_id=order.client_order_id,
        instrument_id=order.instrument_id,
        ts_event=ts_event,
        ts_init=ts_init,
        **fields,
    )


def _trade_key(trade_id: str) -> tuple[int, str]:
    """Numeric trade ids sort as numbers (Binance numbers them per symbol)."""
    return (int(trade_id), "") if trade_id.isdigit() else (1 << 62, trade_id)
