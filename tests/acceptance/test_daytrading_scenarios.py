"""The day-trading stack's six end-to-end scenarios, on paper: the DayTrader strategy, the kernel, the risk
engine and the state store, over recorded CME 6EH4 bars (the first trading days of January 2024). Each
asserts the store (state.sqlite, written before anything takes effect), the journal (fills.csv and its
round trips) and the event stream (events.jsonl).

1. golden path: trend regime -> signal -> ATR size -> risk checks -> bracket -> fill -> journal -> PnL in R;
2. guard rejection: a market too wide -> no order, the denial recorded, no exposure;
3. constraint violation: the day's entry count reached -> the next entry blocked and recorded;
4. tripwire: -2R reached -> new entries blocked, the state shown;
5. partial fill: 30 % then the rest -> exact average price, stop and target sized at each step;
6. flatten-all with several positions -> every position closed, every order cancelled, the store updated.

The bar fill model fills whole orders, so scenario 5 runs the same kernel, strategy and risk engine with
a paper broker that fills market orders 30 % at one bar's open and the rest at the next (a stand-in
until the bar fill model gets a volume-participation rule). Scenario 6 has two instruments, which a
single-instrument bar run cannot hold, so it drives the kernel's kill switch directly.
"""

from __future__ import annotations

import csv
import gzip
import json
import sqlite3
from collections.abc import Iterator
from decimal import Context, Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, shared_data
from tradewright.analysis.journal import build_journal
from tradewright.analysis.run_outputs import read_fills
from tradewright.config.run import RiskConfig, RunConfig, load_run_config
from tradewright.core.clock import SimClock
from tradewright.core.ids import ClientOrderId, StrategyId, TradeId, Venue, VenueOrderId
from tradewright.daytrade import prepare_day_run, run_day_backtest
from tradewright.engine.kernel import Kernel
from tradewright.live.store_sink import StoreSink
from tradewright.model.commands import SubmitOrder
from tradewright.model.contracts import futures_instrument
from tradewright.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderFilled,
    OrderUpdated,
)
from tradewright.model.orders import Order
from tradewright.portfolio.portfolio import Portfolio
from tradewright.risk.engine import RiskEngine
from tradewright.store.sql_store import open_store

D = Decimal
R = D(500)
SIXE = "bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"
TICK = D("0.00005")


@pytest.fixture(scope="module")
def first_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recorded bars from the first open (1 Jan, 17:00 Chicago) to Friday 5 Jan's close."""
    source = shared_data(SIXE)
    out = tmp_path_factory.mktemp("bars") / "6EH4.XCME_first_days.csv"
    with gzip.open(source, "rt") as fh, out.open("w") as dst:
        for line in fh:
            if line.startswith("timestamp") or line < "2024-01-05 22:01":
                dst.write(line)
    return out


def day_config(tmp: Path, bars: Path, **overrides: Any) -> RunConfig:
    text = (REPO / "examples" / "futures_day_6e.toml").read_text()
    text = text.replace(
        "../../shared/data/bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz", str(bars)
    )
    path = tmp / "day.toml"
    path.write_text(text)
    return load_run_config(path, overrides)


def run_day(tmp: Path, bars: Path, **overrides: Any) -> tuple[Path, dict[str, Any]]:
    return run_day_backtest(day_config(tmp, bars, **overrides), tmp / "run")


def events(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "events.jsonl").open()]


def fills(run: Path) -> list[dict[str, str]]:
    with (run / "fills.csv").open() as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Any]:
    handles: list[sqlite3.Connection] = []

    def connect(run: Path) -> sqlite3.Connection:
        handle = sqlite3.connect(run / "state.sqlite")
        handles.append(handle)
        return handle

    yield connect
    for handle in handles:
        handle.close()


