"""Instruments, positions, balances, strategy snapshots, runs, audit, risk events and the trade journal."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import msgspec
import pytest

from tradewright.core.errors import StoreError
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.model import CancelAllOrders, Instrument, InstrumentKind, OrderSide, Position
from tradewright.store import (
    AuditRecord,
    JournalEntry,
    JournalKind,
    RiskEventRecord,
    RunRecord,
    SqlStateStore,
)

from .builders import BTC, ETH, STRAT, Book, fill, instrument, new_order, submit


class MmState(msgspec.Struct, frozen=True):
    inventory_target: Decimal
    spread_bps: int
    last_quote_ns: int


def test_an_instrument_round_trips_with_every_field(store: SqlStateStore) -> None:
    future = Instrument(
        id=InstrumentId.parse("BTC-27JUN26.DERIBIT"),
        kind=InstrumentKind.FUTURE,
        base="BTC",
        quote="USD",
        settle="BTC",
        tick_size=Decimal("0.5"),
        lot_size=Decimal("10"),
        min_size=Decimal("10"),
        max_size=Decimal("1000000"),
        maker_fee=Decimal("-0.0001"),
        taker_fee=Decimal("0.0005"),
        multiplier=Decimal("10"),
        inverse=True,
        expiry_ns=1_782_547_200_000_000_000,
    )
    store.save_instrument(future, ts_ns=1)
    store.save_instrument(instrument(), ts_ns=1)

    assert store.load_state().instruments == {future.id: future, BTC: instrument()}


def test_saving_an_instrument_again_replaces_its_definition(store: SqlStateStore) -> None:
    store.save_instrument(instrument(tick="0.01"), ts_ns=1)
    store.save_instrument(instrument(tick="0.1"), ts_ns=2)

    assert store.load_state().instruments[BTC].tick_size == Decimal("0.1")


def test_a_position_keeps_its_fifo_lots_and_realised_pnl(
    store: SqlStateStore, make_store: Callable[..., SqlStateStore]
) -> None:
    inst, book = instrument(), Book()
    buys = [new_order("b-1", qty="0.3", price="100.00"), new_order("b-2", qty="0.2", price="101.50")]
    sell = new_order("s-1", side=OrderSide.SELL, qty="0.4", price="103.00")
    for order in [*buys, sell]:
        store.record_intent(order)
        f = fill(order, f"t-{order.client_order_id}", str(order.quantity))
        store.record_fill(f, *book.apply(inst, f))
    store.close()

    loaded = make_store().load_state().positions[BTC]
    expected = book.positions[BTC]
    assert (loaded.quantity, loaded.avg_px, loaded.realized_pnl, loaded.fees, loaded.traded_volume) == (
        expected.quantity,
        expected.avg_px,
        expected.realized_pnl,
        expected.fees,
        expected.traded_volume,
    )
    # The rebuilt position closes the same lot next: its PnL matches the live one exactly.
    assert loaded.apply_fill(OrderSide.SELL, Decimal("104"), Decimal("0.1")) == expected.apply_fill(
        OrderSide.SELL, Decimal("104"), Decimal("0.1")
    )


def test_save_portfolio_overwrites_positions_and_balances_together(store: SqlStateStore) -> None:
    short = Position(instrument(ETH))
    short.apply_fill(OrderSide.SELL, Decimal("2500.5"), Decimal("1.25"))

    store.save_portfolio([short], {"USDT": Decimal("5000.123"), "ETH": Decimal("-0")}, ts_ns=10)
    store.save_portfolio([], {"USDT": Decimal("4999")}, ts_ns=11)

    state = store.load_state()
    assert state.positions[ETH].quantity == Decimal("-1.25")
    assert state.positions[ETH].avg_px == Decimal("2500.5")
    assert state.balances == {"USDT": Decimal("4999"), "ETH": Decimal("0")}
    assert state.instruments[ETH] == instrument(ETH)


def test_the_latest_snapshot_and_the_fills_after_it_come_back(
    store: SqlStateStore, make_store: Callable[..., SqlStateStore]
) -> None:
    inst, book = instrument(), Book()
    other = StrategyId("trend-2")
    orders = [new_order(f"c-{i}", qty="0.1") for i in range(4)] + [new_order("o-1", strategy=other)]
    for order in orders:
        store.record_intent(order)

    def fill_order(i: int) -> None:
        f = fill(orders[i], f"t-{i}", "0.1", ts=10_000 + i)
        store.record_fill(f, *book.apply(inst, f))

    fill_order(0)
    store.save_strategy_snapshot(STRAT, 1, MmState(Decimal("0.1"), 5, 10), ts_ns=20_000)
    fill_order(1)
    saved = store.save_strategy_snapshot(STRAT, 2, MmState(Decimal("0.25"), 7, 11), ts_ns=30_000)
    fill_order(2)
    fill_order(3)
    f_other = fill(orders[4], "t-other", "0.1")
    store.record_fill(f_other, *book.apply(inst, f_other))  # another strategy's fill: not STRAT's to replay
    store.close()

    state = make_store().load_state()
    snapshot = state.snapshots[STRAT]
    assert snapshot == saved
    assert (snapshot.version, snapshot.ts_ns) == (2, 30_000)
    assert snapshot.decode(MmState) == MmState(Decimal("0.25"), 7, 11)
    assert [f.trade_id for f in state.fills_since_snapshot[STRAT]] == ["t-2", "t-3"]
    assert other not in state.snapshots


def test_runs_are_started_and_ended_and_stamp_the_logs(store: SqlStateStore) -> None:
    store.start_run(RunRecord(run_id="r-1", mode="paper", config_hash="sha256:ab", started_ns=100))
    store.record_risk_event(RiskEventRecord(ts_ns=150, kind="breaker", message="drawdown 5%"))
    store.end_run("r-1", ended_ns=200, exit_status="ok")

    assert store.load_state().last_run == RunRecord(
        run_id="r-1", mode="paper", config_hash="sha256:ab", started_ns=100, ended_ns=200, exit_status="ok"
    )
    assert store.read_risk_events()[0].run_id == "r-1"
    with pytest.raises(StoreError, match="no run 'r-2' was started"):
        store.end_run("r-2", ended_ns=1, exit_status="ok")


def test_commands_are_audited_with_actor_reason_and_the_command_itself(store: SqlStateStore) -> None:
    store.start_run(RunRecord(run_id="r-1", mode="live", config_hash="h", started_ns=1))
    cmd = submit("c-1", ts=5_000)
    cancel_all = CancelAllOrders(ts_init=6_000, actor="api:key-7", instrument_id=BTC)

    store.record_command(cmd, reason="quote refresh")
    store.record_command(cancel_all, reason="operator pressed flatten")
    store.record_audit(AuditRecord(ts_ns=7_000, actor="cli", action="halt", reason="maintenance"))

    records = store.read_audit()
    assert [(r.ts_ns, r.actor, r.action, r.reason, r.run_id) for r in records] == [
        (5_000, "mm-1", "SubmitOrder", "quote refresh", "r-1"),
        (6_000, "api:key-7", "CancelAllOrders", "operator pressed flatten", "r-1"),
        (7_000, "cli", "halt", "maintenance", "r-1"),
    ]
    assert records[0].detail is not None
    assert msgspec.json.decode(records[0].detail, type=type(cmd)) == cmd
    assert store.read_audit(since_ns=6_500) == records[2:]
    assert store.read_audit(limit=1) == records[:1]


def test_risk_events_round_trip(store: SqlStateStore) -> None:
    event = RiskEventRecord(
        ts_ns=42,
        kind="trading_state",
        message="ACTIVE -> REDUCING: daily loss limit",
        strategy_id=STRAT,
        instrument_id=BTC,
        detail='{"loss":"-1000.50","limit":"-1000"}',
    )
    store.record_risk_event(event)

    assert store.read_risk_events() == [event]


def test_journal_entries_and_exits_keep_reason_r_and_regime(store: SqlStateStore) -> None:
    entry = JournalEntry(
        ts_ns=1_000,
        strategy_id=STRAT,
        instrument_id=BTC,
        kind=JournalKind.ENTRY,
        side=OrderSide.BUY,
        price=Decimal("100.01"),
        quantity=Decimal("0.5"),
        reason="breakout above 20-bar high",
        regime="trending",
        client_order_id=ClientOrderId("c-1"),
    )
    exit_ = JournalEntry(
        ts_ns=2_000,
        strategy_id=STRAT,
        instrument_id=BTC,
        kind=JournalKind.EXIT,
        side=OrderSide.SELL,
        price=Decimal("103.02"),
        quantity=Decimal("0.5"),
        reason="target",
        r_multiple=Decimal("1.505"),
    )
    store.record_journal(entry)
    store.record_journal(exit_)
    store.record_journal(msgspec.structs.replace(exit_, strategy_id=StrategyId("other"), ts_ns=3_000))

    assert store.read_journal(strategy_id=STRAT) == [entry, exit_]
    assert len(store.read_journal()) == 3
