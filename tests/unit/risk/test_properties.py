"""Properties (Hypothesis): no sequence of commands takes gross exposure past its cap, and PnL, fees and
balances always add up exactly."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.risk.kit import Bench, D
from tradewright.core.ids import VenueOrderId
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import OrderUpdated
from tradewright.model.instrument import InstrumentKind
from tradewright.model.orders import Order
from tradewright.testkit import btc_perp, es_future, make_instrument

BTC = btc_perp()  # BINANCE, tick 0.1, lot 0.001; book 100.0 / 100.1
ETH = make_instrument("ETHUSDT-PERP", "BYBIT", tick="0.01", lot="0.01")  # book 50.00 / 50.02
YES = make_instrument(
    "WIN-YES", "POLY", tick="0.01", lot="1", kind=InstrumentKind.BINARY_OUTCOME, quote="USDT"
)
INSTRUMENTS = (BTC, ETH, YES)
CAP = D(3)

command = st.one_of(
    st.tuples(
        st.just("submit"),
        st.integers(0, 2),  # instrument
        st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        st.integers(1, 12),  # lots
        st.one_of(st.none(), st.integers(-20, 20)),  # None: market; else ticks from the touch
    ),
    st.tuples(st.just("fill"), st.integers(0, 50), st.integers(1, 12)),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("modify"), st.integers(0, 50), st.integers(1, 12)),
)


def _bench() -> Bench:
    b = Bench(*INSTRUMENTS, balance=D(1_000), max_gross_exposure_quote=CAP)
    b.book(BTC, [(1000, 10_000)], [(1001, 10_000)])
    b.book(ETH, [(5000, 10_000)], [(5002, 10_000)])
    b.book(YES, [(40, 10_000)], [(42, 10_000)])
    return b


def _gross(b: Bench) -> Decimal:
    marks = {i.id: m for i in INSTRUMENTS if (m := b.kernel.mark(i.id)) is not None}
    return b.kernel.portfolio.gross_exposure(marks)


def _order_value(b: Bench, order: Order) -> Decimal:
    inst = b.kernel.instruments[order.instrument_id]
    mark = b.kernel.mark(inst.id)
    assert mark is not None
    signed = order.quantity if order.side is OrderSide.BUY else -order.quantity
    return abs(b.kernel.portfolio.exposure_value(inst, signed, order.price or mark))


@settings(max_examples=150, deadline=None)
@given(st.lists(command, max_size=40))
def test_no_sequence_of_commands_takes_gross_exposure_past_the_cap(
    commands: list[tuple[object, ...]],
) -> None:
    b = _bench()
    largest = D(0)
    for cmd in commands:
        open_orders = b.kernel.orders.open_orders()
        if cmd[0] == "submit":
            _, i, side, lots, offset = cmd
            inst = INSTRUMENTS[i]  # type: ignore[index]
            book = b.kernel.books[inst.id]
            touch = book.best_bid_tick if side is OrderSide.BUY else book.best_ask_tick
            assert touch is not None
            tick = None if offset is None else max(1, touch + offset)  # type: ignore[operator]
            if inst is YES and tick is not None:
                tick = min(tick, 99)
            price = None if tick is None else inst.ticks_to_price(tick)
            order = b.submit(inst, side, inst.lots_to_size(lots), price)  # type: ignore[arg-type]
            if order.status is OrderStatus.SUBMITTED:
                largest = max(largest, _order_value(b, order))
        elif open_orders and cmd[0] == "fill":
            order = open_orders[cmd[1] % len(open_orders)]  # type: ignore[operator]
            inst = b.kernel.instruments[order.instrument_id]
            lots = min(inst.size_to_lots(order.leaves_qty), cmd[2])  # type: ignore[type-var]
            b.fill(order, order.price or b.kernel.mark(inst.id), inst.lots_to_size(lots))  # type: ignore[arg-type]
        elif open_orders and cmd[0] == "cancel":
            order = open_orders[cmd[1] % len(open_orders)]  # type: ignore[operator]
            if b.cancel(order):
                b.canceled(order)
        elif open_orders and cmd[0] == "modify":
            order = open_orders[cmd[1] % len(open_orders)]  # type: ignore[operator]
            inst = b.kernel.instruments[order.instrument_id]
            new_qty = order.filled_qty + inst.lots_to_size(cmd[2])  # type: ignore[arg-type]
            if order.price is not None and b.modify(order, qty=str(new_qty)):
                now = b.clock.now_ns()
                b.kernel.on_venue_event(
                    OrderUpdated(
                        client_order_id=order.client_order_id,
                        instrument_id=order.instrument_id,
                        quantity=new_qty,
                        price=order.price,
                        venue_order_id=VenueOrderId("v"),
                        ts_event=now,
                        ts_init=now,
                    )
                )
                largest = max(largest, _order_value(b, order))
        gross = _gross(b)
        # The acceptance bound is "the cap plus one order"; the worst-case accounting keeps it under the cap.
        assert gross <= CAP + largest
        assert gross <= CAP, (gross, commands)


fill = st.tuples(
    st.integers(0, 2),  # instrument
    st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
    st.integers(1, 30),  # lots
    st.integers(-30, 30),  # ticks from the instrument's base price
    st.integers(-50, 200),  # fee in hundredths of a quote unit (negative: rebate)
)
ACCOUNTS = (
    btc_perp(),
    es_future(),
    make_instrument("NO", "POLY", tick="0.01", lot="1", kind=InstrumentKind.BINARY_OUTCOME),
)
BASE_TICK = {0: 1000, 1: 20_000, 2: 50}


@settings(max_examples=200, deadline=None)
@given(st.lists(fill, min_size=1, max_size=60), st.integers(-40, 40))
def test_pnl_fees_and_balances_always_add_up(
    fills: list[tuple[int, OrderSide, int, int, int]], move: int
) -> None:
    b = Bench(*ACCOUNTS, balance=D(100_000))
    portfolio = b.kernel.portfolio
    start = {c: portfolio.balance(c) for c in ("USDT", "USD")}
    flows = {c: D(0) for c in start}
    fees = {c: D(0) for c in start}
    for i, side, lots, ticks, fee_cents in fills:
        inst = ACCOUNTS[i]
        price = inst.ticks_to_price(max(1, min(BASE_TICK[i] + ticks, 99 if i == 2 else 10**9)))
        qty = inst.lots_to_size(lots)
        fee = D(fee_cents) / 100
        order = b.submit(inst, side, qty, price)
        b.ack(order)
        b.fill(order, price, qty, fee=str(fee))
        sign = 1 if side is OrderSide.BUY else -1
        flows[inst.settle] -= sign * price * qty * inst.multiplier
        fees[inst.settle] += fee
    for i, inst in enumerate(ACCOUNTS):  # move every market, then mark to it
        mid = max(2, min(BASE_TICK[i] + move, 98 if i == 2 else 10**9))
        b.book(inst, [(mid - 1, 10)], [(mid + 1, 10)])
    marks = {inst.id: m for inst in ACCOUNTS if (m := b.kernel.mark(inst.id)) is not None}
    total_pnl = D(0)
    for ccy in start:
        snap = portfolio.snapshot(b.clock.now_ns(), ccy, marks)
        assert snap.fees == fees[ccy]
        assert snap.cash == start[ccy] + flows[ccy] - fees[ccy]
        assert snap.equity - start[ccy] == snap.realized_pnl + snap.unrealized_pnl - snap.fees
        total_pnl += snap.realized_pnl + snap.unrealized_pnl - snap.fees
    # The risk engine's daily PnL measures the same money.
    assert b.risk.daily.loss() == -total_pnl