def test_golden_path_trend_signal_atr_size_bracket_fill_journal_and_pnl_in_r(
    tmp_path: Path, first_days: Path, db: Any
) -> None:
    run, summary = run_day(tmp_path, first_days)
    stream = events(run)
    entry = next(e for e in stream if e["type"] == "SubmitOrder" and "risk=" in e["actor"])
    assert "regime=trend" in entry["actor"] and "reason=orb_retest_short" in entry["actor"]
    cid = entry["client_order_id"]
    # Sized in R: 1 R over the stop distance, rounded down to whole contracts.
    stop = next(e for e in stream if e["type"] == "SubmitOrder" and e["order_type"] == "STOP_MARKET")
    target = next(e for e in stream if e["type"] == "SubmitOrder" and "reason=target" in e["actor"])
    fill = next(e for e in stream if e["type"] == "OrderFilled" and e["client_order_id"] == cid)
    stop_ticks = int((D(stop["trigger_price"]) - D(fill["last_px"])) / TICK)
    assert stop_ticks > 0 and D(entry["quantity"]) == (R / (stop_ticks * TICK * 125_000)).to_integral_value(
        rounding="ROUND_FLOOR"
    )
    assert D(target["price"]) == D(fill["last_px"]) - 2 * stop_ticks * TICK  # 2 R below the short entry
    # The bracket went out only after the entry filled, and passed the risk checks.
    order_of = [e["client_order_id"] for e in stream if e["type"] in ("OrderFilled", "OrderSubmitted")]
    assert order_of.index(cid) < order_of.index(stop["client_order_id"])
    # The journal: the round trip's PnL in R is its net PnL over the 1 R declared at entry.
    sixe = futures_instrument("6EH4.XCME")
    trips = build_journal(read_fills(run / "fills.csv"), instruments={sixe.id: sixe}).round_trips
    first = trips[0]
    assert first.risk == D(entry["actor"].split("risk=")[1]) and first.r_multiple == Context(prec=10).divide(
        first.net_pnl, first.risk
    )  # the journal shows R to 10 significant digits
    # The store has every fill of the journal and the position it left.
    stored = db(run).execute("select client_order_id, trade_id from fills order by id").fetchall()
    assert stored == [(r["client_order_id"], r["trade_id"]) for r in fills(run)]
    assert D(summary["realized_pnl"]) == sum(t.pnl for t in trips)


def test_guard_rejection_a_market_too_wide_gets_no_order_and_the_denial_is_recorded(
    tmp_path: Path, first_days: Path, db: Any
) -> None:
    run, summary = run_day(tmp_path, first_days, **{"venue.bar_spread_ticks": {"default": 3}})
    stream = events(run)
    denied = [e for e in stream if e["type"] == "OrderDenied"]
    assert denied and {e["reason"] for e in denied} == {"spread_guard"}
    assert all("spread is 3 ticks; max_spread_ticks is 1" in e["message"] for e in denied)
    assert not [e for e in stream if e["type"] in ("OrderSubmitted", "OrderFilled")]  # nothing left the node
    assert summary["fills"] == 0 and fills(run) == []
    rows = db(run).execute("select status, count(*) from orders group by status").fetchall()
    assert rows == [("DENIED", len(denied))]
    assert db(run).execute("select count(*) from positions where quantity != '0'").fetchone() == (0,)


def test_constraint_violation_the_days_entry_count_reached_blocks_the_next_entry(
    tmp_path: Path, first_days: Path, db: Any
) -> None:
    run, _ = run_day(tmp_path, first_days, **{"risk.max_trades_per_day": 1})
    stream = events(run)
    trip = next(e for e in stream if e["type"] == "BreakerTripped" and e["breaker"] == "max_trades_per_day")
    assert "1 entries today; max_trades_per_day is 1" in trip["reason"]
    after = stream[stream.index(trip) :]
    blocked = next(e for e in after if e["type"] == "OrderDenied")
    assert blocked["reason"] == "trading_reducing" and "max_trades_per_day" in blocked["message"]
    stored = db(run).execute("select kind, message from risk_events where kind = 'BreakerTripped'").fetchall()
    assert ("BreakerTripped", trip["reason"]) in stored
    (status,) = (
        db(run)
        .execute("select status from orders where client_order_id = ?", (blocked["client_order_id"],))
        .fetchone()
    )
    assert status == "DENIED"


def test_tripwire_minus_two_r_blocks_new_entries_and_the_state_is_shown(
    tmp_path: Path, first_days: Path, db: Any
) -> None:
    run, summary = run_day(tmp_path, first_days, **{"risk.max_trades_per_day": 10})
    stream = events(run)
    trip = next(e for e in stream if e["type"] == "BreakerTripped" and e["breaker"] == "daily_loss")
    assert D(trip["reason"].split(" is ")[1].split("R")[0]) >= 2 and "(1R = 500)" in trip["reason"]
    held = next(e for e in stream[stream.index(trip) :] if e["type"] == "TradingStateChanged")
    assert (held["scope"], held["state"], held["cause"]) == ("node", "REDUCING", "daily_loss")
    reset = next(
        e
        for e in stream[stream.index(trip) :]
        if e["type"] == "BreakerReset" and e["breaker"] == "daily_loss"
    )
    window = stream[stream.index(trip) : stream.index(reset)]
    assert not [
        e
        for e in window
        if e["type"] == "OrderSubmitted" and e["order_type"] == "MARKET" and not e["reduce_only"]
    ]
    assert any(
        line.startswith("breaker daily_loss tripped") or "daily_loss" in line
        for line in summary["risk_events"]
    )
    assert ("BreakerTripped",) in db(run).execute(
        "select kind from risk_events where message = ?", (trip["reason"],)
    ).fetchall()


