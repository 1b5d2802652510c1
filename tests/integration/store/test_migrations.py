"""Migrations ship inside the package and run through `tradewright db`; the models never drift from them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import inspect

from tradewright.cli.main import main
from tradewright.core.errors import StoreError
from tradewright.core.ids import ClientOrderId
from tradewright.model import OrderSide
from tradewright.store import JournalEntry, JournalKind, SqlStateStore, StoreConfig, migrate
from tradewright.store.engine import make_engine
from tradewright.store.schema import metadata

from .builders import BTC, STRAT, Book, fill, instrument, new_order

HEAD = migrate.head_revision()


def db(*argv: str) -> int:
    return main(["db", *argv])


def tables(url: str) -> set[str]:
    engine = make_engine(StoreConfig(url=url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_from_empty_builds_the_head_schema_without_drift(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert db("upgrade", "--url", url) == 0
    assert f"upgraded empty -> {HEAD}" in capsys.readouterr().out
    assert tables(url) == set(metadata.tables)

    assert db("check", "--url", url) == 0
    assert "schema matches the code" in capsys.readouterr().out
    assert db("current", "--url", url) == 0
    assert capsys.readouterr().out.rstrip().endswith(f": {HEAD} (head)")


def test_upgrade_step_by_step_from_empty_through_the_previous_revision(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert db("upgrade", "0001", "--url", url) == 0
    assert tables(url) == set(metadata.tables) - {"trade_journal", "api_keys", "api_users", "saga_workflows", "saga_steps"}
    assert db("current", "--url", url) == 1
    assert f"0001 (the code's newest is {HEAD}" in capsys.readouterr().out

    assert db("upgrade", "0002", "--url", url) == 0
    assert tables(url) == set(metadata.tables) - {"api_keys", "api_users", "saga_workflows", "saga_steps"}
    assert db("upgrade", "--url", url) == 0
    assert f"upgraded 0002 -> {HEAD}" in capsys.readouterr().out
    assert db("check", "--url", url) == 0
    assert db("upgrade", "--url", url) == 0
    assert f"already at {HEAD}" in capsys.readouterr().out


def test_upgrading_a_database_with_data_from_the_previous_revision_keeps_it(
    url: str, make_store: Callable[..., SqlStateStore], capsys: pytest.CaptureFixture[str]
) -> None:
    store = make_store()
    order = new_order("c-1", qty="0.5")
    store.record_intent(order)
    f = fill(order, "t-1", "0.2")
    store.record_fill(f, *Book().apply(instrument(), f))
    store.close()
    assert db("downgrade", "0001", "--url", url) == 0
    assert f"downgraded {HEAD} -> 0001" in capsys.readouterr().out
    with pytest.raises(StoreError, match="run `tradewright db upgrade`"):
        SqlStateStore(StoreConfig(url=url))

    assert db("upgrade", "--url", url) == 0

    upgraded = make_store()
    state = upgraded.load_state()
    assert state.open_orders[ClientOrderId("c-1")].filled_qty == Decimal("0.2")
    assert state.positions[BTC].quantity == Decimal("0.2")
    entry = JournalEntry(
        ts_ns=1,
        strategy_id=STRAT,
        instrument_id=BTC,
        kind=JournalKind.ENTRY,
        side=OrderSide.BUY,
        price=Decimal("100.01"),
        quantity=Decimal("0.2"),
        reason="the new table works",
    )
    upgraded.record_journal(entry)
    assert upgraded.read_journal() == [entry]
    assert db("check", "--url", url) == 0


def test_downgrade_to_base_removes_every_table(url: str, make_store: Callable[..., SqlStateStore]) -> None:
    make_store().close()

    assert db("downgrade", "base", "--url", url) == 0

    assert tables(url) == set()


def test_check_reports_drift_between_database_and_code(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db("upgrade", "--url", url)
    engine = make_engine(StoreConfig(url=url))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_orders_status")
    engine.dispose()

    assert db("check", "--url", url) == 2

    err = capsys.readouterr().err
    assert "schema differs from the code" in err
    assert "ix_orders_status" in err


def test_an_unknown_revision_is_a_clear_error(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert db("upgrade", "9999", "--url", url) == 2
    assert "upgrade to 9999 failed" in capsys.readouterr().err


def test_the_url_comes_from_the_environment_when_not_given(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRADEWRIGHT_STORE_URL", url)

    assert db("upgrade") == 0
    engine = make_engine(StoreConfig(url=url))
    assert migrate.current_revision(engine) == HEAD
    engine.dispose()


def test_opening_the_store_on_an_empty_database_creates_the_head_schema(
    url: str, make_store: Callable[..., SqlStateStore]
) -> None:
    store = make_store()

    assert migrate.current_revision(store.engine) == migrate.head_revision() == "0005"
    migrate.check(store.engine)
