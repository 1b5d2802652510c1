"""When the database cannot commit — disk full, PostgreSQL gone, locked — the store raises StoreError naming
the backend and the operation, keeps nothing of the failed transaction, and loses nothing committed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from tradewright.core.errors import StoreError
from tradewright.core.ids import ClientOrderId
from tradewright.model import OrderStatus
from tradewright.store import SqlStateStore, StoreConfig
from tradewright.store.schema import fills, order_events, orders

from .builders import BTC, Book, fill, instrument, new_order
from .conftest import PgSchema, pg_admin, pg_unavailable


def counts(store: SqlStateStore) -> tuple[int, int, int]:
    with store.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (orders, order_events, fills)
        )


def limit_sqlite_file(store: SqlStateStore, extra_pages: int) -> None:
    """Simulate a full disk: new connections may grow the file by `extra_pages` pages only."""
    with store.engine.connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())

    @event.listens_for(store.engine, "connect")
    def _limit(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + extra_pages}")

    store.engine.dispose()


def test_sqlite_on_a_full_disk_raises_store_error_and_keeps_every_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'full.sqlite'}"
    store = SqlStateStore(StoreConfig(url=url))
    inst, book = instrument(), Book(cash="1000000")
    limit_sqlite_file(store, extra_pages=20)
    committed: list[ClientOrderId] = []
    expected_qty = Decimal(0)

    with pytest.raises(StoreError) as failure:
        for i in range(10_000):
            order = new_order(f"c-{i:05d}-" + "x" * 200, qty="0.1")  # long ids fill pages quickly
            store.record_intent(order)
            f = fill(order, f"t-{i}", "0.1")
            position, cash = book.apply(inst, f)
            store.record_fill(f, position, cash)
            committed.append(order.client_order_id)
            expected_qty = position.quantity

    message = str(failure.value)
    assert message.startswith(f"sqlite {tmp_path / 'full.sqlite'}: record_")
    assert "full" in message
    assert len(committed) > 0
    store.close()

    reopened = SqlStateStore(StoreConfig(url=url))
    state = reopened.load_state(orders_since_ns=0)
    filled = [cid for cid, o in state.orders.items() if o.status is OrderStatus.FILLED]
    assert sorted(filled) == committed  # every committed fill is there; the failed one is not
    assert state.positions[BTC].quantity == expected_qty
    _, events, fill_rows = counts(reopened)
    assert fill_rows == len(committed)
    assert events == 2 * len(committed) + (
        len(state.orders) - len(committed)
    )  # intents without a fill: 1 event
    assert reopened.record_intent(new_order("c-after")) is True  # with space again, the store carries on
    reopened.close()


def test_sqlite_full_disk_in_a_batch_loses_the_whole_batch_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'full.sqlite'}"
    store = SqlStateStore(StoreConfig(url=url))
    store.record_intent(new_order("c-committed"))
    limit_sqlite_file(store, extra_pages=2)

    with pytest.raises(StoreError, match="full"), store.batch():
        for i in range(5_000):
            store.record_intent(new_order(f"c-{i}-" + "y" * 300))
    store.close()

    reopened = SqlStateStore(StoreConfig(url=url))
    assert set(reopened.load_state().open_orders) == {"c-committed"}
    reopened.close()


def test_sqlite_locked_by_another_writer_beyond_the_busy_timeout_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite"
    store = SqlStateStore(StoreConfig(url=f"sqlite:///{path}", busy_timeout_ms=50))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    with pytest.raises(StoreError, match=r"record_intent failed.*locked"):
        store.record_intent(new_order("c-1"))

    other.execute("ROLLBACK")
    other.close()
    assert store.record_intent(new_order("c-1")) is True
    store.close()


def test_postgres_unreachable_at_open_raises_store_error_naming_it() -> None:
    url = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test?connect_timeout=2"

    with pytest.raises(StoreError) as failure:
        SqlStateStore(StoreConfig(url=url))

    message = str(failure.value)
    assert message.startswith("postgresql postgresql+psycopg://postgres:***@127.0.0.1:1/test")
    assert "preparing the schema failed" in message
    assert "s3cret" not in message


@pytest.fixture
def pg_schema() -> Any:
    reason = pg_unavailable()
    if reason is not None:
        pytest.skip(reason)
    schema = PgSchema()
    yield schema
    schema.drop()


def kill_store_connections(schema: PgSchema) -> int:
    with pg_admin() as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (schema.app,),
        ).fetchall()
    return len(rows)


@pytest.mark.postgres
def test_postgres_connection_terminated_mid_run_raises_store_error_and_keeps_commits(
    pg_schema: PgSchema,
) -> None:
    store = SqlStateStore(StoreConfig(url=pg_schema.url))
    inst, book = instrument(), Book()
    first = new_order("c-1")
    store.record_intent(first)
    f = fill(first, "t-1", "0.2")
    position, cash = book.apply(inst, f)
    store.record_fill(f, position, cash)
    second = new_order("c-2")

    assert kill_store_connections(pg_schema) >= 1
    with pytest.raises(StoreError) as failure:
        store.record_intent(second)

    message = str(failure.value)
    assert message.startswith("postgresql postgresql+psycopg://postgres@127.0.0.1:5432/test")
    assert "record_intent failed, nothing of it was committed" in message
    # The pool reconnects: retrying the write works, and nothing committed before was lost.
    assert store.record_intent(second) is True
    state = store.load_state()
    assert set(state.open_orders) == {"c-1", "c-2"}
    assert state.open_orders[ClientOrderId("c-1")].filled_qty == Decimal("0.2")
    assert state.positions[BTC].quantity == Decimal("0.2")
    assert state.balances == cash
    store.close()


@pytest.mark.postgres
def test_postgres_connection_terminated_inside_a_batch_loses_the_batch_only(pg_schema: PgSchema) -> None:
    store = SqlStateStore(StoreConfig(url=pg_schema.url))
    store.record_intent(new_order("c-committed"))

    with pytest.raises(StoreError, match=r"record_intent failed"), store.batch():
        store.record_intent(new_order("c-1"))
        store.record_intent(new_order("c-2"))
        kill_store_connections(pg_schema)
        store.record_intent(new_order("c-3"))

    assert set(store.load_state().open_orders) == {"c-committed"}
    assert counts(store) == (1, 1, 0)
    store.close()


@pytest.mark.postgres
def test_postgres_connection_terminated_before_a_fill_writes_nothing_of_it(pg_schema: PgSchema) -> None:
    store = SqlStateStore(StoreConfig(url=pg_schema.url))
    inst, book = instrument(), Book()
    order = new_order("c-1")
    store.record_intent(order)
    f = fill(order, "t-1", "0.5")
    position, cash = book.apply(inst, f)

    kill_store_connections(pg_schema)
    with pytest.raises(StoreError, match="record_fill failed"):
        store.record_fill(f, position, cash)

    state = store.load_state()
    assert state.open_orders[ClientOrderId("c-1")].status is OrderStatus.SUBMITTED
    assert state.positions == {}
    assert state.balances == {}
    # Retrying the same call is safe and now succeeds exactly once.
    assert store.record_fill(f, position, cash) is True
    assert store.record_fill(f, position, cash) is False
    store.close()


def test_open_refuses_a_database_at_an_older_revision(
    make_store: Callable[..., SqlStateStore], url: str
) -> None:
    from tradewright.store import migrate
    from tradewright.store.engine import make_engine

    engine = make_engine(StoreConfig(url=url))
    migrate.upgrade(engine, "0001")
    engine.dispose()

    with pytest.raises(
        StoreError, match=r"schema is at revision 0001, the code needs 0005; run `tradewright db upgrade`"
    ):
        make_store()


def test_open_refuses_tables_it_did_not_create(make_store: Callable[..., SqlStateStore], url: str) -> None:
    from tradewright.store.engine import make_engine

    engine = make_engine(StoreConfig(url=url))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    engine.dispose()

    with pytest.raises(StoreError, match=r"tables \['orders'\] exist but carry no schema revision"):
        make_store()