class PartialPaperBroker:
    """Fills a market order 30 % at the next bar's open and the rest at the open after; acknowledges the
    stop and the target (they rest) and applies their resizes."""

    def __init__(self, day: Any) -> None:
        self.engine = day.engine
        self.kernel: Kernel = day.engine.kernel
        self.series = day.engine.series
        self._trades = 0

    @property
    def venue(self) -> Venue:
        return Venue("XCME")

    def _at(self, ts: int, event: OrderEvent) -> None:
        self.kernel.schedule(ts, self.kernel.on_venue_event, event)

    def _next_open(self, after: int, skip: int = 0) -> tuple[int, Decimal]:
        opens = self.series.ts_open_ns
        i = int((opens > after).argmax()) + skip
        assert self.series.open_ticks is not None
        return int(opens[i]), TICK * int(self.series.open_ticks[i])

    def submit(self, order: Order) -> None:
        now = self.kernel.clock.now_ns()
        base = {"client_order_id": order.client_order_id, "instrument_id": order.instrument_id}
        self._at(
            now,
            OrderAccepted(
                **base, venue_order_id=VenueOrderId(order.client_order_id), ts_event=now, ts_init=now
            ),
        )
        if order.order_type is not OrderType.MARKET or order.reduce_only:
            return
        first = (order.quantity * 3 / 10).to_integral_value(rounding="ROUND_FLOOR")
        for skip, qty in ((0, first), (1, order.quantity - first)):
            ts, price = self._next_open(now, skip)
            self._trades += 1
            self._at(ts, OrderFilled(**base, venue_order_id=VenueOrderId(order.client_order_id), trade_id=TradeId(f"P{self._trades}"),
                                     side=order.side, last_px=price, last_qty=qty, liquidity=LiquiditySide.TAKER, fee=D(0),
                                     fee_currency="USD", ts_event=ts, ts_init=ts))  # fmt: skip

    def cancel(self, order: Order) -> None:
        now = self.kernel.clock.now_ns()
        self._at(
            now,
            OrderCanceled(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                ts_event=now,
                ts_init=now,
            ),
        )

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        now = self.kernel.clock.now_ns()
        self._at(now, OrderUpdated(client_order_id=order.client_order_id, instrument_id=order.instrument_id,
                                   quantity=quantity or order.quantity, price=price or order.price, ts_event=now, ts_init=now))  # fmt: skip


def test_partial_fill_thirty_percent_then_the_rest_exact_average_and_legs_sized_at_each_step(
    tmp_path: Path, first_days: Path
) -> None:
    config = day_config(tmp_path, first_days, **{"run.store_url": f"sqlite:///{tmp_path / 'partial.sqlite'}"})
    day = prepare_day_run(config)
    broker = PartialPaperBroker(day)
    day.engine.kernel.add_execution_client(broker)
    try:
        result = day.engine.run()
    finally:
        day.close()
    kernel = result.kernel
    entry = next(
        o for o in kernel.orders.all_orders if o.order_type is OrderType.MARKET and not o.reduce_only
    )
    parts = [e for e in entry.events if isinstance(e, OrderFilled)]
    assert [p.last_qty for p in parts] == [D(2), entry.quantity - 2] and entry.quantity == 7
    assert entry.avg_px == (parts[0].last_px * parts[0].last_qty + parts[1].last_px * parts[1].last_qty) / 7
    legs = [o for o in kernel.orders.all_orders if o.ts_init >= parts[0].ts_event and o is not entry][:2]
    assert sorted(o.order_type for o in legs) == [OrderType.LIMIT, OrderType.STOP_MARKET]
    for leg in legs:
        sizes = [e.quantity for e in leg.events if isinstance(e, OrderUpdated)]
        submitted = next(e for e in leg.events if type(e).__name__ == "OrderSubmitted")
        assert (submitted.quantity, sizes) == (D(2), [D(7)])  # 30 % first, then the whole entry
    store = open_store(config.run.store_url)
    try:
        state = store.load_state(orders_since_ns=0)
        assert state.orders[entry.client_order_id].avg_px == entry.avg_px
        assert {state.orders[o.client_order_id].quantity for o in legs} == {D(7)}
    finally:
        store.close()


