"""Acceptance: an unmodified ccxt (REST and ccxt.pro) trades on the emulator exactly as it would on Binance."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.emulator.support import admin, ccxt_clients, emulator, run
from tradewright.core.errors import BookError
from tradewright.model.book import OrderBook
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, MarketStream


def recorded_book(
    stream: MarketStream, update_id: int, depth: int
) -> tuple[list[list[float]], list[list[float]]]:
    """The recording's book right after the depth message with final update id `update_id`."""
    is_depth = (stream.kind == KIND_DELTA) | (stream.kind == KIND_CLEAR)
    ends = np.flatnonzero(is_depth & (stream.update_id == update_id) & (stream.flags & F_LAST).astype(bool))
    assert len(ends), f"update id {update_id} is not a message of the recording"
    stop = int(ends[-1]) + 1
    start = int(np.flatnonzero(stream.kind[:stop] == KIND_CLEAR)[-1])
    book = OrderBook(stream.instrument)
    for k in range(start + 1, stop):
        if stream.kind[k] == KIND_DELTA:
            try:
                book.set_level(int(stream.side[k]), int(stream.tick[k]), int(stream.lots[k]))
            except BookError:
                continue  # a level far outside the market (e.g. 200000.00): no client compares those
    bids = [[float(p), float(q)] for p, q in book.depth(1, depth)]
    asks = [[float(p), float(q)] for p, q in book.depth(-1, depth)]
    return bids, asks


async def _watch_book_matches_recording(pro: Any, symbol: str, stream: MarketStream) -> int:
    nonces = []
    for _ in range(4):
        book = await asyncio.wait_for(pro.watch_order_book(symbol), 10)
        nonce, bids, asks = (
            book["nonce"],
            [list(b) for b in book["bids"][:50]],
            [list(a) for a in book["asks"][:50]],
        )
        nonces.append(nonce)
        want_bids, want_asks = recorded_book(stream, nonce, 50)
        assert bids == want_bids, f"bids differ from the recording at update id {nonce}"
        assert asks == want_asks, f"asks differ from the recording at update id {nonce}"
    assert nonces == sorted(nonces) and nonces[-1] > nonces[0], "the book did not move with the replay"
    return int(nonces[-1])


def _check_full_cycle(venue: str, stream: MarketStream, state: Path) -> None:
    futures = venue == "binance-usdm"
    symbol = "BTC/USDT:USDT" if futures else "BTC/USDT"
    qty = 0.002 if futures else 0.001

    async def body() -> None:
        async with (
            emulator(stream, state, venue, speed=10) as server,
            ccxt_clients(server.port, futures=futures) as (
                rest,
                pro,
            ),
        ):
            market = rest.market(symbol)
            assert market["id"] == "BTCUSDT"
            assert market["precision"]["price"] == float(stream.instrument.tick_size)

            await _watch_book_matches_recording(pro, symbol, stream)

            balance0 = await rest.fetch_balance()
            ob = await rest.fetch_order_book(symbol, 5)
            best_bid = ob["bids"][0][0]

            # a resting order: placed, visible, queried, cancelled, seen on the user stream
            watcher = asyncio.create_task(pro.watch_orders(symbol))
            await asyncio.sleep(0.3)
            far = rest.price_to_precision(symbol, best_bid * 0.99)
            order = await rest.create_order(
                symbol, "limit", "buy", qty, float(far), {"clientOrderId": "rest-1"}
            )
            assert order["status"] == "open" and order["clientOrderId"] == "rest-1"
            fetched = await rest.fetch_order(order["id"], symbol)
            assert fetched["status"] == "open" and fetched["price"] == float(far) and fetched["filled"] == 0
            assert [o["id"] for o in await rest.fetch_open_orders(symbol)] == [order["id"]]
            seen = await asyncio.wait_for(watcher, 10)
            assert (seen[-1]["id"], seen[-1]["status"]) == (order["id"], "open")
            watcher = asyncio.create_task(pro.watch_orders(symbol))
            await asyncio.sleep(0.1)
            canceled = await rest.cancel_order(order["id"], symbol)
            assert canceled["status"] == "canceled"
            seen = await asyncio.wait_for(watcher, 10)
            assert (seen[-1]["id"], seen[-1]["status"]) == (order["id"], "canceled")
            assert await rest.fetch_open_orders(symbol) == []

            # a taker order: filled against the replayed book, reported with fills and fees
            watcher = asyncio.create_task(pro.watch_orders(symbol))
            await asyncio.sleep(0.1)
            taken = await rest.create_order(symbol, "market", "buy", qty)
            assert taken["status"] == "closed" and taken["filled"] == qty
            updates = await asyncio.wait_for(watcher, 10)
            assert updates[-1]["id"] == taken["id"]
            trades = await rest.fetch_my_trades(symbol)
            assert [t["order"] for t in trades] == [taken["id"]] * len(trades)
            assert sum(t["amount"] for t in trades) == pytest.approx(qty)
            assert all(t["takerOrMaker"] == "taker" and t["fee"]["cost"] > 0 for t in trades)
            cost = sum(t["cost"] for t in trades)
            fee = sum(t["fee"]["cost"] for t in trades)

            balance = await rest.fetch_balance()
            if futures:
                assert trades[0]["fee"]["currency"] == "USDT"
                wallet0, wallet = (float(b["info"]["totalWalletBalance"]) for b in (balance0, balance))
                assert wallet == pytest.approx(wallet0 - fee, abs=1e-9)  # total also holds unrealised PnL
                positions = await rest.fetch_positions([symbol])
                assert [(p["side"], p["contracts"]) for p in positions] == [("long", qty)]
                assert positions[0]["entryPrice"] == pytest.approx(cost / qty)
            else:
                assert trades[0]["fee"]["currency"] == "BTC"  # Binance charges the asset received
                assert balance["total"]["BTC"] == pytest.approx(
                    balance0["total"]["BTC"] + qty - fee, abs=1e-9
                )
                assert balance["total"]["USDT"] == pytest.approx(balance0["total"]["USDT"] - cost, abs=1e-6)
            assert taken["average"] == pytest.approx(cost / qty)

        # every request ccxt made is one the emulator implements (nothing fell through to a 404)
        unknown = [r for r in server.requests if tuple(r.split(" ", 1)) not in server.rest_routes]
        assert unknown == []

    run(body(), timeout=60)


