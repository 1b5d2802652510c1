"""Builders for store tests: instruments, orders and their events, with exact Decimal terms."""

from __future__ import annotations

from decimal import Decimal

from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId, TradeId, VenueOrderId
from tradewright.model import (
    Instrument,
    InstrumentKind,
    LiquiditySide,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderPendingCancel,
    OrderSide,
    OrderSubmitted,
    OrderType,
    Position,
    SubmitOrder,
)

BTC = InstrumentId.parse("BTCUSDT.BINANCE")
ETH = InstrumentId.parse("ETHUSDT.BINANCE")
STRAT = StrategyId("mm-1")


def instrument(iid: InstrumentId = BTC, tick: str = "0.01", lot: str = "0.00001") -> Instrument:
    return Instrument(
        id=iid,
        kind=InstrumentKind.SPOT,
        base=iid.symbol.removesuffix("USDT"),
        quote="USDT",
        settle="USDT",
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
        min_notional=Decimal("5"),
        maker_fee=Decimal("-0.0001"),
        taker_fee=Decimal("0.0004"),
    )


def submit(
    cid: str,
    *,
    iid: InstrumentId = BTC,
    side: OrderSide = OrderSide.BUY,
    qty: str = "0.5",
    price: str | None = "100.01",
    strategy: StrategyId = STRAT,
    ts: int = 1_000,
) -> SubmitOrder:
    return SubmitOrder(
        ts_init=ts,
        actor=strategy,
        client_order_id=ClientOrderId(cid),
        strategy_id=strategy,
        instrument_id=iid,
        side=side,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        quantity=Decimal(qty),
        price=None if price is None else Decimal(price),
    )


def submitted_event(order: Order, ts: int = 1_001) -> OrderSubmitted:
    return OrderSubmitted(
        ts_event=ts,
        ts_init=ts,
        client_order_id=order.client_order_id,
        instrument_id=order.instrument_id,
        strategy_id=order.strategy_id,
        side=order.side,
        order_type=order.order_type,
        quantity=order.quantity,
        price=order.price,
    )


def new_order(cid: str, **kw: object) -> Order:
    """An order that passed risk: SUBMITTED, carrying its OrderSubmitted event (what record_intent takes)."""
    order = Order(submit(cid, **kw))  # type: ignore[arg-type]
    order.apply(submitted_event(order, ts=order.ts_init + 1))
    return order


def accepted(order: Order, ts: int = 2_000) -> OrderAccepted:
    return OrderAccepted(
        ts_event=ts,
        ts_init=ts + 1,
        client_order_id=order.client_order_id,
        instrument_id=order.instrument_id,
        venue_order_id=VenueOrderId(f"v-{order.client_order_id}"),
    )


def pending_cancel(order: Order, ts: int = 3_000) -> OrderPendingCancel:
    return OrderPendingCancel(
        ts_event=ts, ts_init=ts, client_order_id=order.client_order_id, instrument_id=order.instrument_id
    )


def canceled(order: Order, ts: int = 3_100) -> OrderCanceled:
    return OrderCanceled(
        ts_event=ts,
        ts_init=ts + 1,
        client_order_id=order.client_order_id,
        instrument_id=order.instrument_id,
        reason="user",
    )


def fill(
    order: Order,
    trade_id: str,
    qty: str,
    px: str | None = None,
    *,
    fee: str = "0.001",
    ts: int = 4_000,
) -> OrderFilled:
    return OrderFilled(
        ts_event=ts,
        ts_init=ts + 7,
        client_order_id=order.client_order_id,
        instrument_id=order.instrument_id,
        venue_order_id=VenueOrderId(f"v-{order.client_order_id}"),
        trade_id=TradeId(trade_id),
        side=order.side,
        last_px=Decimal(px) if px is not None else (order.price or Decimal("100")),
        last_qty=Decimal(qty),
        liquidity=LiquiditySide.MAKER,
        fee=Decimal(fee),
        fee_currency="USDT",
    )


class Book:
    """A tiny in-memory portfolio to produce the position and balances after each fill, as the engine will."""

    def __init__(self, cash: str = "10000") -> None:
        self.positions: dict[InstrumentId, Position] = {}
        self.cash = Decimal(cash)

    def apply(self, inst: Instrument, f: OrderFilled) -> tuple[Position, dict[str, Decimal]]:
        pos = self.positions.setdefault(inst.id, Position(inst))
        pos.apply_fill(f.side, f.last_px, f.last_qty, f.fee)
        self.cash -= f.side.sign * f.last_px * f.last_qty * inst.multiplier + f.fee
        return pos, {"USDT": self.cash}