class KillSwitchVenue:
    """Acknowledges, fills what crosses the quote it is given, and cancels at once (two instruments)."""

    def __init__(self, kernel: Kernel, quotes: dict[str, tuple[Decimal, Decimal]]) -> None:
        self.kernel = kernel
        self.quotes = quotes
        self.n = 0

    @property
    def venue(self) -> Venue:
        return Venue("XCME")

    def submit(self, order: Order) -> None:
        now = self.kernel.clock.now_ns()
        base = {
            "client_order_id": order.client_order_id,
            "instrument_id": order.instrument_id,
            "ts_event": now,
            "ts_init": now,
        }
        self.kernel.on_venue_event(OrderAccepted(**base, venue_order_id=VenueOrderId(order.client_order_id)))
        bid, ask = self.quotes[order.instrument_id.symbol]
        touch = ask if order.side is OrderSide.BUY else bid
        crosses = order.price is None or (order.price - touch) * order.side.sign >= 0
        if crosses and order.order_type in (OrderType.MARKET, OrderType.LIMIT):
            self.n += 1
            self.kernel.on_venue_event(OrderFilled(**base, venue_order_id=VenueOrderId(order.client_order_id), trade_id=TradeId(f"K{self.n}"),
                                                   side=order.side, last_px=touch, last_qty=order.leaves_qty, liquidity=LiquiditySide.TAKER,
                                                   fee=D(0), fee_currency="USD"))  # fmt: skip

    def cancel(self, order: Order) -> None:
        now = self.kernel.clock.now_ns()
        self.kernel.on_venue_event(
            OrderCanceled(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                ts_event=now,
                ts_init=now,
            )
        )

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        raise AssertionError("not used")


def test_flatten_all_with_several_positions_closes_them_all_cancels_every_order_and_updates_the_store(
    tmp_path: Path,
) -> None:
    sixe, mnq = futures_instrument("6EH4.XCME"), futures_instrument("MNQH4.XCME")
    store = open_store(f"sqlite:///{tmp_path / 'flatten.sqlite'}")
    sink = StoreSink(store)
    clock = SimClock(1_704_290_400_000_000_000)
    kernel = Kernel(
        clock,
        portfolio=Portfolio({"USD": D(100_000)}),
        risk=RiskEngine(RiskConfig()),
        sinks=[sink],
        journal=sink,
    )
    quotes = {"6EH4": (D("1.09500"), D("1.09505")), "MNQH4": (D("16800.00"), D("16800.25"))}
    for inst, (bid, ask) in ((sixe, quotes["6EH4"]), (mnq, quotes["MNQH4"])):
        book = kernel.add_instrument(inst)
        book.set_level(1, inst.price_to_ticks(bid), 100)
        book.set_level(-1, inst.price_to_ticks(ask), 100)
        store.save_instrument(inst, ts_ns=clock.now_ns())
    kernel.add_execution_client(KillSwitchVenue(kernel, quotes))
    n = 0

    def send(inst: Any, side: OrderSide, qty: str, price: str | None = None) -> Order:
        nonlocal n
        n += 1
        return kernel.submit(SubmitOrder(client_order_id=ClientOrderId(f"S-{n}"), strategy_id=StrategyId("DAY"), instrument_id=inst.id,
                                         side=side, order_type=OrderType.LIMIT if price else OrderType.MARKET, quantity=D(qty),
                                         price=None if price is None else D(price), ts_init=clock.now_ns()), None)  # fmt: skip

    send(sixe, OrderSide.BUY, "4")
    send(mnq, OrderSide.SELL, "3")
    resting = [send(sixe, OrderSide.BUY, "2", "1.09000"), send(mnq, OrderSide.SELL, "1", "17000.00")]
    assert kernel.portfolio.position(sixe).quantity == 4 and kernel.portfolio.position(mnq).quantity == -3
    kernel.flatten_all("operator: end of a bad day", actor="cli")
    assert all(o.status is OrderStatus.CANCELED for o in resting)
    assert kernel.portfolio.position(sixe).quantity == 0 and kernel.portfolio.position(mnq).quantity == 0
    assert not kernel.orders.open_orders()
    state = store.load_state(orders_since_ns=0)
    store.close()
    assert all(p.quantity == 0 for p in state.positions.values()) and not state.open_orders
    assert {o.status for o in state.orders.values()} == {OrderStatus.FILLED, OrderStatus.CANCELED}
    kinds = [
        k for k in (r.kind for r in open_store(f"sqlite:///{tmp_path / 'flatten.sqlite'}").read_risk_events())
    ]
    assert kinds[0] == "FlattenStarted" and "FlattenFinished" in kinds and "TradingStateChanged" in kinds
