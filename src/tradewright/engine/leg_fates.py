"""After a restart: what became of a workflow's orders that the node itself cannot account for.

A leg (or compensation) order recorded as sent whose client order id the kernel does not know after the
node restored its orders may never have left, or may be at the venue: its fate is unknown, so it is
looked up at the venue before anything else is done — the same question reconciliation asks
(`VenueStatePort.query_order` by client order id, then `order_fills`). The live runner gathers the
answers with `query_leg_fates` (the one asynchronous step: the venue ports are asynchronous) and hands
them to `MultiLegExecutor.resolve`, which is synchronous like the rest of the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tradewright.core.errors import TradewrightError
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId, Venue
from tradewright.engine.venue_state import VenueOrder, VenueOrderStatus, VenueStatePort
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide, OrderType, TimeInForce
from tradewright.model.events import OrderFilled, OrderSubmitted
from tradewright.model.orders import Order
from tradewright.model.workflow import WorkflowState

__all__ = ["LegQuery", "VenueAnswer", "average_price", "order_of", "query_leg_fates", "rebuilt_order"]


@dataclass(frozen=True, slots=True)
class LegQuery:
    """One order whose fate the venue must tell: which workflow, which instrument, which client order id."""

    workflow_id: str
    instrument_id: InstrumentId
    client_order_id: ClientOrderId


@dataclass(frozen=True, slots=True)
class VenueAnswer:
    """The venue's view of one order (None: the venue does not know it) and its fills, oldest first."""

    order: VenueOrder | None
    fills: tuple[OrderFilled, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.order is not None and self.order.status is VenueOrderStatus.OPEN


async def query_leg_fates(
    ports: Mapping[Venue, VenueStatePort], queries: Iterable[LegQuery]
) -> dict[ClientOrderId, VenueAnswer]:
    """Ask each order's venue what became of it (all venues at once, one order after another per venue)."""
    by_venue: dict[Venue, list[LegQuery]] = {}
    for query in queries:
        by_venue.setdefault(query.instrument_id.venue, []).append(query)
    missing = sorted(set(by_venue) - set(ports))
    if missing:
        raise TradewrightError(
            f"no venue state port for {', '.join(missing)}: cannot look up the workflows' orders"
        )

    async def ask(venue: Venue) -> list[tuple[ClientOrderId, VenueAnswer]]:
        port = ports[venue]
        out = []
        for query in by_venue[venue]:
            view = await port.query_order(query.instrument_id, query.client_order_id)
            fills = () if view is None else tuple(await port.order_fills(view))
            out.append((query.client_order_id, VenueAnswer(view, fills)))
        return out

    answers: dict[ClientOrderId, VenueAnswer] = {}
    for pairs in await asyncio.gather(*(ask(venue) for venue in by_venue)):
        answers.update(pairs)
    return answers


def rebuilt_order(
    client_order_id: ClientOrderId,
    strategy_id: StrategyId,
    instrument_id: InstrumentId,
    side: OrderSide,
    quantity: Decimal,
    price: Decimal,
    time_in_force: TimeInForce,
    sent_ns: int,
) -> Order:
    """The order a workflow step sent, as the node held it right after sending (to adopt it again)."""
    command = SubmitOrder(
        client_order_id=client_order_id,
        strategy_id=strategy_id,
        instrument_id=instrument_id,
        side=side,
        order_type=OrderType.LIMIT,
        quantity=quantity,
        price=price,
        time_in_force=time_in_force,
        ts_init=sent_ns,
    )
    order = Order(command)
    order.apply(
        OrderSubmitted(
            client_order_id=client_order_id,
            instrument_id=instrument_id,
            strategy_id=strategy_id,
            side=side,
            order_type=OrderType.LIMIT,
            quantity=quantity,
            price=price,
            time_in_force=time_in_force,
            ts_event=sent_ns,
            ts_init=sent_ns,
        )
    )
    return order


def order_of(state: WorkflowState, cid: ClientOrderId) -> Order:
    """The order a workflow recorded as sent under `cid` (a leg's or a compensation's), rebuilt."""
    leg = state.leg_of(cid)
    if leg is not None:
        spec = state.plan.legs[leg.index]
        assert leg.price is not None and leg.sent_ns is not None
        return rebuilt_order(
            cid,
            state.strategy_id,
            spec.instrument_id,
            spec.side,
            spec.quantity,
            leg.price,
            spec.time_in_force,
            leg.sent_ns,
        )
    comp = state.compensation_of(cid)
    assert comp is not None, f"{cid} is no order of workflow {state.workflow_id}"
    return rebuilt_order(
        cid,
        state.strategy_id,
        comp.instrument_id,
        comp.side,
        comp.quantity,
        comp.price,
        TimeInForce.IOC,
        comp.sent_ns,
    )


def average_price(fills: Sequence[OrderFilled]) -> Decimal | None:
    """Size-weighted average price of fills (None without fills)."""
    size = sum((f.last_qty for f in fills), Decimal(0))
    if size == 0:
        return None
    return sum((f.last_px * f.last_qty for f in fills), Decimal(0)) / size
