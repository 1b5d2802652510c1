"""USD-M Modify Order (`PUT /fapi/v1/order`) on the emulator, through the wire, with Binance's rules: the
order keeps its id; a smaller size at the same price keeps its place in the queue, a new price puts it
behind what is displayed there; an amendment that would make a post-only order take cancels it; a
refused amendment leaves the order as it was; the user stream reports each change as AMENDMENT.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from tests.integration.emulator.support import Signed, admin, ccxt_clients, emulator, run
from tradewright.model.columnar import MarketStream

SYMBOL = "BTC/USDT:USDT"
PATH = "/fapi/v1/order"


async def _book_top(rest: Any) -> tuple[Decimal, Decimal, Decimal]:
    book = await rest.fetch_order_book(SYMBOL, 5)
    bid, ahead = (Decimal(str(x)) for x in book["bids"][0])
    return bid, ahead, Decimal(str(book["asks"][0][0]))


def test_modify_keeps_the_order_id_and_follows_binance_queue_rules(
    usdm_stream: MarketStream, tmp_path: Path
) -> None:
    tick = usdm_stream.instrument.tick_size

    async def body() -> None:
        async with (
            emulator(usdm_stream, tmp_path / "m.sqlite", "binance-usdm", speed=1) as server,
            ccxt_clients(server.port, futures=True) as (rest, pro),
            aiohttp.ClientSession() as session,
        ):
            wire = Signed(session, server.port)
            await admin(server.port, "POST", "replay", {"paused": True})
            seen: list[dict[str, Any]] = []

            async def collect() -> None:
                while True:
                    seen.extend(dict(o["info"]) for o in await pro.watch_orders(SYMBOL))

            updates = asyncio.create_task(collect())
            await asyncio.sleep(0.3)
            bid, ahead, ask = await _book_top(rest)
            order = await rest.create_order(SYMBOL, "limit", "buy", 0.005, float(bid), {"postOnly": True})
            oid = int(order["id"])
            info = await admin(server.port, "GET", f"orders/{oid}")
            assert Decimal(info["queueAhead"]) == ahead

            # smaller at the same price: same id, same place in the queue
            status, answer, _ = await wire.call(
                "PUT", PATH, {"symbol": "BTCUSDT", "orderId": oid, "side": "BUY", "quantity": "0.003", "price": str(bid)}
            )  # fmt: skip
            assert status == 200, answer
            assert (answer["orderId"], answer["status"], answer["origQty"]) == (oid, "NEW", "0.003")
            assert Decimal((await admin(server.port, "GET", f"orders/{oid}"))["queueAhead"]) == ahead

            # a new price (by client order id): same id, behind everything displayed at the new price
            lower = bid - 3 * tick
            book = await rest.fetch_order_book(SYMBOL, 50)
            shown = {Decimal(str(p)): Decimal(str(q)) for p, q in book["bids"]}
            status, answer, _ = await wire.call(
                "PUT", PATH,
                {"symbol": "BTCUSDT", "origClientOrderId": order["clientOrderId"], "side": "BUY",
                 "quantity": "0.003", "price": str(lower)},
            )  # fmt: skip
            assert status == 200, answer
            assert (answer["orderId"], Decimal(answer["price"])) == (oid, lower)
            queue = Decimal((await admin(server.port, "GET", f"orders/{oid}"))["queueAhead"])
            assert queue == shown.get(lower, Decimal(0))

            # refused, the order staying as it was
            refusals = [
                ({"quantity": "0.003", "price": str(lower)}, -5027),  # nothing to change
                ({"quantity": "0.003", "price": str(lower + tick / 10)}, -4014),  # off the tick grid
                ({"quantity": "0.003"}, -1102),  # price is mandatory on USD-M
                ({"price": str(lower)}, -1102),  # and so is quantity
            ]
            for params, code in refusals:
                status, answer, _ = await wire.call(
                    "PUT", PATH, {"symbol": "BTCUSDT", "orderId": oid, "side": "BUY", **params}
                )
                assert status == 400 and answer["code"] == code, (params, answer)
            status, answer, _ = await wire.call(
                "PUT", PATH, {"symbol": "BTCUSDT", "orderId": 999_999, "side": "BUY", "quantity": "0.003", "price": str(lower)}
            )  # fmt: skip
            assert answer["code"] == -2013
            still = await rest.fetch_order(str(oid), SYMBOL)
            assert (still["status"], Decimal(str(still["price"])), Decimal(str(still["amount"]))) == (
                "open", lower, Decimal("0.003"),
            )  # fmt: skip

            # through ccxt's edit_order (the adapter's path)
            edited = await rest.edit_order(str(oid), SYMBOL, "limit", "buy", 0.004, float(lower - tick))
            assert edited["id"] == str(oid) and Decimal(str(edited["amount"])) == Decimal("0.004")

            # a post-only order moved to a price that would take is cancelled, not made a taker
            status, answer, _ = await wire.call(
                "PUT", PATH, {"symbol": "BTCUSDT", "orderId": oid, "side": "BUY", "quantity": "0.004", "price": str(ask)}
            )  # fmt: skip
            assert status == 200 and answer["status"] == "CANCELED", answer
            assert (await rest.fetch_order(str(oid), SYMBOL))["status"] == "canceled"
            assert (await admin(server.port, "GET", f"orders/{oid}"))["queueAhead"] is None

            # the user stream told each change, as AMENDMENT executions of the same order
            await asyncio.sleep(0.3)
            updates.cancel()
            kinds = [(int(o["i"]), o["x"]) for o in seen]
            assert kinds.count((oid, "AMENDMENT")) == 3, kinds
            assert kinds[-1] == (oid, "CANCELED")

    run(body(), timeout=60)
