"""Acceptance: a post-only bid at the touch waits in the queue; it fills only when the recorded trades have
consumed the size displayed ahead of it — seen through the wire with ccxt.

The expectation is computed here, independently of the emulator, from the recording itself with the
conservative queue rule (trades at our price eat the queue ahead; a level that shrinks below it caps it;
a trade through our price or a crossing ask fills us outright).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from tests.integration.emulator.support import admin, ccxt_clients, emulator, run
from tradewright.model.columnar import KIND_CLEAR, KIND_DELTA, KIND_TRADE, MarketStream

SYMBOL = "BTC/USDT:USDT"
QTY_LOTS = 2  # 0.002 BTC


@dataclass(frozen=True)
class Expected:
    cause: str  # consumed | through | crossed
    row: int
    traded_at_price_lots: int  # sell volume at our price between arrival and the fill


def expected_first_fill(stream: MarketStream, start: int, bid_tick: int, ahead_lots: int) -> Expected | None:
    front = ahead_lots
    traded = 0
    kind, side, tick, lots = stream.kind, stream.side, stream.tick, stream.lots
    for j in range(start, len(stream)):
        if kind[j] == KIND_TRADE and side[j] <= 0:
            if tick[j] == bid_tick:
                traded += int(lots[j])
                front -= int(lots[j])
                if front < 0:
                    return Expected("consumed", j, traded)
            elif tick[j] < bid_tick:
                return Expected("through", j, traded)
        elif kind[j] == KIND_DELTA:
            if side[j] > 0 and tick[j] == bid_tick and lots[j] < front:
                front = int(lots[j])
            if side[j] < 0 and lots[j] > 0 and tick[j] <= bid_tick:
                return Expected("crossed", j, traded)
        elif kind[j] == KIND_CLEAR:
            return None
    return None


def test_post_only_bid_at_the_touch_fills_only_after_the_queue_ahead_trades(
    usdm_stream: MarketStream, tmp_path: Path
) -> None:
    stream = usdm_stream
    inst = stream.instrument
    times = np.maximum.accumulate(stream.ts_recv)

    async def body() -> None:
        async with (
            emulator(stream, tmp_path / "q.sqlite", "binance-usdm", speed=10) as server,
            ccxt_clients(server.port, futures=True) as (rest, pro),
        ):
            public = asyncio.create_task(pro.watch_trades(SYMBOL))
            # find a moment where the queue at the best bid will be eaten by trades within a few seconds
            for _ in range(40):
                await admin(server.port, "POST", "replay", {"paused": True})
                status = await admin(server.port, "GET", "status")
                book = await rest.fetch_order_book(SYMBOL, 5)
                bid, ahead = (Decimal(str(x)) for x in book["bids"][0])
                bid_tick, ahead_lots = inst.price_to_ticks(bid), inst.size_to_lots(ahead)
                plan = expected_first_fill(stream, status["row"], bid_tick, ahead_lots)
                if (
                    plan is not None
                    and plan.cause == "consumed"
                    and plan.traded_at_price_lots > 0
                    and times[plan.row] - status["dataTimeNs"] < 6_000_000_000
                ):
                    break
                await admin(server.port, "POST", "replay", {"paused": False})
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("no moment with a queue consumed by trades was found")

            my_trades = asyncio.create_task(pro.watch_my_trades(SYMBOL))
            await asyncio.sleep(0.2)
            order = await rest.create_order(SYMBOL, "limit", "buy", 0.002, float(bid), {"postOnly": True})
            assert order["status"] == "open" and order["postOnly"]
            # the venue put us behind everything displayed at our price
            info = await admin(server.port, "GET", f"orders/{order['id']}")
            assert Decimal(info["queueAhead"]) == ahead

            await admin(server.port, "POST", "replay", {"paused": False})
            fills = await asyncio.wait_for(my_trades, 20)
            first = fills[0]
            venue_ms = (int(times[plan.row]) + status["venueOffsetNs"]) // 1_000_000
            assert first["order"] == order["id"] and first["takerOrMaker"] == "maker"
            assert first["price"] == float(bid)
            assert first["timestamp"] == venue_ms, "filled at another moment than the queue rule says"
            overflow = plan.traded_at_price_lots - ahead_lots  # > 0 unless the level shrank below our front
            assert Decimal(str(first["amount"])) <= inst.lots_to_size(QTY_LOTS)
            if overflow > 0:
                assert Decimal(str(first["amount"])) == inst.lots_to_size(min(overflow, QTY_LOTS))

            # the public trade stream carried every recorded sell at our price that ate the queue ahead
            public.cancel()
            seen = {t["id"]: t for t in pro.trades.get(SYMBOL, [])}
            rows = np.arange(status["row"], plan.row + 1)
            eating = rows[
                (stream.kind[rows] == KIND_TRADE) & (stream.tick[rows] == bid_tick) & (stream.side[rows] < 0)
            ]
            assert len(eating) > 0
            for k in eating:
                trade = seen[str(int(stream.update_id[k]))]
                assert (trade["price"], trade["side"]) == (float(bid), "sell")
            assert sum(int(stream.lots[k]) for k in eating) == plan.traded_at_price_lots

    run(body(), timeout=90)
