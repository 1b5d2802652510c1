"""Several nodes on one database: each store reads and writes only its own node's rows, on both backends;
`tradewright db nodes` lists them; a database from before node ids keeps its rows as node 'default'."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal

import msgspec
import pytest
from sqlalchemy import MetaData, select

from tradewright.core.errors import InvalidOrderError, InvalidStateTransition
from tradewright.model import OrderSide
from tradewright.store import (
    AuditRecord,
    JournalEntry,
    JournalKind,
    RiskEventRecord,
    RunRecord,
    SqlStateStore,
)
from tradewright.store.config import StoreConfig
from tradewright.store.engine import make_engine
from tradewright.store.nodes import list_nodes

from .builders import BTC, STRAT, Book, accepted, fill, instrument, new_order


class Snap(msgspec.Struct, frozen=True):
    skew: Decimal


def trade(store: SqlStateStore, prefix: str, *, buys: int, fill_qty: str) -> None:
    """A run of node `prefix`: `buys` orders accepted, the first one filled, a snapshot and some logs."""
    btc = instrument(BTC)
    store.save_instrument(btc, ts_ns=1)
    store.start_run(RunRecord(run_id=f"{prefix}-run", mode="live", config_hash=prefix, started_ns=10))
    book = Book("1000")
    for i in range(buys):
        order = new_order(f"{prefix}-{i}", price="100.01", qty="0.5", side=OrderSide.BUY)
        store.record_intent(order)
        store.record_order_event(accepted(order, ts=2_000 + i))
        if i == 0:
            f = fill(order, f"{prefix}-t0", fill_qty, "100.01", ts=4_000)
            store.record_fill(f, *book.apply(btc, f))
    store.save_strategy_snapshot(STRAT, 1, Snap(Decimal(fill_qty)), ts_ns=50)
    store.record_audit(AuditRecord(ts_ns=60, actor="operator", action="halt", reason=f"{prefix} by hand"))
    store.record_risk_event(RiskEventRecord(ts_ns=70, kind="breaker", message=f"{prefix} burst"))
    store.record_journal(
        JournalEntry(
            ts_ns=90,
            kind=JournalKind.ENTRY,
            strategy_id=STRAT,
            instrument_id=BTC,
            side=OrderSide.BUY,
            price=Decimal("100.01"),
            quantity=Decimal(fill_qty),
            reason=f"{prefix} entry",
        )
    )


def test_two_nodes_on_one_database_see_only_their_own_rows(make_store: Callable[..., SqlStateStore]) -> None:
    a, b = make_store(node_id="node-a"), make_store(node_id="node-b")
    trade(a, "a", buys=3, fill_qty="0.2")
    trade(b, "b", buys=2, fill_qty="0.3")

    sa, sb = a.load_state(), b.load_state()
    assert set(sa.open_orders) == {"a-0", "a-1", "a-2"} and set(sb.open_orders) == {"b-0", "b-1"}
    assert sa.positions[BTC].quantity == Decimal("0.2") and sb.positions[BTC].quantity == Decimal("0.3")
    assert sa.balances["USDT"] == Decimal("1000") - Decimal("0.2") * Decimal("100.01") - Decimal("0.001")
    assert sb.balances["USDT"] == Decimal("1000") - Decimal("0.3") * Decimal("100.01") - Decimal("0.001")
    assert sa.snapshots[STRAT].state != sb.snapshots[STRAT].state
    assert [f.trade_id for f in sa.fills_since_snapshot[STRAT]] == []  # the snapshot came after its fill
    assert sa.last_run is not None and sa.last_run.run_id == "a-run"
    assert sb.last_run is not None and sb.last_run.run_id == "b-run"
    assert [r.reason for r in a.read_audit()] == ["a by hand"]
    assert [r.message for r in b.read_risk_events()] == ["b burst"]
    assert [j.reason for j in a.read_journal()] == ["a entry"]
    assert [f.trade_id for f in b.read_fills()] == ["b-t0"]


def test_a_node_cannot_touch_another_nodes_order(make_store: Callable[..., SqlStateStore]) -> None:
    a, b = make_store(node_id="node-a"), make_store(node_id="node-b")
    trade(a, "a", buys=1, fill_qty="0.2")
    order = new_order("a-0", price="100.01", qty="0.5", side=OrderSide.BUY)

    with pytest.raises(InvalidOrderError, match="already recorded by node 'node-a'"):
        b.record_intent(order)
    with pytest.raises(InvalidStateTransition, match="not in the store"):
        b.record_order_event(accepted(order, ts=9_000))
    assert set(a.load_state().open_orders) == {"a-0"}


def test_every_row_a_node_writes_carries_its_node_id(
    make_store: Callable[..., SqlStateStore], url: str
) -> None:
    trade(make_store(node_id="node-a"), "a", buys=2, fill_qty="0.2")
    trade(make_store(node_id="node-b"), "b", buys=2, fill_qty="0.3")

    engine = make_engine(StoreConfig(url=url))
    try:
        with engine.connect() as conn:
            meta = MetaData()
            meta.reflect(bind=conn)
            with_rows = 0
            for table in meta.sorted_tables:
                if "node_id" not in table.c:
                    continue
                owners = set(conn.execute(select(table.c.node_id)).scalars())
                with_rows += bool(owners)
                assert owners <= {"node-a", "node-b"}, table.name
            # instruments, API keys and accounts are shared: they carry no node id
            assert {"instruments", "api_keys", "api_users"}.isdisjoint(
                {t.name for t in meta.sorted_tables if "node_id" in t.c}
            )
            assert with_rows >= 10  # runs, orders, events, fills, positions, balances, snapshots, logs
    finally:
        engine.dispose()


def test_db_nodes_lists_each_node_with_its_last_run_and_holdings(
    make_store: Callable[..., SqlStateStore], url: str
) -> None:
    a, b = make_store(node_id="node-a"), make_store(node_id="node-b")
    trade(a, "a", buys=3, fill_qty="0.2")
    trade(b, "b", buys=2, fill_qty="0.3")
    a.end_run("a-run", ended_ns=100, exit_status="ok")

    found = {n.node_id: n for n in list_nodes(make_engine(StoreConfig(url=url)))}
    assert set(found) == {"node-a", "node-b"}
    # the filled orders are only partly filled: every order is still open
    assert (found["node-a"].open_orders, found["node-a"].fills, found["node-a"].running) == (3, 1, False)
    assert (found["node-b"].open_orders, found["node-b"].orders, found["node-b"].running) == (2, 2, True)
    assert found["node-a"].last_exit_status == "ok" and found["node-b"].open_positions == 1

    out = subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", "db", "nodes", "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "2 node(s)" in lines[0]
    assert any(line.startswith("node-a") and " ok " in line for line in lines)
    assert any(line.startswith("node-b") and " running " in line for line in lines)
    js = subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", "db", "nodes", "--json", "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert [json.loads(line)["node_id"] for line in js.stdout.splitlines()] == ["node-a", "node-b"]


def test_rows_from_before_node_ids_belong_to_node_default(
    make_store: Callable[..., SqlStateStore], url: str
) -> None:
    from tradewright.store import migrate

    engine = make_engine(StoreConfig(url=url))
    migrate.upgrade(engine, "0004")
    engine.dispose()
    # Write at revision 0004 with plain SQL, as a node of the previous version would have.
    engine = make_engine(StoreConfig(url=url))
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO balances (currency, total, ts_last) VALUES ('USDT', '123.456', 5)")
        conn.exec_driver_sql(
            "INSERT INTO runs (run_id, mode, config_hash, started_ns) VALUES ('old', 'live', 'x', 1)"
        )
    migrate.upgrade(engine, "head")
    engine.dispose()

    old, other = make_store(), make_store(node_id="node-b")
    assert old.load_state().balances == {"USDT": Decimal("123.456")}
    assert old.load_state().last_run is not None
    assert other.load_state().balances == {} and other.load_state().last_run is None


def test_a_bad_node_id_is_refused_naming_the_key() -> None:
    from tradewright.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"store\.node_id must be 1-40 letters"):
        StoreConfig(node_id="no spaces; please")
