"""Alpaca end to end: the Alpaca venue (alpaca-py) against the local Alpaca (REST, trade_updates and the
market-data stream, from Alpaca's documented payloads), replaying recorded NVDA daily bars.

Connect, resolve the asset, stream bars (equal to the recording), place a bracket, get a 30 % partial
fill and then the rest (the legs go live once the entry is complete, as Alpaca does), cancel the target,
lose the trade stream while the stop fills, reconnect and reconcile (the fill is recovered from the FILL
activities; position and cash agree to the cent)."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.conftest import shared_data
from tests.venues.alpaca.harness import KEY, NVDA, alpaca, config, venue
from tests.venues.kit import Book, command, until
from tradewright.core.clock import LiveClock
from tradewright.core.errors import ConfigError, VenueError
from tradewright.core.ids import ClientOrderId
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.bracket import make_bracket
from tradewright.model.data import Bar
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import OrderAccepted, OrderCanceled, OrderFilled, OrderRejected, OrderUpdated
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.alpaca import AlpacaConfig, connect, credentials

D = Decimal
DAY_NS = 86_400_000_000_000
WARMUP = 5


def nvda_2014() -> list[tuple[int, Decimal, Decimal, Decimal, Decimal]]:
    """(close time ns, open, high, low, close) of the NVDA daily rows from 2014-01-02, on the cent."""
    out = []
    with shared_data(NVDA).open() as f:
        for r in csv.DictReader(f):
            if r["Date"] < "2014-01-02":
                continue
            day = int(datetime.fromisoformat(r["Date"]).replace(tzinfo=UTC).timestamp()) * 1_000_000_000
            out.append((day + DAY_NS, *(D(r[k]).quantize(D("0.01")) for k in ("Open", "High", "Low", "Close"))))
    return out


def test_connect_stream_bracket_partial_fill_cancel_reconnect_and_reconcile() -> None:
    rows = nvda_2014()

    async def scenario() -> None:
        async with alpaca() as server, venue(server) as (v, book):
            (iid,) = v.instruments
            inst = v.instruments[iid]
            assert (str(iid), inst.tick_size, inst.lot_size) == ("NVDA.ALPACA", D("0.01"), D(1))
            book.portfolio = type(book.portfolio)({"USD": D(100_000)})

            bars: list[Bar] = []
            stream = asyncio.create_task(v.market_data.run_bars(iid, DAY_NS, bars.append))
            await asyncio.sleep(0.5)  # the subscription goes out
            await server.step(2, "bars:NVDA")
            await until(lambda: len(bars) == 2, timeout_s=10, what="two bars")
            for bar, row in zip(bars, rows[WARMUP : WARMUP + 2], strict=True):
                assert (bar.ts_event, bar.open, bar.high, bar.low, bar.close) == row

            server.protocol.book.partial_fill_pct = 30  # type: ignore[attr-defined]
            ask = rows[WARMUP + 1][4] + D("0.01")
            bracket = make_bracket(
                command("E1", iid, OrderSide.BUY, "10"), stop_id=ClientOrderId("S1"), stop_price=D("10.00"),
                target_id=ClientOrderId("T1"), target_price=D("30.00"),
            )
            entry, stop, target = (book.new_order(c) for c in bracket.commands)
            v.execution.submit_bracket(entry, stop, target)
            await until(lambda: entry.filled_qty == 3, timeout_s=10, what="the 30 % fill")
            assert {o.client_order_id for o in (entry, stop, target) if o.status is OrderStatus.ACCEPTED} == {"S1", "T1"}
            assert len(book.of(OrderAccepted)) == 3  # the legs are held by Alpaca from the start
            await server.step(1, "bars:NVDA")
            await until(lambda: entry.filled_qty == 10, timeout_s=10, what="the rest")
            next_open = rows[WARMUP + 2][1]
            assert [(f.last_qty, f.last_px) for f in book.of(OrderFilled, "E1")] == [(3, ask), (7, next_open)]
            assert entry.avg_px == (3 * ask + 7 * next_open) / 10

            v.execution.cancel(target)
            await until(lambda: target.status is OrderStatus.CANCELED, timeout_s=10, what="the cancel")
            assert stop.status is OrderStatus.ACCEPTED

            # The trade stream drops; the stop fills meanwhile; the stream reconnects and we look again.
            reconnects: list[int] = []
            v.execution._stream.on_reconnect.append(lambda: reconnects.append(1))
            await server.close_connections()
            leg = next(o for o in server.protocol.book.orders.values() if o.type == "stop")  # type: ignore[attr-defined]
            server.protocol.book.fill_at_quote(leg)  # type: ignore[attr-defined]
            await until(lambda: stop.status is OrderStatus.FILLED, timeout_s=20, what="the fill recovered")
            assert reconnects

            assert await v.execution.open_orders(iid) == []
            view = await v.execution.query_order(iid, ClientOrderId("S1"))
            assert view is not None and view.status is VenueOrderStatus.FILLED
            snapshot = await v.execution.account([iid])
            assert iid not in snapshot.positions and book.portfolio.position(inst).quantity == 0
            assert snapshot.balances["USD"] == book.portfolio.balance("USD")
            fills = await v.execution.order_fills(view)
            assert [f.trade_id for f in fills] == [f.trade_id for f in book.of(OrderFilled, "S1")]
            stream.cancel()

    asyncio.run(scenario())


def test_a_resting_limit_is_replaced_under_the_same_client_order_id_and_a_refused_order_is_rejected() -> None:
    async def scenario() -> None:
        async with alpaca() as server, venue(server) as (v, book):
            (iid,) = v.instruments
            limit = book.new_order(command("L1", iid, OrderSide.BUY, "5", "1.00"))
            v.execution.submit(limit)
            await until(lambda: limit.status is OrderStatus.ACCEPTED, timeout_s=10, what="the ack")
            first_id = limit.venue_order_id
            v.execution.modify(limit, D("1.50"), D("7"))
            await until(lambda: limit.quantity == 7, timeout_s=10, what="the replace")
            (update,) = book.of(OrderUpdated)
            assert update.price == D("1.50") and update.venue_order_id not in (None, first_id)
            bad = book.new_order(command("B1", iid, OrderSide.BUY, "1", "1.005"))
            v.execution.submit(bad)
            await until(lambda: bad.status is OrderStatus.REJECTED, timeout_s=10, what="the rejection")
            assert book.of(OrderRejected)[0].reason == "alpaca_42210000"
            v.execution.cancel(limit)
            await until(lambda: limit.status is OrderStatus.CANCELED, timeout_s=10, what="the cancel")
            assert book.of(OrderCanceled)[0].client_order_id == "L1"

    asyncio.run(scenario())


def test_crypto_minute_bars_stream_on_the_crypto_endpoint() -> None:
    async def scenario() -> None:
        async with alpaca(crypto=True) as server, venue(server, symbols=["BTC/USD"]) as (v, _):
            (iid,) = v.instruments
            assert str(iid) == "BTCUSD.ALPACA" and v.instruments[iid].lot_size == D("0.0001")
            bars: list[Bar] = []
            task = asyncio.create_task(v.market_data.run_bars(iid, 60_000_000_000, bars.append))
            await asyncio.sleep(0.5)
            await server.step(3, "bars:BTC/USD")
            await until(lambda: len(bars) == 3, timeout_s=10, what="three bars")
            assert all(b.ts_event - bars[0].ts_event in (0, 60_000_000_000, 120_000_000_000) for b in bars)
            task.cancel()

    asyncio.run(scenario())


def test_wrong_or_missing_keys_and_an_unreachable_api_stop_the_start_with_a_clear_message() -> None:
    cfg = AlpacaConfig(symbols=["NVDA"])
    with pytest.raises(ConfigError, match=r"missing Alpaca \(paper\) credentials: set APCA_API_KEY_ID and APCA_API_SECRET_KEY"):
        credentials(cfg, environ={})

    async def scenario() -> None:
        hooks = VenueHooks(clock=LiveClock(), emit=Book().emit)
        async with alpaca() as server:
            wrong = Credentials("Alpaca", {"api_key": KEY, "secret": "not-the-secret"})
            with pytest.raises(ConfigError, match="Alpaca \\(paper\\) refused the API key") as err:
                await connect(config(server), wrong, hooks)
            assert "not-the-secret" not in str(err.value)
            with pytest.raises(ConfigError, match="Alpaca has no asset 'NOPE'"):
                await connect(config(server, symbols=["NOPE"]), Credentials("Alpaca", {"api_key": KEY, "secret": "s3cr3t-for-tests-only"}), hooks)
            port = server.port
        with pytest.raises(VenueError, match=f"cannot reach Alpaca at http://127.0.0.1:{port}"):
            await connect(AlpacaConfig(symbols=["NVDA"], trading_url=f"http://127.0.0.1:{port}", timeout_s=2), wrong, hooks)

    asyncio.run(scenario())
