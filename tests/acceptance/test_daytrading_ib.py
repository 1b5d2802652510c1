"""The day-trading stack's six end-to-end scenarios against the local IB gateway (the TWS socket protocol,
replaying the recorded CME 6EH4 one-minute bars), through the live path: `BrokerNode` with the IB
adapter (ib-async), the kernel, the risk engine, the state store as the journal, and the DayTrader
strategy with its brackets held by IB as parent/child orders (`bracket_orders = "engine"`: the same
strategy code emulates them on paper). Each asserts the store, the journal and the event stream.

The node's clock follows the gateway's bars (a replay: the trading day, the session close and the daily
limits follow the recording); the gateway moves one bar at a time once the node has dealt with the last.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Context, Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.test_daytrading_scenarios import day_config
from tests.conftest import shared_data
from tests.venues.ib.harness import SIXE
from tests.venues.ib.harness import config as ib_config
from tests.venues.ib.test_ib_end_to_end import recorded_rows
from tradewright.analysis.journal import build_journal
from tradewright.analysis.run_outputs import FillRecord
from tradewright.core.clock import SimClock
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.live.broker import BrokerNode
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide, OrderStatus, OrderType
from tradewright.model.events import (
    BreakerReset,
    BreakerTripped,
    Event,
    FlattenFinished,
    FlattenStarted,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderSubmitted,
    OrderUpdated,
    PositionChanged,
    TradingStateChanged,
)
from tradewright.servers.ib import build_ib_server
from tradewright.store.sql_store import open_store
from tradewright.strategy.tags import parse_tag
from tradewright.venues._common.credentials import Credentials
from tradewright.venues.ib import IbInstrumentConfig

pytestmark = pytest.mark.slow

D = Decimal
R = D(500)
TICK = D("0.00005")
WARMUP = 1
END_NS = 1_704_492_000_000_000_000  # Friday 5 January 2024, 22:00 UTC: the first trading week


def week_of_bars(folder: Path) -> Path:
    """The recorded bars to Friday 5 Jan's close (the strategy's config reads its instrument from them)."""
    out = folder / "6EH4.XCME_first_days.csv"
    with gzip.open(shared_data(SIXE), "rt") as fh, out.open("w") as dst:
        for line in fh:
            if line.startswith("timestamp") or line < "2024-01-05 22:01":
                dst.write(line)
    return out


@pytest.fixture(scope="module")
def first_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return week_of_bars(tmp_path_factory.mktemp("bars"))


@dataclass
class IbDay:
    """What one run left: the node's event stream, its kernel, its store, and the gateway's own view."""

    node: BrokerNode
    store_url: str
    gateway_orders: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # orderRef -> (status, parent ref)
    gateway_cash: Decimal = Decimal(0)
    gateway_position: Decimal = Decimal(0)

    @property
    def events(self) -> list[Event]:
        return self.node.events

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def run_on_ib(
    tmp: Path,
    bars: Path,
    *,
    stop_when: Callable[[BrokerNode], bool] | None = None,
    spread_ticks: int = 1,
    partial_pct: int | None = None,
    second_contract: bool = False,
    then: Callable[[BrokerNode, Any], Any] | None = None,
    each_bar: Callable[[BrokerNode], None] | None = None,
    **overrides: Any,
) -> IbDay:
    rows = recorded_rows()
    data = [(shared_data(SIXE), "6EH4")] + ([(shared_data(SIXE), "6EM4")] if second_contract else [])
    run = day_config(tmp, bars, **{"strategy.params.bracket_orders": "engine", **overrides})
    url = f"sqlite:///{tmp / 'state.sqlite'}"

    async def scenario() -> IbDay:
        server = build_ib_server(data, warmup=WARMUP, spread_ticks=spread_ticks, starting_cash=D(100_000))
        await server.start()
        store = open_store(url)
        instruments = [IbInstrumentConfig(symbol="6E")]
        if second_contract:
            instruments.append(IbInstrumentConfig(symbol="6E", contract_month="202406"))
        node = BrokerNode(
            ib_config(server.port, instruments=instruments),
            run,
            store,
            symbol="6EH4",
            credentials=Credentials("Interactive Brokers", {}),
            clock=SimClock(rows[WARMUP][0] - 60_000_000_000),
        )
        try:
            await node.start()
            if partial_pct is not None:
                server.set_partial_fill(partial_pct)
            await wait(lambda: node.book is not None and node.book.best_bid_tick is not None)
            await asyncio.sleep(0.3)  # the bar subscription is in place
            traded = next(iter(server.market.feeds))
            steps = 0
            while not server.market.exhausted and node.clock.now_ns() < END_NS:
                server.step()
                steps += 1
                # A bar is complete for the feed once a later one begins: the gateway shows the next bar
                # forming at once unless the recording has a gap there (then the next step completes it).
                # Wait until the node has dealt with every bar complete so far.
                due = steps - (0 if server._forming(traded) is not None else 1)
                await wait(lambda: node.bars >= due)  # noqa: B023
                await node.venue.execution.drain(5)  # type: ignore[union-attr]
                if each_bar is not None:
                    each_bar(node)
                if stop_when is not None and stop_when(node):
                    break
            if then is not None:
                await then(node, server)
            assert node.failure is None
            await node.stop(cancel_orders=False)
            day = IbDay(node, url)
            for order in server.book.orders.values():
                parent = server.book.orders.get((order.client_id, order.parent_id))
                day.gateway_orders[order.order_ref] = (
                    order.status,
                    "" if parent is None else parent.order_ref,
                )
            account = server.accounts[0]
            day.gateway_cash = server.book.cash[account]
            con_id = next(iter(server.market.feeds))  # the traded contract is listed first
            day.gateway_position = server.book.position(account, con_id)[0]
            return day
        finally:
            store.close()
            await server.close()

    return asyncio.run(scenario())


async def wait(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.0005)


def stored(day: IbDay) -> Any:
    return open_store(day.store_url)


def journal_of(day: IbDay) -> Any:
    """The round trips from the store's fills, with the tags each order was sent with (the audit)."""
    store = stored(day)
    try:
        actors = {}
        for record in store.read_audit(limit=100_000):
            if record.action == "SubmitOrder" and record.detail:
                detail = json.loads(record.detail)
                actors[detail["client_order_id"]] = record.actor
        fills = sorted(store.read_fills(limit=100_000), key=lambda f: (f.ts_event, f.trade_id))
    finally:
        store.close()
    position = D(0)
    records = []
    for fill in fills:
        position += fill.last_qty * fill.side.sign
        actor = actors.get(fill.client_order_id, "")
        tags = parse_tag(actor.split(":", 1)[1]) if ":" in actor else {}
        records.append(
            FillRecord(ts_event_ns=fill.ts_event, client_order_id=fill.client_order_id, venue_order_id=fill.venue_order_id,
                       trade_id=fill.trade_id, instrument_id=fill.instrument_id, side=fill.side, price=fill.last_px,
                       quantity=fill.last_qty, liquidity=fill.liquidity, fee=fill.fee, fee_currency=fill.fee_currency,
                       position_after=position, realized_pnl_after=D(0), tag_regime=tags.get("regime"),
                       tag_reason=tags.get("reason"), risk_r=D(tags["risk"]) if "risk" in tags else None)
        )  # fmt: skip
    inst = day.node.instrument
    assert inst is not None
    return build_journal(records, instruments={inst.id: inst}), actors


