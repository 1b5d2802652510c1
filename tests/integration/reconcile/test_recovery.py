"""Restart recovery and reconciliation over a real store (a SQLite file and PostgreSQL), with the venue
played by an in-memory `VenueStatePort`: what a restarted kernel rebuilds, and what reconciliation
writes — through the journal, with audit records, before memory changes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.integration.store.conftest import BACKENDS, _url_for
from tradewright.core.clock import SimClock
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewright.engine.kernel import Kernel
from tradewright.engine.reconcile import ReconcileConfig
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder, VenueOrderStatus, VenuePosition
from tradewright.live.recovery import Reconciler, VenueOrderActions, restore
from tradewright.live.store_sink import StoreSink
from tradewright.model import LiquiditySide, OrderAccepted, OrderFilled, OrderSide
from tradewright.model.enums import OrderStatus
from tradewright.model.events import OrderDenied
from tradewright.model.orders import Order
from tradewright.portfolio.portfolio import Portfolio
from tradewright.store import SqlStateStore, StoreConfig
from tradewright.strategy.base import Strategy
from tradewright.testkit import btc_perp

INST = btc_perp()
IID = INST.id
LOG = logging.getLogger("test")


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from _url_for(str(request.param), tmp_path)


class Counter(Strategy):
    """Keeps its own count of what it bought (its state), rebuilt from a snapshot plus fills since."""

    def __init__(self) -> None:
        super().__init__("S", [IID])
        self.bought = Decimal(0)
        self.replayed = 0

    def on_fill(self, fill: OrderFilled, **kw: Any) -> None:
        self.bought += fill.last_qty
        self.replayed += bool(kw.get("replay"))

    def snapshot_state(self) -> dict[str, Any]:
        return {"bought": str(self.bought)}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.bought = Decimal(state["bought"])


class Client:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    venue = Venue("BINANCE")

    def submit(self, order: Order) -> None:
        self.sent.append(("submit", order.client_order_id))

    def cancel(self, order: Order) -> None:
        self.sent.append(("cancel", order.client_order_id))

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        raise AssertionError("not used")


class Venue_:
    """The venue's side for reconciliation, set by each test."""

    def __init__(self) -> None:
        self.orders: dict[str, VenueOrder] = {}
        self.fills: dict[str, list[OrderFilled]] = {}
        self.snapshot = AccountSnapshot(as_of_ns=0)

    async def open_orders(self, instrument_id: InstrumentId) -> list[VenueOrder]:
        return [o for o in self.orders.values() if o.status.is_open]

    async def query_order(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> VenueOrder | None:
        return self.orders.get(client_order_id)

    async def order_fills(self, order: VenueOrder) -> list[OrderFilled]:
        return self.fills.get(order.client_order_id, [])

    async def account(self, instrument_ids: list[InstrumentId]) -> AccountSnapshot:
        return self.snapshot


def node(store: SqlStateStore) -> tuple[Kernel, Counter, Client]:
    sink = StoreSink(store)
    kernel = Kernel(SimClock(1_000), portfolio=Portfolio(), sinks=[sink], journal=sink, id_prefix="R")
    kernel.add_instrument(INST)
    client = Client()
    kernel.add_execution_client(client)
    strategy = Counter()
    kernel.add_strategy(strategy)
    store.save_instrument(INST, ts_ns=0)
    return kernel, strategy, client


def fill(cid: str, trade: str, qty: str, px: str, ts: int = 5) -> OrderFilled:
    return OrderFilled(
        client_order_id=ClientOrderId(cid),
        instrument_id=IID,
        venue_order_id=VenueOrderId("v-" + cid),
        trade_id=TradeId(trade),
        side=OrderSide.BUY,
        last_px=Decimal(px),
        last_qty=Decimal(qty),
        liquidity=LiquiditySide.MAKER,
        fee=Decimal("0.01"),
        fee_currency="USDT",
        ts_event=ts,
        ts_init=ts,
    )


def ack(cid: str) -> OrderAccepted:
    return OrderAccepted(
        client_order_id=ClientOrderId(cid),
        instrument_id=IID,
        venue_order_id=VenueOrderId("v-" + cid),
        ts_event=3,
        ts_init=3,
    )


def buy(strategy: Strategy, qty: str = "0.010", price: str = "100.0") -> ClientOrderId:
    return strategy.ctx.submit(IID, OrderSide.BUY, Decimal(qty), Decimal(price))


def reconciler(
    kernel: Kernel, venue: Venue_, store: SqlStateStore, client: Client, **config: Any
) -> Reconciler:
    return Reconciler(
        kernel,
        venue,
        store,
        ReconcileConfig(confirmations=1, **config),
        VenueOrderActions(client.cancel, lambda order: None),
        min_order_age_s=0.0,
        log=LOG,
    )


def test_a_restart_rebuilds_orders_positions_with_their_lots_balances_and_strategy_state(url: str) -> None:
    with SqlStateStore(StoreConfig(url=url)) as store:
        before, strategy, _ = node(store)
        before.portfolio.set_balance("USDT", Decimal(1000))
        store.save_portfolio([], {"USDT": Decimal(1000)}, ts_ns=0)
        first, second = buy(strategy), buy(strategy, price="101.0")  # a fill above its limit is refused
        for cid in (first, second):
            before.on_venue_event(ack(cid))
        before.on_venue_event(fill(first, "1", "0.010", "100.0"))
        store.save_strategy_snapshot(strategy.id, 1, strategy.snapshot_state(), ts_ns=10)
        before.on_venue_event(fill(second, "2", "0.004", "101.0"))  # after the snapshot

    with SqlStateStore(StoreConfig(url=url)) as store:
        after, restarted, _ = node(store)
        tracked: list[str] = []
        summary = restore(after, store.load_state(), lambda o: tracked.append(o.client_order_id), LOG)

    held = after.portfolio.find_position(IID)
    assert held is not None
    assert held.open_lots() == [(Decimal("100.0"), Decimal("0.010")), (Decimal("101.0"), Decimal("0.004"))]
    assert after.portfolio.balance("USDT") == Decimal(1000) - Decimal("1.0") - Decimal("0.404") - Decimal(
        "0.02"
    )
    assert tracked == [second] and [o.client_order_id for o in after.orders.open_orders()] == [second]
    assert after.orders.get(second).filled_qty == Decimal("0.004")  # type: ignore[union-attr]
    assert (restarted.bought, restarted.replayed) == (Decimal("0.014"), 1)
    assert (summary.orders, summary.positions, summary.snapshots, summary.replayed_fills) == (1, 1, 1, 1)
    assert after.halts == {}


def run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


def test_reconciliation_applies_what_the_store_missed_through_the_journal(url: str) -> None:
    with SqlStateStore(StoreConfig(url=url)) as store:
        kernel, strategy, client = node(store)
        never_sent, acked_unseen = buy(strategy), buy(strategy)
        venue = Venue_()
        venue.orders[acked_unseen] = VenueOrder(
            ClientOrderId(acked_unseen), VenueOrderId("v-" + acked_unseen), IID, OrderSide.BUY,
            VenueOrderStatus.CANCELED, Decimal("0.010"), Decimal("0.006"), Decimal("100.0"), 9,
        )  # fmt: skip
        venue.fills[acked_unseen] = [fill(acked_unseen, "7", "0.006", "100.0")]
        venue.snapshot = AccountSnapshot(
            as_of_ns=10, positions={IID: VenuePosition(IID, Decimal("0.006"), Decimal("100.0"))}, balances={}
        )

        report = run(reconciler(kernel, venue, store, client).run_once(check_all=True))

        state = store.load_state()
    assert [line.split(":")[1].split(" (")[0].strip() for line in report.events] == [
        "OrderRejected",
        "OrderAccepted",
        "OrderFilled",
        "OrderCanceled",
    ]
    assert state.open_orders == {}
    assert state.positions[IID].quantity == Decimal("0.006") == kernel.portfolio.find_position(IID).quantity  # type: ignore[union-attr]
    assert kernel.orders.get(never_sent).status is OrderStatus.REJECTED  # type: ignore[union-attr]
    assert strategy.bought == Decimal("0.006")
    assert report.actions == [] and report.halted == []


def test_a_small_drift_is_committed_with_its_audit_record_before_memory_changes(url: str) -> None:
    with SqlStateStore(StoreConfig(url=url)) as store:
        kernel, strategy, client = node(store)
        cid = buy(strategy)
        kernel.on_venue_event(ack(cid))
        kernel.on_venue_event(fill(cid, "1", "0.010", "100.0"))
        venue = Venue_()
        venue.orders[cid] = VenueOrder(
            cid, VenueOrderId("v-" + cid), IID, OrderSide.BUY, VenueOrderStatus.FILLED,
            Decimal("0.010"), Decimal("0.010"), Decimal("100.0"), 5,
        )  # fmt: skip
        venue.snapshot = AccountSnapshot(
            as_of_ns=10, positions={IID: VenuePosition(IID, Decimal("0.011"), Decimal("100.5"))}
        )
        seen_in_store_first: list[Decimal] = []
        live = kernel.portfolio.find_position(IID)
        assert live is not None

        @event.listens_for(store.engine, "commit")
        def _at_commit(conn: Any) -> None:
            seen_in_store_first.append(live.quantity)

        report = run(reconciler(kernel, venue, store, client).run_once(check_all=True))
        audits = store.read_audit()
        state = store.load_state()

    assert seen_in_store_first[0] == Decimal("0.010")  # the correction committed while memory held 0.010
    assert live.quantity == state.positions[IID].quantity == Decimal("0.011")
    assert live.realized_pnl == 0 and live.open_lots()[-1] == (Decimal("100.5"), Decimal("0.001"))
    (audit,) = [a for a in audits if a.action == "CorrectPosition"]
    assert audit.actor == "reconcile" and "drift +0.001" in audit.reason
    assert json.loads(audit.detail or "{}")["venue"] == "0.011"
    assert len(report.actions) == 1 and report.halted == []


def test_a_large_drift_halts_the_instrument_records_why_and_cancels_its_orders(url: str) -> None:
    with SqlStateStore(StoreConfig(url=url)) as store:
        kernel, strategy, client = node(store)
        working = buy(strategy)
        kernel.on_venue_event(ack(working))
        venue = Venue_()
        venue.orders[working] = VenueOrder(
            working, VenueOrderId("v-" + working), IID, OrderSide.BUY, VenueOrderStatus.OPEN,
            Decimal("0.010"), Decimal(0), Decimal("100.0"), 5,
        )  # fmt: skip
        venue.snapshot = AccountSnapshot(
            as_of_ns=10, positions={IID: VenuePosition(IID, Decimal("0.5"), Decimal("99"))}
        )

        report = run(reconciler(kernel, venue, store, client).run_once(check_all=True))
        refused = buy(strategy)
        risk = store.read_risk_events()

    (halt,) = report.halted
    assert "the venue holds 0.5, this node 0" in halt and "drift +0.5" in halt
    assert [(r.kind, r.message, r.instrument_id) for r in risk] == [("ReconcileHalt", halt, IID)]
    assert ("cancel", working) in client.sent
    denied = kernel.orders.get(refused).events[-1]  # type: ignore[union-attr]
    assert isinstance(denied, OrderDenied) and denied.message == halt
    assert kernel.portfolio.find_position(IID) is None  # not corrected: a person decides


def test_a_correction_that_cannot_be_committed_changes_nothing_and_halts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with SqlStateStore(StoreConfig(url=url)) as store:
        kernel, strategy, client = node(store)
        venue = Venue_()
        venue.snapshot = AccountSnapshot(
            as_of_ns=10, positions={IID: VenuePosition(IID, Decimal("0.001"), Decimal("99"))}
        )

        @event.listens_for(store.engine, "commit")
        def _refuse(conn: Any) -> None:
            raise OSError(28, "No space left on device")

        report = run(reconciler(kernel, venue, store, client).run_once(check_all=True))
        event.remove(store.engine, "commit", _refuse)
        refused = buy(strategy)

    assert report.actions == []
    assert kernel.portfolio.find_position(IID) is None
    assert "No space left on device" in kernel.halts[None]
    assert kernel.orders.get(refused).status is OrderStatus.DENIED  # type: ignore[union-attr]
    assert client.sent == []
