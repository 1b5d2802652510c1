"""The local Polymarket refuses what the venue refuses: bad L1/L2 auth, orders signed by someone else
or altered after signing, orders of the wrong version, and post-only orders that would cross."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from decimal import Decimal
from typing import Any

import aiohttp

from tests.conftest import shared_data
from tests.servers.support import run
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId, Venue
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide, OrderType
from tradewright.model.orders import Order
from tradewright.servers.polymarket import DEFAULT_WALLET, serve_polymarket
from tradewright.venues.polymarket.auth import l1_headers, l2_headers
from tradewright.venues.polymarket.orders import OrderFactory
from tradewright.venues.polymarket.parsing import decode, market_from_clob
from tradewright.venues.polymarket.schemas import ClobMarket

CID = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917"
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
OTHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # Hardhat #1 (public)
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _order(price: str = "0.400", post_only: bool = False) -> Order:
    market = market_from_clob(
        decode(
            ClobMarket,
            shared_data("venues/polymarket/nautilus_py/http_responses/market.json").read_text(),
            "m",
        )
    )
    iid = InstrumentId(f"{CID}-{market.tokens[0].token_id}", Venue("POLYMARKET"))
    return Order(SubmitOrder(
        client_order_id=ClientOrderId(f"c-{time.time_ns()}"), strategy_id=StrategyId("s"), instrument_id=iid,
        side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=Decimal(10), price=Decimal(price), post_only=post_only,
        ts_init=time.time_ns(),
    ))  # fmt: skip


def _body(key: str, version: int = 2, **kw: Any) -> dict[str, Any]:
    market = market_from_clob(
        decode(
            ClobMarket,
            shared_data("venues/polymarket/nautilus_py/http_responses/market.json").read_text(),
            "m",
        )
    )
    factory = OrderFactory(key, 137, owner=DEFAULT_WALLET.api_key)
    return factory.build(_order(**kw), market, 0, version=version).body


async def _post(url: str, path: str, body: Any, secret: str = DEFAULT_WALLET.secret) -> tuple[int, Any]:
    text = json.dumps(body, separators=(",", ":"))
    headers = l2_headers(
        ADDRESS,
        DEFAULT_WALLET.api_key,
        secret,
        DEFAULT_WALLET.passphrase,
        int(time.time()),
        "POST",
        path,
        text,
    )
    async with (
        aiohttp.ClientSession() as s,
        s.post(url + path, data=text, headers={**headers, "Content-Type": "application/json"}) as r,
    ):
        return r.status, await r.json()


def test_orders_are_refused_unless_signed_by_the_api_keys_wallet_unaltered_and_of_the_running_version() -> (
    None
):
    async def body() -> None:
        server = serve_polymarket(str(shared_data("venues/polymarket")))
        await server.start()
        try:
            status, answer = await _post(server.url, "/order", _body(KEY))
            assert status == 200 and answer["success"] and answer["status"] == "live"
            status, answer = await _post(server.url, "/order", _body(OTHER_KEY))
            assert status == 400 and "invalid signature" in answer["errorMsg"]
            altered = _body(KEY)
            altered["order"]["makerAmount"] = str(int(altered["order"]["makerAmount"]) + 1)
            status, answer = await _post(server.url, "/order", altered)
            assert status == 400 and "invalid signature" in answer["errorMsg"]
            status, answer = await _post(server.url, "/order", _body(KEY, version=1))
            assert status == 400 and answer["errorMsg"] == "order_version_mismatch"
            status, answer = await _post(server.url, "/order", _body(KEY, price="0.600", post_only=True))
            assert status == 400 and "crosses book" in answer["errorMsg"]
            status, answer = await _post(
                server.url, "/order", _body(KEY), secret="BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="
            )
            assert status == 401 and answer["error"] == "Unauthorized/Invalid api key"
        finally:
            await server.stop()

    run(body())


def test_l1_headers_derive_the_wallets_api_key_and_forged_ones_are_refused() -> None:
    async def body() -> None:
        server = serve_polymarket(str(shared_data("venues/polymarket")))
        await server.start()
        try:
            async with aiohttp.ClientSession() as s:
                async with s.get(
                    server.url + "/auth/derive-api-key", headers=l1_headers(KEY, 137, int(time.time()))
                ) as r:
                    assert r.status == 200 and (await r.json())["apiKey"] == DEFAULT_WALLET.api_key
                forged = {**l1_headers(OTHER_KEY, 137, int(time.time())), "POLY_ADDRESS": ADDRESS}
                async with s.get(server.url + "/auth/derive-api-key", headers=forged) as r:
                    assert r.status == 401 and (await r.json())["error"] == "Invalid L1 Request headers"
        finally:
            await server.stop()

    run(body())


def test_an_unfunded_wallet_cannot_buy() -> None:
    async def body() -> None:
        server = serve_polymarket(
            str(shared_data("venues/polymarket")), wallets=[replace(DEFAULT_WALLET, collateral=Decimal(1))]
        )
        await server.start()
        try:
            status, answer = await _post(server.url, "/order", _body(KEY))
            assert status == 400 and "not enough balance / allowance" in answer["errorMsg"]
        finally:
            await server.stop()

    run(body())