@pytest.fixture(scope="module")
def ib_day(tmp_path_factory: pytest.TempPathFactory, first_days: Path) -> Iterator[IbDay]:
    # No cap on entries here (the constraint scenario has its own run): the daily loss is what stops trading.
    # Once it has tripped, the next bar asks for one more bracket through the strategy's own context (the
    # setups found none before the close that day): the tripwire must refuse it.
    asked: list[str] = []

    def probe(node: BrokerNode) -> None:
        if asked or not any(isinstance(e, BreakerTripped) and e.breaker == "daily_loss" for e in node.events):
            return
        assert node.strategy is not None and node.book is not None and node.instrument is not None
        close = node.instrument.ticks_to_price(node.book.best_ask_tick or 0)
        entry, _, _ = node.strategy.ctx.submit_bracket(
            node.instrument.id, OrderSide.BUY, D(1), stop_price=close - 20 * TICK, target_price=close + 40 * TICK,
            tag="reason=probe_after_tripwire",
        )  # fmt: skip
        asked.append(entry)

    yield run_on_ib(
        tmp_path_factory.mktemp("ib_day"), first_days, each_bar=probe, **{"risk.max_trades_per_day": 10}
    )


def brackets(day: IbDay) -> list[tuple[OrderSubmitted, list[OrderSubmitted]]]:
    sent = day.of(OrderSubmitted)
    entries = [
        e
        for e in sent
        if e.parent_order_id is None and e.order_type is OrderType.MARKET and not e.reduce_only
    ]
    return [(e, [c for c in sent if c.parent_order_id == e.client_order_id]) for e in entries]


