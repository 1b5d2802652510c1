"""Interactive Brokers end to end: the IB venue (ib-async) against the local gateway speaking the TWS
socket protocol, replaying the recorded CME 6EH4 one-minute bars.

Connect, resolve the front contract on the gateway's date, stream bars (equal to the recording), place a
bracket, get a 30 % partial fill and then the rest (the children follow: 3 then 10), cancel the target,
lose the connection while the stop fills at the gateway, reconnect and reconcile (the fill is recovered,
positions and cash agree to the cent)."""

from __future__ import annotations

import asyncio
import csv
import gzip
from datetime import UTC, datetime
from decimal import Decimal

from tests.conftest import shared_data
from tests.venues.ib.harness import SIXE, gateway, venue
from tests.venues.kit import command, until
from tradewright.core.ids import ClientOrderId
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.bracket import make_bracket
from tradewright.model.data import Bar
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import OrderAccepted, OrderCanceled, OrderFilled, OrderUpdated
from tradewright.venues._common.ports import VenueHealth

D = Decimal
MINUTE_NS = 60_000_000_000
WARMUP = 60
TICK = D("0.00005")


def recorded_rows() -> list[tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]]:
    """(close time ns, open, high, low, close, volume) of each row of the 6EH4 file (stamped at the close)."""
    rows = []
    with gzip.open(shared_data(SIXE), "rt") as f:
        for r in csv.DictReader(f):
            ts = datetime.fromisoformat(r["timestamp_utc"]).replace(tzinfo=UTC)
            rows.append((int(ts.timestamp()) * 1_000_000_000, *(D(r[k]) for k in ("open", "high", "low", "close", "volume"))))
    return rows


def test_connect_stream_bracket_partial_fill_cancel_reconnect_and_reconcile() -> None:
    rows = recorded_rows()

    async def scenario() -> None:
        async with gateway(warmup=WARMUP, starting_cash=D(1_000_000)) as server, venue(server) as (v, book):
            book.portfolio = type(book.portfolio)({"USD": D(1_000_000)})
            # Resolved on the gateway's date (2 Jan 2024): the March contract is the front month.
            (iid,) = v.instruments
            assert str(iid) == "6EH4.IB"
            inst = v.instruments[iid]
            assert (inst.tick_size, inst.multiplier, inst.sessions[1].name) == (TICK, D(125_000), "rth")

            bars: list[Bar] = []
            books: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]] = []
            streams = [
                asyncio.create_task(v.market_data.run_bars(iid, MINUTE_NS, bars.append)),
                asyncio.create_task(v.market_data.run_book(iid, lambda i, b, a: books.append((b, a)))),
            ]
            await until(lambda: bool(books), what="the first quote")
            server.step(3)
            await until(lambda: len(bars) == 3, what="three bars")
            for bar, row in zip(bars, rows[WARMUP : WARMUP + 3], strict=True):
                assert (bar.ts_event, bar.open, bar.high, bar.low, bar.close, bar.volume) == row
            last_close = rows[WARMUP + 2][4]
            assert books[-1] == ([(int(last_close / TICK), 50)], [(int(last_close / TICK) + 1, 50)])

            # A bracket: buy 10 at market, stop 100 ticks below, target 200 above.
            server.set_partial_fill(30)
            ask = last_close + TICK
            bracket = make_bracket(
                command("E1", iid, OrderSide.BUY, "10"),
                stop_id=ClientOrderId("S1"), stop_price=ask - 100 * TICK,
                target_id=ClientOrderId("T1"), target_price=ask + 200 * TICK,
            )
            entry, stop, target = (book.new_order(c) for c in bracket.commands)
            v.execution.submit_bracket(entry, stop, target)
            await until(lambda: entry.filled_qty == 3 and stop.quantity == 3 == target.quantity, what="the 30 % fill")
            assert entry.status is OrderStatus.PARTIALLY_FILLED
            assert [type(e) for e in book.of(OrderAccepted)] == [OrderAccepted] * 3
            server.step()
            await until(lambda: entry.filled_qty == 10 and stop.quantity == 10 == target.quantity, what="the rest")
            next_open = rows[WARMUP + 3][1]
            assert [(f.last_qty, f.last_px) for f in book.of(OrderFilled, "E1")] == [(3, ask), (7, next_open)]
            assert entry.avg_px == (3 * ask + 7 * next_open) / 10
            assert [u.quantity for u in book.of(OrderUpdated, "S1")] == [3, 10]
            assert sum(f.fee for f in book.of(OrderFilled, "E1")) == D("8.50")  # 0.85 USD a contract

            v.execution.cancel(target)
            await until(lambda: target.status is OrderStatus.CANCELED, what="the cancel")
            assert "202" in book.of(OrderCanceled, "T1")[0].reason
            assert stop.status is OrderStatus.ACCEPTED  # the stop still protects the position

            # The connection drops; meanwhile the stop fills at the gateway.
            reconnects: list[int] = []
            v.session.on_reconnect.append(lambda: reconnects.append(1))
            server.drop_connections()
            await until(lambda: v.session.health is VenueHealth.DOWN, what="DOWN")
            server.fill_now("S1")
            await until(lambda: stop.status is OrderStatus.FILLED, timeout_s=10, what="the fill recovered")
            assert reconnects and [s.health for s in book.statuses][-2:] == [VenueHealth.DOWN, VenueHealth.UP]

            # Reconcile: nothing open, flat, and cash equal to the cent.
            assert await v.execution.open_orders(iid) == []
            view = await v.execution.query_order(iid, ClientOrderId("S1"))
            assert view is not None and view.status is VenueOrderStatus.FILLED and view.filled_qty == 10
            snapshot = await v.execution.account([iid])
            assert iid not in snapshot.positions and book.portfolio.position(inst).quantity == 0
            assert snapshot.balances["USD"] == book.portfolio.balance("USD")
            fills = await v.execution.order_fills(view)
            assert [f.trade_id for f in fills] == [f.trade_id for f in book.of(OrderFilled, "S1")]
            for task in streams:
                task.cancel()

    asyncio.run(scenario())


