"""Group commit: `with store.batch():` makes many writes one transaction, durable when the block exits."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from tradewright.core.errors import InvalidStateTransition, StoreError
from tradewright.core.ids import ClientOrderId
from tradewright.model import OrderStatus
from tradewright.store import AuditRecord, SqlStateStore
from tradewright.store.schema import order_events, orders

from .builders import BTC, Book, accepted, canceled, fill, instrument, new_order


def committed_orders(make_store: Callable[..., SqlStateStore]) -> set[str]:
    """What another process sees: only committed rows."""
    return set(make_store().load_state(orders_since_ns=0).orders)


def test_writes_in_a_batch_are_invisible_to_others_until_it_exits(
    store: SqlStateStore, make_store: Callable[..., SqlStateStore]
) -> None:
    observer = make_store()
    with store.batch():
        for i in range(20):
            store.record_intent(new_order(f"c-{i}"))
        store.record_audit(AuditRecord(ts_ns=1, actor="cli", action="quote", reason="batch test"))
        assert len(store.load_state().open_orders) == 20  # the batch reads its own writes
        assert observer.load_state().open_orders == {}  # nobody else does (and nobody waits)
        assert observer.read_audit() == []
    assert len(observer.load_state().open_orders) == 20
    assert len(observer.read_audit()) == 1


def test_a_batch_commits_all_its_writes_or_none(
    store: SqlStateStore, make_store: Callable[..., SqlStateStore]
) -> None:
    store.record_intent(new_order("c-before"))

    with pytest.raises(RuntimeError, match="strategy blew up"), store.batch():
        store.record_intent(new_order("c-1"))
        store.record_order_event(canceled(new_order("c-before")))
        raise RuntimeError("strategy blew up")

    state = make_store().load_state(orders_since_ns=0)
    assert set(state.orders) == {"c-before"}
    assert state.orders[ClientOrderId("c-before")].status is OrderStatus.SUBMITTED
    # The writing store's own view was rolled back too: the order takes the cancel now.
    assert store.record_order_event(canceled(new_order("c-before"))) is True


def test_a_refusal_inside_a_batch_leaves_the_rest_of_it_to_commit(
    store: SqlStateStore, make_store: Callable[..., SqlStateStore]
) -> None:
    order = new_order("c-1")
    with store.batch():
        store.record_intent(order)
        store.record_order_event(canceled(order))
        with pytest.raises(InvalidStateTransition):
            store.record_order_event(accepted(order))  # refused before writing anything
        store.record_intent(new_order("c-2"))

    assert committed_orders(make_store) == {"c-1", "c-2"}


def test_a_fill_and_many_order_events_in_one_batch(store: SqlStateStore) -> None:
    inst, book = instrument(), Book()
    with store.batch():
        for i in range(10):
            order = new_order(f"c-{i}", qty="0.1")
            store.record_intent(order)
            store.record_order_event(accepted(order))
            f = fill(order, f"t-{i}", "0.1")
            position, cash = book.apply(inst, f)
            assert store.record_fill(f, position, cash) is True
            assert store.record_fill(f, position, cash) is False  # the duplicate is seen inside the batch

    state = store.load_state(orders_since_ns=0)
    assert all(o.status is OrderStatus.FILLED for o in state.orders.values())
    assert state.positions[BTC].quantity == book.positions[BTC].quantity
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(order_events)).scalar_one() == 30


def test_nested_batches_join_the_outer_one(
    store: SqlStateStore, make_store: Callable[..., SqlStateStore]
) -> None:
    with pytest.raises(KeyError), store.batch():
        with store.batch():
            store.record_intent(new_order("c-inner"))
        raise KeyError("outer fails after the inner block ended")

    assert committed_orders(make_store) == set()


def test_a_batch_whose_write_failed_refuses_further_writes_and_rolls_back(store: SqlStateStore) -> None:
    store.record_intent(new_order("c-1"))

    with pytest.raises(StoreError, match="batch rolled back"), store.batch():
        store.record_intent(new_order("c-2"))
        with pytest.raises(StoreError, match="record_audit failed"):  # foreign key: no such run
            store.record_audit(AuditRecord(ts_ns=1, actor="cli", action="halt", run_id="no-such-run"))
        with pytest.raises(StoreError, match="refused: this batch already failed"):
            store.record_intent(new_order("c-3"))

    with store.engine.connect() as conn:
        assert conn.execute(select(orders.c.client_order_id)).scalars().all() == ["c-1"]
    assert store.record_intent(new_order("c-2")) is True  # the store itself is fine afterwards


def test_writers_on_many_threads_and_two_stores_all_commit(
    store: SqlStateStore, make_store: Callable[..., SqlStateStore]
) -> None:
    # Two stores on one database stand for two processes: SQLite serialises them with its write lock and
    # busy timeout, PostgreSQL with row locks; within a store, one lock serialises the threads.
    other = make_store()

    def write(worker: int) -> None:
        target = store if worker % 2 else other
        for i in range(25):
            if i % 5 == 0:
                with target.batch():
                    target.record_intent(new_order(f"w{worker}-{i}-a"))
                    target.record_intent(new_order(f"w{worker}-{i}-b"))
            else:
                target.record_intent(new_order(f"w{worker}-{i}"))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(store.load_state().open_orders) == 6 * 30