def test_golden_path_on_ib_signal_atr_size_native_bracket_fill_journal_and_pnl_in_r(ib_day: IbDay) -> None:
    entry, children = brackets(ib_day)[0]
    # The bracket: the entry and its two children went out together, linked at IB as parent and children.
    assert sorted(c.order_type for c in children) == [OrderType.LIMIT, OrderType.STOP_MARKET]
    assert all(
        c.quantity == entry.quantity and c.oca_group == f"OCA-{entry.client_order_id}" for c in children
    )
    for child in children:
        assert ib_day.gateway_orders[child.client_order_id][1] == entry.client_order_id
    # Sized in R: 1 R over the stop distance (from the signal bar's close), whole contracts, rounded down.
    journal, actors = journal_of(ib_day)
    tag = actors[entry.client_order_id]
    assert "regime=trend" in tag and "reason=" in tag
    stop = next(c for c in children if c.order_type is OrderType.STOP_MARKET)
    target = next(c for c in children if c.order_type is OrderType.LIMIT)
    assert stop.trigger_price is not None and target.price is not None
    stop_ticks = abs(target.price - stop.trigger_price) / TICK / 3  # the target is 2 stop distances beyond
    assert entry.quantity == (R / (stop_ticks * TICK * 125_000)).to_integral_value(rounding=ROUND_FLOOR)
    # The fill, then one child filled and IB cancelled the other (one cancels all, held by IB).
    fills = [f for f in ib_day.of(OrderFilled) if f.client_order_id == entry.client_order_id]
    assert sum(f.last_qty for f in fills) == entry.quantity
    ends = {c.client_order_id: ib_day.gateway_orders[c.client_order_id][0] for c in children}
    assert sorted(ends.values()) == ["Cancelled", "Filled"]
    # The journal: the first round trip in R is its net PnL over the 1 R declared at entry.
    first = journal.round_trips[0]
    assert first.risk is not None and first.risk <= R
    assert first.r_multiple == Context(prec=10).divide(first.net_pnl, first.risk)
    # The store agrees with the event stream and with IB's account to the cent.
    store = stored(ib_day)
    try:
        state = store.load_state(orders_since_ns=0)
        assert len(store.read_fills(limit=100_000)) == len(ib_day.of(OrderFilled))
    finally:
        store.close()
    assert not state.open_orders and all(p.quantity == 0 for p in state.positions.values())
    assert state.balances["USD"] == ib_day.gateway_cash == ib_day.node.kernel.portfolio.balance("USD")
    assert ib_day.gateway_position == 0
    assert ib_day.of(PositionChanged)[-1].quantity == 0


