"""The order manager's operations: intents, order events and fills — durable, atomic and idempotent."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tradewright.core.errors import InvalidOrderError, InvalidStateTransition, StoreError
from tradewright.core.ids import ClientOrderId, TradeId
from tradewright.model import Order, OrderDenied, OrderStatus
from tradewright.store import SqlStateStore
from tradewright.store.schema import fills, order_events, orders

from .builders import BTC, ETH, Book, accepted, canceled, fill, instrument, new_order, pending_cancel, submit


def count(store: SqlStateStore, table: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def same_order(a: Order, b: Order) -> None:
    for name in Order.__slots__:
        assert getattr(a, name) == getattr(b, name), name


def test_recorded_intent_is_loaded_after_restart_as_the_same_order(
    store: SqlStateStore, make_store: Callable[..., SqlStateStore]
) -> None:
    order = new_order("c-1", price="0.00000001", qty="123456789.123456789")

    assert store.record_intent(order) is True
    store.close()
    state = make_store().load_state()

    assert list(state.open_orders) == ["c-1"]
    same_order(state.open_orders[ClientOrderId("c-1")], order)
    assert state.orders[ClientOrderId("c-1")] is state.open_orders[ClientOrderId("c-1")]


def test_an_initialized_intent_counts_as_open_until_it_ends(store: SqlStateStore) -> None:
    order = Order(submit("c-init"))

    store.record_intent(order)

    loaded = store.load_state().open_orders[ClientOrderId("c-init")]
    assert loaded.status is OrderStatus.INITIALIZED


def test_a_denied_order_is_recorded_as_finished(store: SqlStateStore) -> None:
    order = Order(submit("c-denied"))
    order.apply(
        OrderDenied(
            ts_event=1_500,
            ts_init=1_500,
            client_order_id=order.client_order_id,
            instrument_id=order.instrument_id,
            reason="max_notional",
            message="notional 50.005 above 10",
        )
    )

    assert store.record_intent(order) is True

    state = store.load_state(orders_since_ns=0)
    assert state.open_orders == {}
    same_order(state.orders[ClientOrderId("c-denied")], order)


def test_recording_the_same_intent_twice_is_a_noop(store: SqlStateStore) -> None:
    order = new_order("c-1")
    store.record_intent(order)

    assert store.record_intent(order) is False
    assert count(store, orders) == 1
    assert count(store, order_events) == 1


def test_a_retried_intent_is_still_a_noop_after_the_order_moved_on(store: SqlStateStore) -> None:
    order = new_order("c-1")
    store.record_intent(order)
    store.record_order_event(accepted(order))

    assert store.record_intent(order) is False


def test_reusing_a_client_order_id_for_different_terms_is_refused(store: SqlStateStore) -> None:
    store.record_intent(new_order("c-1", price="100.01"))

    with pytest.raises(InvalidOrderError, match="c-1 is already recorded with different terms"):
        store.record_intent(new_order("c-1", price="100.02"))
    assert store.load_state().open_orders[ClientOrderId("c-1")].price == Decimal("100.01")


def test_record_intent_refuses_an_order_that_was_already_sent_and_acked(store: SqlStateStore) -> None:
    order = new_order("c-1")
    order.apply(accepted(order))

    with pytest.raises(InvalidOrderError, match="before it is sent"):
        store.record_intent(order)
    assert count(store, orders) == 0


def test_order_events_append_and_keep_the_current_state(store: SqlStateStore) -> None:
    order = new_order("c-1")
    store.record_intent(order)
    events = [accepted(order), pending_cancel(order), canceled(order)]

    for event in events:
        assert store.record_order_event(event) is True

    state = store.load_state(orders_since_ns=0)
    assert state.open_orders == {}
    loaded = state.orders[ClientOrderId("c-1")]
    assert loaded.status is OrderStatus.CANCELED
    assert loaded.venue_order_id == "v-c-1"
    assert loaded.events == [order.events[0], *events]
    with store.engine.connect() as conn:
        row = conn.execute(select(orders).where(orders.c.client_order_id == "c-1")).one()
        seqs = conn.execute(
            select(order_events.c.seq, order_events.c.event_type).order_by(order_events.c.seq)
        ).all()
    assert (row.status, row.event_count, row.ts_last) == ("CANCELED", 4, 3_100)
    assert [tuple(s) for s in seqs] == [
        (1, "OrderSubmitted"),
        (2, "OrderAccepted"),
        (3, "OrderPendingCancel"),
        (4, "OrderCanceled"),
    ]


def test_an_event_the_order_cannot_take_is_refused_and_nothing_is_written(store: SqlStateStore) -> None:
    order = new_order("c-1")
    store.record_intent(order)
    store.record_order_event(canceled(order))

    with pytest.raises(InvalidStateTransition, match="not allowed in status CANCELED"):
        store.record_order_event(accepted(order))
    assert count(store, order_events) == 2


def test_an_event_for_an_unknown_order_is_refused(store: SqlStateStore) -> None:
    with pytest.raises(InvalidStateTransition, match="c-404 is not in the store"):
        store.record_order_event(accepted(new_order("c-404")))
    assert count(store, order_events) == 0


def test_repeating_the_last_event_is_a_noop(store: SqlStateStore) -> None:
    order = new_order("c-1")
    store.record_intent(order)
    store.record_order_event(accepted(order))

    assert store.record_order_event(accepted(order)) is False
    assert count(store, order_events) == 2


def test_fills_go_through_record_fill_not_record_order_event(store: SqlStateStore) -> None:
    order = new_order("c-1")
    store.record_intent(order)

    with pytest.raises(TypeError, match="record_fill"):
        store.record_order_event(fill(order, "t-1", "0.1"))


def test_a_fill_stores_fill_order_state_position_and_balances_together(store: SqlStateStore) -> None:
    inst, book = instrument(), Book()
    order = new_order("c-1", qty="0.5", price="100.01")
    store.record_intent(order)
    store.record_order_event(accepted(order))
    f = fill(order, "t-1", "0.2", fee="0.002")

    assert store.record_fill(f, *book.apply(inst, f)) is True

    state = store.load_state()
    loaded = state.open_orders[ClientOrderId("c-1")]
    assert (loaded.status, loaded.filled_qty, loaded.avg_px, loaded.fees) == (
        OrderStatus.PARTIALLY_FILLED,
        Decimal("0.2"),
        Decimal("100.01"),
        Decimal("0.002"),
    )
    pos = state.positions[BTC]
    assert (pos.quantity, pos.avg_px, pos.fees, pos.traded_volume) == (
        Decimal("0.2"),
        Decimal("100.01"),
        Decimal("0.002"),
        Decimal("0.2"),
    )
    assert pos.instrument == inst
    assert state.instruments == {BTC: inst}
    assert state.balances == {"USDT": Decimal("10000") - Decimal("20.002") - Decimal("0.002")}


def test_a_duplicate_fill_is_a_noop_that_says_so(store: SqlStateStore) -> None:
    inst, book = instrument(), Book()
    order = new_order("c-1", qty="0.5")
    store.record_intent(order)
    f = fill(order, "t-1", "0.5")
    position, cash = book.apply(inst, f)
    store.record_fill(f, position, cash)

    # The order is FILLED now: a replayed fill must be reported as a duplicate, not as an illegal event.
    assert store.record_fill(f, position, {"USDT": Decimal("1")}) is False
    assert count(store, fills) == 1
    assert store.load_state().balances == {"USDT": cash["USDT"]}


def test_the_same_trade_id_on_two_instruments_is_two_fills(store: SqlStateStore) -> None:
    # Binance numbers trades per symbol: trade 42 on BTCUSDT and trade 42 on ETHUSDT are different trades.
    book = Book()
    btc_order, eth_order = new_order("c-btc"), new_order("c-eth", iid=ETH)
    for order, inst in ((btc_order, instrument(BTC)), (eth_order, instrument(ETH))):
        store.record_intent(order)
        f = fill(order, "42", "0.1")
        assert store.record_fill(f, *book.apply(inst, f)) is True
    assert count(store, fills) == 2


def test_partial_fills_keep_exact_averages_across_a_restart(
    store: SqlStateStore, make_store: Callable[..., SqlStateStore]
) -> None:
    inst, book = instrument(), Book()
    order = new_order("c-1", qty="0.3", price="100.03")
    store.record_intent(order)
    order.apply(accepted(order))
    store.record_order_event(accepted(order))
    first = fill(order, "t-1", "0.1", "100.01", ts=5_000)
    order.apply(first)
    store.record_fill(first, *book.apply(inst, first))
    store.close()

    restarted = make_store()  # the next fill is applied to the order rebuilt from the database
    second = fill(order, "t-2", "0.2", "100.03", ts=6_000)
    order.apply(second)
    assert restarted.record_fill(second, *book.apply(inst, second)) is True

    state = restarted.load_state(orders_since_ns=0)
    same_order(state.orders[ClientOrderId("c-1")], order)
    assert order.avg_px == Decimal("30.007") / Decimal("0.3")  # not representable in binary floating point
    assert state.positions[BTC].avg_px == book.positions[BTC].avg_px
    assert state.open_orders == {}


def test_a_fill_the_order_cannot_take_is_refused_and_nothing_is_written(store: SqlStateStore) -> None:
    inst, book = instrument(), Book()
    order = new_order("c-1", qty="0.5")
    store.record_intent(order)
    too_big = fill(order, "t-1", "0.6")

    with pytest.raises(InvalidStateTransition, match="overfills"):
        store.record_fill(too_big, *book.apply(inst, too_big))
    assert (count(store, fills), count(store, order_events)) == (0, 1)
    assert store.load_state().positions == {}


def test_record_fill_refuses_a_position_in_another_instrument(store: SqlStateStore) -> None:
    order = new_order("c-1")
    store.record_intent(order)
    f = fill(order, "t-1", "0.1")
    wrong, cash = Book().apply(instrument(ETH), fill(new_order("x", iid=ETH), "t-x", "0.1"))

    with pytest.raises(ValueError, match=r"came with the position in ETHUSDT\.BINANCE"):
        store.record_fill(f, wrong, cash)


def test_load_state_returns_closed_orders_only_when_asked_since_when(store: SqlStateStore) -> None:
    old, recent, working = new_order("c-old"), new_order("c-recent"), new_order("c-working")
    for order in (old, recent, working):
        store.record_intent(order)
    store.record_order_event(canceled(old, ts=10_000))
    store.record_order_event(canceled(recent, ts=20_000))

    assert set(store.load_state().orders) == {"c-working"}
    assert set(store.load_state(orders_since_ns=15_000).orders) == {"c-recent", "c-working"}
    assert set(store.load_state(orders_since_ns=0).orders) == {"c-old", "c-recent", "c-working"}


def test_two_stores_on_one_database_detect_a_concurrent_change(
    make_store: Callable[..., SqlStateStore],
) -> None:
    a, b = make_store(), make_store()
    order = new_order("c-1")
    a.record_intent(order)
    b.record_order_event(accepted(order))  # b changes the order behind a's back

    with pytest.raises(StoreError, match="changed by another writer"):
        a.record_order_event(accepted(order))
    # a rebuilt its view from the database: the next write applies to the current state.
    assert a.record_order_event(canceled(order)) is True
    assert b.load_state(orders_since_ns=0).orders[ClientOrderId("c-1")].status is OrderStatus.CANCELED


def test_a_fill_recorded_by_another_store_is_a_duplicate_here(
    make_store: Callable[..., SqlStateStore],
) -> None:
    a, b = make_store(), make_store()
    inst = instrument()
    order = new_order("c-1")
    a.record_intent(order)
    f = fill(order, "t-1", "0.1")
    pos, cash = Book().apply(inst, f)
    assert a.record_fill(f, pos, cash) is True

    assert b.record_fill(f, pos, cash) is False
    assert count(b, fills) == 1


def test_fill_trade_ids_are_kept_verbatim(store: SqlStateStore) -> None:
    order = new_order("c-1")
    store.record_intent(order)
    f = fill(order, "0007-ABC", "0.1")
    store.record_fill(f, *Book().apply(instrument(), f))

    with store.engine.connect() as conn:
        assert conn.execute(select(fills.c.trade_id)).scalar_one() == TradeId("0007-ABC")