def test_ccxt_full_cycle_on_spot(spot_stream: MarketStream, tmp_path: Path) -> None:
    _check_full_cycle("binance-spot", spot_stream, tmp_path / "state.sqlite")


def test_ccxt_full_cycle_on_usdm(usdm_stream: MarketStream, tmp_path: Path) -> None:
    _check_full_cycle("binance-usdm", usdm_stream, tmp_path / "state.sqlite")


def test_ccxt_watch_balance_and_my_trades_follow_a_fill_on_spot(
    spot_stream: MarketStream, tmp_path: Path
) -> None:
    async def body() -> None:
        async with (
            emulator(spot_stream, tmp_path / "s.sqlite", "binance-spot") as server,
            ccxt_clients(server.port, futures=False) as (rest, pro),
        ):
            balances = asyncio.create_task(pro.watch_balance())
            my_trades = asyncio.create_task(pro.watch_my_trades("BTC/USDT"))
            await asyncio.sleep(0.3)
            await rest.create_order("BTC/USDT", "market", "sell", 0.001)
            balance = await asyncio.wait_for(balances, 10)
            trades = await asyncio.wait_for(my_trades, 10)
            assert balance["BTC"]["total"] == pytest.approx(0.999)
            assert trades[-1]["side"] == "sell" and trades[-1]["amount"] == 0.001
            assert trades[-1]["fee"]["currency"] == "USDT"

    run(body())


def test_ccxt_post_only_that_would_take_is_refused_on_both_apis(
    spot_stream: MarketStream, usdm_stream: MarketStream, tmp_path: Path
) -> None:
    import ccxt

    async def body(stream: MarketStream, venue: str, symbol: str, qty: float) -> None:
        futures = venue == "binance-usdm"
        async with (
            emulator(stream, tmp_path / f"{venue}.sqlite", venue) as server,
            ccxt_clients(server.port, futures=futures) as (rest, _),
        ):
            await admin(server.port, "POST", "replay", {"paused": True})  # the book holds still
            ask = (await rest.fetch_order_book(symbol, 5))["asks"][0][0]
            with pytest.raises(ccxt.BaseError) as caught:
                await rest.create_order(symbol, "limit", "buy", qty, ask, {"postOnly": True})
            if futures:  # -5022 is mapped only for fapi.binance.com URLs: ccxt raises its generic error
                assert '"code":-5022' in str(caught.value)
            else:
                assert isinstance(caught.value, ccxt.OrderImmediatelyFillable)
            assert await rest.fetch_open_orders(symbol) == []

    run(body(spot_stream, "binance-spot", "BTC/USDT", 0.001))
    run(body(usdm_stream, "binance-usdm", "BTC/USDT:USDT", 0.002))


def test_usdm_batch_orders_place_and_cancel_through_ccxt(usdm_stream: MarketStream, tmp_path: Path) -> None:
    async def body() -> None:
        async with (
            emulator(usdm_stream, tmp_path / "u.sqlite", "binance-usdm") as server,
            ccxt_clients(server.port, futures=True) as (rest, _),
        ):
            symbol = "BTC/USDT:USDT"
            bid = (await rest.fetch_order_book(symbol, 5))["bids"][0][0]
            prices = [float(rest.price_to_precision(symbol, bid * f)) for f in (0.97, 0.98)]
            placed = await rest.create_orders(
                [
                    {"symbol": symbol, "type": "limit", "side": "buy", "amount": 0.002, "price": p}
                    for p in prices
                ]
            )
            assert [o["status"] for o in placed] == ["open", "open"]
            assert {o["price"] for o in await rest.fetch_open_orders(symbol)} == set(prices)
            canceled = await rest.cancel_orders([o["id"] for o in placed], symbol)
            assert [o["status"] for o in canceled] == ["canceled", "canceled"]
            assert await rest.fetch_open_orders(symbol) == []
            assert Decimal(str(prices[0])) % Decimal("0.1") == 0

    run(body())
