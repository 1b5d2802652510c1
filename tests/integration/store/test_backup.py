"""`tradewright db backup` / `restore`: backup → wipe → restore gives the same store, on both backends and
across them; a damaged archive or an occupied target changes nothing."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import MetaData, select

from tradewright.core.errors import StoreError
from tradewright.core.ids import ClientOrderId, StrategyId
from tradewright.model import CancelAllOrders, OrderSide, Position
from tradewright.store import (
    AuditRecord,
    JournalEntry,
    JournalKind,
    RiskEventRecord,
    RunRecord,
    SqlStateStore,
    StoreConfig,
)
from tradewright.store.backup import backup, restore
from tradewright.store.engine import make_engine

from .builders import BTC, ETH, STRAT, Book, accepted, canceled, fill, instrument, new_order, pending_cancel
from .conftest import _url_for


class Snapshot(msgspec.Struct, frozen=True):
    inventory_target: Decimal
    spread_bps: int


def populate(store: SqlStateStore) -> None:
    """A store as a day of trading leaves it: orders in every state, fills with positions, balances,
    snapshots, a run, audit, risk events and the journal — with awkward exact decimals."""
    btc, eth = instrument(BTC), instrument(ETH, tick="0.001", lot="0.0001")
    store.save_instrument(btc, ts_ns=1)
    store.save_instrument(eth, ts_ns=1)
    store.start_run(RunRecord(run_id="run-1", mode="live", config_hash="abc", started_ns=10))
    book = Book("10000.000000000000000001")
    for i in range(30):
        order = new_order(f"o{i}", price="100.01", qty="0.5", side=OrderSide.BUY if i % 2 else OrderSide.SELL)
        store.record_intent(order)
        store.record_order_event(accepted(order, ts=2_000 + i))
        if i % 3 == 0:
            f = fill(order, f"t{i}", "0.2", "100.01", fee="0.00000001", ts=4_000 + i)
            store.record_fill(f, *book.apply(btc, f))
        elif i % 3 == 1:
            store.record_order_event(pending_cancel(order, ts=3_000 + i))
            store.record_order_event(canceled(order, ts=3_100 + i))
    e_order = new_order("e1", iid=ETH, price="2500.123", qty="1.2345")
    store.record_intent(e_order)
    store.record_order_event(accepted(e_order))
    f = fill(e_order, "te1", "1.2345", "2500.123", fee="-0.1234567")
    store.record_fill(f, *book.apply(eth, f))
    store.save_strategy_snapshot(STRAT, 1, Snapshot(Decimal("0.001"), 12), ts_ns=50)
    store.record_audit(AuditRecord(ts_ns=60, actor="operator", action="halt", reason="by hand"))
    store.record_risk_event(
        RiskEventRecord(ts_ns=70, kind="breaker", message="reject burst", instrument_id=BTC, detail="{}")
    )
    store.record_command(CancelAllOrders(ts_init=80, actor=StrategyId("mm-1")), reason="flatten")
    store.record_journal(
        JournalEntry(
            ts_ns=90,
            kind=JournalKind.ENTRY,
            strategy_id=STRAT,
            instrument_id=BTC,
            side=OrderSide.BUY,
            price=Decimal("100.01"),
            quantity=Decimal("0.2"),
            reason="pullback to VWAP",
            r_multiple=Decimal("-0.3333333333333333333"),
            regime="trend",
            client_order_id=ClientOrderId("o0"),
        )
    )
    store.end_run("run-1", ended_ns=100, exit_status="ok")


def dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every store table, in primary-key order, as Python values."""
    engine = make_engine(StoreConfig(url=url))
    try:
        with engine.connect() as conn:
            meta = MetaData()
            meta.reflect(bind=conn)
            out = {}
            for table in meta.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                rows = conn.execute(select(*table.columns).order_by(*order)).all()
                out[table.name] = [tuple(_norm(v) for v in r) for r in rows]
            return out
    finally:
        engine.dispose()


def _norm(value: object) -> object:
    # Money reads back as Decimal on PostgreSQL and as its plain text on SQLite: compare the numbers.
    if isinstance(value, Decimal):
        return ("dec", str(value))
    if isinstance(value, str):
        try:
            return (
                ("dec", str(Decimal(value)))
                if value and value[0] in "-0123456789" and "." in value
                else value
            )
        except ArithmeticError:
            return value
    return value


def _position(p: Position) -> tuple[object, ...]:
    return (p.quantity, p.realized_pnl, p.fees, p.traded_volume, p.open_lots())


