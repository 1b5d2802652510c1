"""Brackets: an entry order with its protective stop and its profit target, linked as contingent orders.

The three orders are plain `SubmitOrder`s tied together by two fields:

- the stop and the target name the entry as their `parent_order_id`: they work only once the entry has
  filled, and for the quantity it has filled so far (30 % of the entry filled: the stop and the target
  work for that 30 %; the rest of the entry fills: they grow to the whole size);
- the stop and the target share one `oca_group`: when one fills (partly), the other shrinks by the
  same quantity, and when one is done the other is cancelled.

A venue that holds contingent orders itself (Interactive Brokers' parent/child orders, Alpaca's
`order_class = "bracket"`) gets the three at once; elsewhere the engine holds the children until the
parent fills. Either way the strategy sees three orders with their own ids and events. When a venue
releases the children is the venue's rule, reported as it happens: IB's follow each fill of the parent
(`OrderUpdated` with the working size), Alpaca's go live once the parent has filled completely.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradewright.core.errors import InvalidOrderError
from tradewright.core.ids import ClientOrderId
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide, OrderType, TimeInForce

__all__ = ["Bracket", "child_quantity", "make_bracket", "oca_group_of"]


def oca_group_of(entry_id: ClientOrderId) -> str:
    """The one-cancels-all group of the bracket whose entry is `entry_id`."""
    return f"OCA-{entry_id}"


def child_quantity(child: Decimal, parent_quantity: Decimal, parent_filled: Decimal) -> Decimal:
    """How much of a contingent order may work now: its share of what the parent has filled.

    A child of the parent's full size works for exactly the parent's filled quantity; a smaller child
    (a partial take-profit) for its proportion of it, never more than its own size. Exact: the caller
    rounds to the lot grid.
    """
    if parent_quantity <= 0:
        raise InvalidOrderError(f"parent quantity must be > 0, got {parent_quantity}")
    return min(child, child * parent_filled / parent_quantity)


@dataclass(frozen=True, slots=True)
class Bracket:
    """An entry, its stop and (optionally) its target, already linked and checked."""

    entry: SubmitOrder
    stop: SubmitOrder
    target: SubmitOrder | None = None

    def __post_init__(self) -> None:
        entry = self.entry
        if entry.parent_order_id is not None or entry.oca_group:
            raise InvalidOrderError(f"bracket entry {entry.client_order_id} must not itself be contingent")
        children = [c for c in (self.stop, self.target) if c is not None]
        group = oca_group_of(entry.client_order_id)
        for child in children:
            what = f"bracket {entry.client_order_id}: child {child.client_order_id}"
            if child.parent_order_id != entry.client_order_id:
                raise InvalidOrderError(f"{what} must name the entry as its parent")
            if child.instrument_id != entry.instrument_id:
                raise InvalidOrderError(f"{what} is on {child.instrument_id}, the entry on {entry.instrument_id}")
            if child.side is entry.side:
                raise InvalidOrderError(f"{what} must be on the side opposite the entry ({entry.side})")
            if child.quantity != entry.quantity:
                raise InvalidOrderError(f"{what}: quantity {child.quantity} differs from the entry's {entry.quantity}")
            if child.oca_group != group:
                raise InvalidOrderError(f"{what} must be in the one-cancels-all group {group!r}")
        if self.stop.order_type not in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            raise InvalidOrderError(f"bracket {entry.client_order_id}: the stop must be a stop order")
        if self.target is not None and self.target.order_type is not OrderType.LIMIT:
            raise InvalidOrderError(f"bracket {entry.client_order_id}: the target must be a limit order")
        self._check_prices()

    def _check_prices(self) -> None:
        entry, stop, target = self.entry, self.stop, self.target
        trigger = stop.trigger_price
        assert trigger is not None  # SubmitOrder guarantees it for stop orders
        sign = 1 if entry.side is OrderSide.BUY else -1
        cid = entry.client_order_id
        if entry.price is not None and (entry.price - trigger) * sign <= 0:
            raise InvalidOrderError(
                f"bracket {cid}: the stop {trigger} must be {'below' if sign > 0 else 'above'} "
                f"the entry {entry.price}"
            )
        if target is None or target.price is None:
            return
        if entry.price is not None and (target.price - entry.price) * sign <= 0:
            raise InvalidOrderError(
                f"bracket {cid}: the target {target.price} must be {'above' if sign > 0 else 'below'} "
                f"the entry {entry.price}"
            )
        if (target.price - trigger) * sign <= 0:
            raise InvalidOrderError(f"bracket {cid}: the target {target.price} is beyond the stop {trigger}")

    @property
    def commands(self) -> tuple[SubmitOrder, ...]:
        """The entry first, then the stop, then the target (the order a venue must receive them in)."""
        return (self.entry, self.stop) if self.target is None else (self.entry, self.stop, self.target)


def make_bracket(
    entry: SubmitOrder,
    *,
    stop_id: ClientOrderId,
    stop_price: Decimal,
    target_id: ClientOrderId | None = None,
    target_price: Decimal | None = None,
    stop_limit_price: Decimal | None = None,
    time_in_force: TimeInForce = TimeInForce.GTC,
) -> Bracket:
    """Build the stop (a stop-market, or a stop-limit at `stop_limit_price`) and the target (a limit)
    of `entry`, linked to it; raise `InvalidOrderError` naming what is inconsistent."""
    side = entry.side.opposite
    group = oca_group_of(entry.client_order_id)
    common = {
        "strategy_id": entry.strategy_id,
        "instrument_id": entry.instrument_id,
        "side": side,
        "quantity": entry.quantity,
        "time_in_force": time_in_force,
        "parent_order_id": entry.client_order_id,
        "oca_group": group,
        "ts_init": entry.ts_init,
        "actor": entry.actor,
    }
    stop = SubmitOrder(
        client_order_id=stop_id,
        order_type=OrderType.STOP_MARKET if stop_limit_price is None else OrderType.STOP_LIMIT,
        trigger_price=stop_price,
        price=stop_limit_price,
        **common,  # type: ignore[arg-type]
    )
    target = None
    if target_id is not None or target_price is not None:
        if target_id is None or target_price is None:
            raise InvalidOrderError(f"bracket {entry.client_order_id}: a target needs both an id and a price")
        target = SubmitOrder(
            client_order_id=target_id,
            order_type=OrderType.LIMIT,
            price=target_price,
            **common,  # type: ignore[arg-type]
        )
    return Bracket(entry, stop, target)