def test_bars_completed_while_disconnected_are_delivered_once_after_the_reconnect() -> None:
    rows = recorded_rows()

    async def scenario() -> None:
        async with gateway(warmup=WARMUP) as server, venue(server) as (v, _):
            (iid,) = v.instruments
            bars: list[Bar] = []
            task = asyncio.create_task(v.market_data.run_bars(iid, MINUTE_NS, bars.append))
            await asyncio.sleep(0.2)
            server.step(2)
            await until(lambda: len(bars) == 2, what="two bars")
            server.drop_connections()
            await until(lambda: v.session.health is VenueHealth.DOWN, what="DOWN")
            server.step(3)  # three bars complete while the client is away
            await until(lambda: len(bars) >= 4, timeout_s=10, what="the missed bars")
            server.step(1)
            await until(lambda: len(bars) == 6, what="the next bar")
            assert [b.ts_event for b in bars] == [r[0] for r in rows[WARMUP : WARMUP + 6]]
            task.cancel()

    asyncio.run(scenario())


def test_ib_connectivity_codes_degrade_the_venue_and_1102_reconciles() -> None:
    async def scenario() -> None:
        async with gateway() as server, venue(server) as (v, book):
            reconciles: list[int] = []
            v.session.on_reconnect.append(lambda: reconciles.append(1))
            server.broadcast_error(1100, "Connectivity between IB and Trader Workstation has been lost.")
            await until(lambda: v.session.health is VenueHealth.DEGRADED, what="DEGRADED")
            server.broadcast_error(1102, "Connectivity between IB and TWS has been restored - data maintained.")
            await until(lambda: v.session.health is VenueHealth.UP and reconciles == [1], what="UP again")
            assert [s.health for s in book.statuses] == [VenueHealth.UP, VenueHealth.DEGRADED, VenueHealth.UP]

    asyncio.run(scenario())


