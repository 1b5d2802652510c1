"""REST market data (trades, aggregate trades, klines, tickers) agrees with the recording replayed so far,
and order handling details: quote-quantity market orders and order latency in data time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tests.integration.emulator.support import admin, ccxt_clients, emulator, run
from tradewright.model.columnar import KIND_TRADE, MarketStream


def test_trades_klines_and_tickers_match_the_recorded_trades(
    spot_stream: MarketStream, tmp_path: Path
) -> None:
    stream = spot_stream
    inst = stream.instrument

    async def body() -> None:
        async with (
            emulator(stream, tmp_path / "m.sqlite", "binance-spot", speed=30) as server,
            ccxt_clients(server.port, futures=False) as (rest, _),
        ):
            await admin(server.port, "POST", "replay", {"paused": True})
            row = (await admin(server.port, "GET", "status"))["row"]
            rows = np.flatnonzero(stream.kind[:row] == KIND_TRADE)
            assert len(rows) > 50
            ids = [str(int(i)) for i in stream.update_id[rows]]

            recent = await rest.fetch_trades(
                "BTC/USDT", limit=20, params={"fetchTradesMethod": "publicGetTrades"}
            )
            assert [t["id"] for t in recent] == ids[-20:]
            aggregated = await rest.fetch_trades("BTC/USDT", limit=20)  # ccxt's default: aggTrades
            assert [t["id"] for t in aggregated] == ids[-20:]
            last = rows[-1]
            assert aggregated[-1]["price"] == float(inst.ticks_to_price(int(stream.tick[last])))
            assert aggregated[-1]["side"] == ("buy" if stream.side[last] > 0 else "sell")

            candles = await rest.fetch_ohlcv("BTC/USDT", "1m")
            minutes = (stream.ts_event[rows] // 1_000_000) // 60_000 * 60_000
            for opened, o, h, low, c, volume in candles:
                mine = rows[minutes == opened]
                ticks = stream.tick[mine]
                assert [o, h, low, c] == [
                    float(inst.ticks_to_price(int(t)))
                    for t in (ticks[0], ticks.max(), ticks.min(), ticks[-1])
                ]
                assert Decimal(str(volume)) == inst.lots_to_size(int(stream.lots[mine].sum()))
            assert sum(len(rows[minutes == c[0]]) for c in candles) == len(rows)

            ticker = await rest.fetch_ticker("BTC/USDT")
            book = await rest.fetch_order_book("BTC/USDT", 5)
            assert (ticker["bid"], ticker["ask"]) == (book["bids"][0][0], book["asks"][0][0])
            assert ticker["last"] == aggregated[-1]["price"]
            bids_asks = await rest.fetch_bids_asks(["BTC/USDT"])
            assert bids_asks["BTC/USDT"]["bid"] == book["bids"][0][0]

    run(body())


def test_a_market_buy_for_a_quote_amount_spends_at_most_that_amount(
    spot_stream: MarketStream, tmp_path: Path
) -> None:
    async def body() -> None:
        async with (
            emulator(spot_stream, tmp_path / "m.sqlite", "binance-spot") as server,
            ccxt_clients(server.port, futures=False) as (rest, _),
        ):
            order = await rest.create_market_buy_order_with_cost("BTC/USDT", 100)
            assert order["status"] == "closed"
            assert 100 - order["average"] * 0.00001 <= order["cost"] <= 100

    run(body())


@pytest.mark.parametrize("latency_ms", [0, 300])
def test_order_latency_delays_the_arrival_in_data_time(
    latency_ms: int, usdm_stream: MarketStream, tmp_path: Path
) -> None:
    async def body() -> None:
        async with (
            emulator(
                usdm_stream, tmp_path / "m.sqlite", "binance-usdm", speed=10, order_latency_ms=latency_ms
            ) as server,
            ccxt_clients(server.port, futures=True) as (rest, _),
        ):
            order = await rest.create_order(
                "BTC/USDT:USDT", "market", "buy", 0.002, params={"newOrderRespType": "RESULT"}
            )
            trades = await rest.fetch_my_trades("BTC/USDT:USDT")
            # the order was stamped when it was sent; its fill when it reached the matching engine
            assert latency_ms <= trades[0]["timestamp"] - order["timestamp"] < latency_ms + 100

    run(body())