def test_tripwire_on_ib_minus_two_r_blocks_the_next_bracket_and_the_state_is_shown(ib_day: IbDay) -> None:
    stream = ib_day.events
    trip = next(e for e in stream if isinstance(e, BreakerTripped) and e.breaker == "daily_loss")
    assert D(trip.reason.split(" is ")[1].split("R")[0]) >= 2 and "(1R = 500)" in trip.reason
    held = next(
        e
        for e in stream[stream.index(trip) :]
        if isinstance(e, TradingStateChanged) and e.cause == "daily_loss"
    )
    assert (held.scope, held.state.value) == ("node", "REDUCING")
    reset = next(
        e for e in stream[stream.index(trip) :] if isinstance(e, BreakerReset) and e.breaker == "daily_loss"
    )
    window = stream[stream.index(trip) : stream.index(reset)]
    assert not [
        e for e in window if isinstance(e, OrderSubmitted) and e.parent_order_id is None and not e.reduce_only
    ]
    denied = [e for e in window if isinstance(e, OrderDenied)]
    assert denied and {d.reason for d in denied} == {"trading_reducing"} and "daily_loss" in denied[0].message
    # The whole bracket was refused with its entry: nothing of it reached IB.
    assert len(denied) % 3 == 0 and not any(d.client_order_id in ib_day.gateway_orders for d in denied)
    store = stored(ib_day)
    try:
        kinds = {(r.kind, r.message) for r in store.read_risk_events(limit=10_000)}
        rows = store.load_state(orders_since_ns=0).orders
    finally:
        store.close()
    assert ("BreakerTripped", trip.reason) in kinds
    assert all(rows[d.client_order_id].status is OrderStatus.DENIED for d in denied)


def test_guard_rejection_on_ib_a_wide_quote_gets_no_order_at_ib_and_the_denial_is_recorded(
    tmp_path: Path, first_days: Path
) -> None:
    day = run_on_ib(
        tmp_path, first_days, spread_ticks=3, stop_when=lambda n: len(n.kernel.orders.all_orders) >= 3
    )
    denied = day.of(OrderDenied)
    assert denied and {d.reason for d in denied} == {"spread_guard"}
    assert "spread is 3 ticks; max_spread_ticks is 1" in denied[0].message
    assert day.gateway_orders == {} and not day.of(OrderSubmitted) and not day.of(OrderFilled)
    store = stored(day)
    try:
        state = store.load_state(orders_since_ns=0)
    finally:
        store.close()
    assert {o.status for o in state.orders.values()} == {OrderStatus.DENIED}
    assert all(p.quantity == 0 for p in state.positions.values()) and day.gateway_position == 0


def test_constraint_violation_on_ib_the_days_entry_cap_blocks_the_next_bracket(
    tmp_path: Path, first_days: Path
) -> None:
    def blocked(node: BrokerNode) -> bool:
        return any(isinstance(e, OrderDenied) and e.reason == "trading_reducing" for e in node.events)

    day = run_on_ib(tmp_path, first_days, stop_when=blocked, **{"risk.max_trades_per_day": 1})
    trip = next(e for e in day.events if isinstance(e, BreakerTripped) and e.breaker == "max_trades_per_day")
    assert "1 entries today; max_trades_per_day is 1" in trip.reason
    denied = [e for e in day.events[day.events.index(trip) :] if isinstance(e, OrderDenied)]
    assert len(denied) == 3 and "max_trades_per_day" in denied[0].message  # the entry and both children
    store = stored(day)
    try:
        rows = store.load_state(orders_since_ns=0).orders
        kinds = [(r.kind, r.message) for r in store.read_risk_events(limit=10_000)]
    finally:
        store.close()
    assert ("BreakerTripped", trip.reason) in kinds
    assert [rows[d.client_order_id].status for d in denied] == [OrderStatus.DENIED] * 3
    assert not any(d.client_order_id in day.gateway_orders for d in denied)