@pytest.fixture
def other_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database on the same backend (the restore target)."""
    target = tmp_path / "target"
    target.mkdir()
    yield from _url_for(backend, target)


def test_backup_then_restore_into_an_empty_database_gives_the_same_store(
    make_store: Callable[..., SqlStateStore], url: str, other_url: str, tmp_path: Path
) -> None:
    store = make_store()
    populate(store)
    before = store.load_state()
    archive = tmp_path / "store.twbak"

    summary = backup(make_engine(StoreConfig(url=url)), archive)
    restored = restore(make_engine(StoreConfig(url=other_url)), archive)

    assert restored.rows == summary.rows and summary.rows["orders"] == 31 and summary.rows["fills"] == 11
    assert dump(other_url) == dump(url)
    again = SqlStateStore(StoreConfig(url=other_url))
    try:
        after = again.load_state()
        assert {i: _position(p) for i, p in after.positions.items()} == {
            i: _position(p) for i, p in before.positions.items()
        }
        assert after.balances == before.balances
        assert after.balances["USDT"] == before.balances["USDT"]  # exact to the last of 21 digits
        assert set(after.open_orders) == set(before.open_orders)
        # A restored store keeps working: new rows get fresh ids (sequences moved past the restored ones).
        again.record_audit(AuditRecord(ts_ns=999, actor="operator", action="resume", reason="after restore"))
    finally:
        again.close()


@pytest.mark.postgres
def test_a_sqlite_backup_restores_into_postgresql_and_back(tmp_path: Path) -> None:
    pg = _url_for("postgresql", tmp_path / "pg")
    (tmp_path / "pg").mkdir()
    pg_url = next(pg)
    try:
        sqlite_url = f"sqlite:///{tmp_path / 'a.sqlite'}"
        store = SqlStateStore(StoreConfig(url=sqlite_url))
        populate(store)
        state = store.load_state()
        store.close()
        backup(make_engine(StoreConfig(url=sqlite_url)), tmp_path / "a.twbak")
        restore(make_engine(StoreConfig(url=pg_url)), tmp_path / "a.twbak")
        backup(make_engine(StoreConfig(url=pg_url)), tmp_path / "b.twbak")
        back_url = f"sqlite:///{tmp_path / 'b.sqlite'}"
        restore(make_engine(StoreConfig(url=back_url)), tmp_path / "b.twbak")

        assert dump(back_url) == dump(sqlite_url)
        pg_store = SqlStateStore(StoreConfig(url=pg_url))
        try:
            assert pg_store.load_state().balances == state.balances
        finally:
            pg_store.close()
    finally:
        next(pg, None)


def test_restore_refuses_a_target_that_already_holds_a_store(
    make_store: Callable[..., SqlStateStore], url: str, tmp_path: Path
) -> None:
    populate(make_store())
    archive = tmp_path / "s.twbak"
    backup(make_engine(StoreConfig(url=url)), archive)
    before = dump(url)

    with pytest.raises(StoreError, match="already holds tables"):
        restore(make_engine(StoreConfig(url=url)), archive)
    assert dump(url) == before


@pytest.mark.parametrize("damage", ["truncated", "altered", "not-a-backup"])
def test_a_damaged_archive_restores_nothing(
    make_store: Callable[..., SqlStateStore], url: str, other_url: str, tmp_path: Path, damage: str
) -> None:
    populate(make_store())
    archive = tmp_path / "s.twbak"
    backup(make_engine(StoreConfig(url=url)), archive)
    lines = gzip.decompress(archive.read_bytes()).splitlines(keepends=True)
    if damage == "truncated":
        lines = lines[: len(lines) // 2]
    elif damage == "altered":
        victim = next(i for i, line in enumerate(lines) if b'"t":"balances"' in line)
        lines[victim] = lines[victim].replace(b"1", b"2", 1)
    else:
        lines = [b'{"hello": "world"}\n']
    archive.write_bytes(gzip.compress(b"".join(lines)))

    with pytest.raises(StoreError, match=r"damaged|truncated|not a tradewright"):
        restore(make_engine(StoreConfig(url=other_url)), archive)
    assert dump(other_url) == {}  # not even the schema was left behind


def test_backup_of_a_database_without_a_store_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store schema"):
        backup(make_engine(StoreConfig(url=f"sqlite:///{tmp_path / 'empty.sqlite'}")), tmp_path / "x.twbak")
    assert not (tmp_path / "x.twbak").exists()


def test_db_backup_and_restore_commands_round_trip(
    make_store: Callable[..., SqlStateStore], url: str, other_url: str, tmp_path: Path
) -> None:
    populate(make_store())
    archive = tmp_path / "cli.twbak"
    run = [sys.executable, "-m", "tradewright.cli.main", "db"]

    out = subprocess.run([*run, "backup", str(archive), "--url", url], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "rows" in out.stdout and str(archive) in out.stdout
    back = subprocess.run([*run, "restore", str(archive), "--url", other_url], capture_output=True, text=True)
    assert back.returncode == 0, back.stderr
    assert dump(other_url) == dump(url)
    again = subprocess.run(
        [*run, "restore", str(archive), "--url", other_url], capture_output=True, text=True
    )
    assert again.returncode == 2 and "already holds tables" in again.stderr
