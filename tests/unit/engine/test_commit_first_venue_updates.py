"""Venue updates are idempotent and order-independent with a journal attached: duplicates are ignored,
a fill before its ack, an ack after a cancel and partial fills end in the right state, in memory and in
what was recorded; and the fill preview the journal receives is exactly what the portfolio then does."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.engine.test_commit_first import INST, ack, buy, fill, make_kernel
from tradewright.core.ids import ClientOrderId, TradeId, VenueOrderId
from tradewright.engine.journal import preview_fill
from tradewright.model import LiquiditySide, OrderFilled, OrderSide
from tradewright.model.enums import OrderStatus
from tradewright.model.events import OrderCanceled, OrderEvent
from tradewright.portfolio.portfolio import Portfolio
from tradewright.testkit.journal import InMemoryJournal


def canceled(cid: str) -> OrderCanceled:
    return OrderCanceled(client_order_id=ClientOrderId(cid), instrument_id=INST.id, ts_event=9, ts_init=9)


def recorded_events(journal: InMemoryJournal) -> list[str]:
    out: list[str] = []
    for kind, payload in journal.records:
        event = payload[0] if isinstance(payload, tuple) else payload
        assert isinstance(event, OrderEvent)
        out.append(f"{kind}:{type(event).__name__}")
    return out


def test_a_fill_before_its_ack_then_the_ack_ends_partially_filled_with_the_venue_id() -> None:
    journal = InMemoryJournal()
    kernel, _, strategy = make_kernel(journal)
    cid = buy(strategy)

    kernel.on_venue_event(fill(cid, "t1", "0.004"))
    kernel.on_venue_event(ack(cid, "7"))
    kernel.on_venue_event(ack(cid, "7"))

    order = kernel.orders.get(cid)
    assert order is not None
    assert (order.status, order.venue_order_id, order.leaves_qty) == (
        OrderStatus.PARTIALLY_FILLED,
        "7",
        Decimal("0.006"),
    )
    assert recorded_events(journal) == ["intent:OrderSubmitted", "fill:OrderFilled", "event:OrderAccepted"]


def test_an_ack_after_a_cancel_leaves_the_order_canceled_and_is_not_recorded() -> None:
    journal = InMemoryJournal()
    kernel, client, strategy = make_kernel(journal)
    cid = buy(strategy)
    strategy.ctx.cancel(cid)
    kernel.on_venue_event(canceled(cid))

    kernel.on_venue_event(ack(cid))

    order = kernel.orders.get(cid)
    assert order is not None and order.status is OrderStatus.CANCELED
    assert recorded_events(journal) == [
        "intent:OrderSubmitted",
        "event:OrderPendingCancel",
        "event:OrderCanceled",
    ]
    assert [kind for kind, _ in client.sent] == ["submit", "cancel"]


def test_an_ack_while_the_cancel_is_pending_keeps_it_pending_and_learns_the_venue_id() -> None:
    journal = InMemoryJournal()
    kernel, _, strategy = make_kernel(journal)
    cid = buy(strategy)
    strategy.ctx.cancel(cid)

    kernel.on_venue_event(ack(cid, "42"))

    order = kernel.orders.get(cid)
    assert order is not None
    assert (order.status, order.venue_order_id) == (OrderStatus.PENDING_CANCEL, "42")


def test_partial_fills_keep_the_average_price_and_remaining_size_and_a_fill_racing_a_cancel_counts() -> None:
    journal = InMemoryJournal()
    kernel, _, strategy = make_kernel(journal)
    cid = buy(strategy, qty="0.010", price="101.0")
    kernel.on_venue_event(ack(cid))
    kernel.on_venue_event(fill(cid, "t1", "0.004", px="100.0"))
    strategy.ctx.cancel(cid)

    kernel.on_venue_event(fill(cid, "t2", "0.003", px="101.0"))  # was first at the venue
    kernel.on_venue_event(fill(cid, "t2", "0.003", px="101.0"))
    kernel.on_venue_event(canceled(cid))

    order = kernel.orders.get(cid)
    assert order is not None
    assert order.status is OrderStatus.CANCELED
    assert order.filled_qty == Decimal("0.007")
    assert order.avg_px == (Decimal("0.4") + Decimal("0.303")) / Decimal("0.007")
    assert order.leaves_qty == Decimal("0.003")
    position = kernel.portfolio.find_position(INST.id)
    assert position is not None and position.quantity == Decimal("0.007")
    assert position.open_lots() == [
        (Decimal("100.0"), Decimal("0.004")),
        (Decimal("101.0"), Decimal("0.003")),
    ]
    fills = [payload for kind, payload in journal.records if kind == "fill"]
    assert len(fills) == 2
    last_position = fills[-1][1]  # type: ignore[index]
    assert last_position.open_lots() == position.open_lots()


def test_the_same_events_in_another_order_end_in_the_same_state() -> None:
    orders = [
        ["fill1", "ack", "fill2"],
        ["ack", "fill1", "fill2"],
        ["fill2", "fill1", "ack", "fill1", "ack"],
    ]
    finals = set()
    for sequence in orders:
        journal = InMemoryJournal()
        kernel, _, strategy = make_kernel(journal)
        cid = buy(strategy, price="100.5")  # both fills at or below the limit
        events = {
            "ack": ack(cid, "7"),
            "fill1": fill(cid, "t1", "0.004", px="100.0"),
            "fill2": fill(cid, "t2", "0.006", px="100.5"),
        }
        for name in sequence:
            kernel.on_venue_event(events[name])
        order = kernel.orders.get(cid)
        position = kernel.portfolio.find_position(INST.id)
        assert order is not None and position is not None
        finals.add((order.status, order.filled_qty, order.avg_px, position.quantity, position.realized_pnl))
    assert finals == {
        (OrderStatus.FILLED, Decimal("0.010"), Decimal("100.3"), Decimal("0.010"), Decimal(0)),
    }


_FILLS = st.lists(
    st.tuples(
        st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        st.integers(min_value=9_000, max_value=11_000),  # price in ticks of 0.1
        st.integers(min_value=1, max_value=50),  # size in lots of 0.001
        st.integers(min_value=-5, max_value=20),  # fee in cents (negative: a rebate)
        st.sampled_from(["USDT", "BNB"]),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(_FILLS)
def test_the_fill_preview_is_exactly_what_the_portfolio_does_and_leaves_it_untouched(
    fills: list[tuple[OrderSide, int, int, int, str]],
) -> None:
    portfolio = Portfolio({"USDT": Decimal("1000"), "BNB": Decimal("2")})
    for n, (side, ticks, lots, cents, fee_ccy) in enumerate(fills):
        event = OrderFilled(
            client_order_id=ClientOrderId("c"),
            instrument_id=INST.id,
            venue_order_id=VenueOrderId("1"),
            trade_id=TradeId(str(n)),
            side=side,
            last_px=INST.ticks_to_price(ticks),
            last_qty=INST.lots_to_size(lots),
            liquidity=LiquiditySide.MAKER,
            fee=Decimal(cents) / 100,
            fee_currency=fee_ccy,
            ts_event=n,
            ts_init=n,
        )
        balances_before = portfolio.balances
        held = portfolio.find_position(INST.id)
        lots_before = None if held is None else held.open_lots()

        position, balances = preview_fill(portfolio, INST, event)

        assert portfolio.balances == balances_before
        assert (None if held is None else held.open_lots()) == lots_before
        actual = portfolio.apply_fill(INST, side, event.last_px, event.last_qty, event.fee, fee_ccy)
        assert (position.quantity, position.open_lots(), position.realized_pnl, position.fees) == (
            actual.quantity,
            actual.open_lots(),
            actual.realized_pnl,
            actual.fees,
        )
        assert position.traded_volume == actual.traded_volume
        assert balances == {c: portfolio.balance(c) for c in balances}