def test_partial_fill_on_ib_thirty_percent_then_the_rest_exact_average_and_children_sized_at_each_step(
    tmp_path: Path, first_days: Path
) -> None:
    def entry_done(node: BrokerNode) -> bool:
        return any(
            o.parent_order_id is None and o.order_type is OrderType.MARKET and o.status is OrderStatus.FILLED
            for o in node.kernel.orders.all_orders
        )

    day = run_on_ib(tmp_path, first_days, partial_pct=30, stop_when=entry_done)
    entry, children = brackets(day)[0]
    parts = [f for f in day.of(OrderFilled) if f.client_order_id == entry.client_order_id]
    first = (entry.quantity * 3 / 10).to_integral_value(rounding=ROUND_FLOOR)
    assert [p.last_qty for p in parts] == [first, entry.quantity - first]
    order = day.node.kernel.orders.get(entry.client_order_id)
    assert order is not None
    assert order.avg_px == sum(p.last_px * p.last_qty for p in parts) / entry.quantity  # exact
    for child in children:
        sizes = [u.quantity for u in day.of(OrderUpdated) if u.client_order_id == child.client_order_id]
        assert sizes == [first, entry.quantity]  # IB works each child for what the entry has filled
    store = stored(day)
    try:
        rows = store.load_state(orders_since_ns=0).orders
    finally:
        store.close()
    assert rows[entry.client_order_id].avg_px == order.avg_px
    assert {rows[c.client_order_id].quantity for c in children} == {entry.quantity}


def test_flatten_all_on_ib_with_several_positions_closes_them_cancels_every_order_and_updates_the_store(
    tmp_path: Path, first_days: Path
) -> None:
    def bracketed(node: BrokerNode) -> bool:
        return node.kernel.portfolio.position(node.instrument).quantity != 0 if node.instrument else False  # type: ignore[arg-type]

    async def then(node: BrokerNode, server: Any) -> None:
        kernel = node.kernel
        june = next(i for i in kernel.instruments if i.symbol == "6EM4")
        book = kernel.books[june]
        bid = kernel.instruments[june].ticks_to_price(book.best_bid_tick or 0)

        def send(cid: str, side: OrderSide, qty: str, price: Decimal | None) -> None:
            kernel.submit(SubmitOrder(client_order_id=ClientOrderId(cid), strategy_id=StrategyId("OPS"), instrument_id=june,
                                      side=side, order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
                                      quantity=D(qty), price=price, ts_init=kernel.clock.now_ns()), None)  # fmt: skip

        send("OPS-1", OrderSide.SELL, "2", None)  # a second position, on the June contract
        send("OPS-2", OrderSide.BUY, "1", bid - 40 * TICK)  # and an order resting far below
        await wait(lambda: kernel.portfolio.position(kernel.instruments[june]).quantity == -2)
        assert len(kernel.orders.open_orders()) >= 3  # the bracket's stop and target, and the resting order
        node.flatten("operator: end of a bad day", actor="cli")
        await wait(
            lambda: (
                not kernel.orders.open_orders() and all(p.quantity == 0 for p in kernel.portfolio.positions)
            )
        )
        await node.venue.execution.drain(5)  # type: ignore[union-attr]

    day = run_on_ib(tmp_path, first_days, second_contract=True, stop_when=bracketed, then=then)
    kernel = day.node.kernel
    assert day.of(FlattenStarted) and day.of(FlattenFinished)
    cancelled = {e.client_order_id for e in day.of(OrderCanceled)}
    assert "OPS-2" in cancelled and len(cancelled) >= 2
    store = stored(day)
    try:
        state = store.load_state(orders_since_ns=0)
    finally:
        store.close()
    assert not state.open_orders and len(state.positions) == 2
    assert all(p.quantity == 0 for p in state.positions.values())
    assert all(status in ("Filled", "Cancelled") for status, _ in day.gateway_orders.values())
    assert {o.status for o in state.orders.values()} <= {OrderStatus.FILLED, OrderStatus.CANCELED}
    assert isinstance(kernel.instruments[InstrumentId.parse("6EM4.IB")].tick_size, Decimal)
