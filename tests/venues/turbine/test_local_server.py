"""The local Turbine refuses what Turbine refuses: forged or stale bearer tokens, orders signed by
another wallet, permits out of nonce order, and taker orders below $1."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp

from tests.servers.support import run
from tradewright.servers.turbine import serve_turbine
from tradewright.venues.turbine.signing import (
    CHAINS,
    TurbineOrder,
    bearer_token,
    sign_order,
    sign_permit,
    wallet_address,
)

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
OTHER = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
API = "11" * 32
POLYGON = CHAINS[137]


async def _market(url: str) -> str:
    async with (
        aiohttp.ClientSession() as s,
        s.get(url + "/api/v1/quick-markets/BTC", params={"interval": "15"}) as r,
    ):
        return str((await r.json())["quickMarket"]["marketId"])


def _order(market: str, price: int, size: int, signer: str = KEY, nonce: int = 1) -> dict[str, Any]:
    order = TurbineOrder(market_id=market, trader=wallet_address(KEY), side=0, outcome=0, price=price, size=size,
                         nonce=nonce, expiration=int(time.time()) + 300)  # fmt: skip
    return {"order": order.to_json(), "signature": sign_order(order, signer, 137, POLYGON.settlement)}


async def _post(url: str, body: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token or bearer_token('local-turbine-key', API, int(time.time()))}"}
    async with (
        aiohttp.ClientSession() as s,
        s.post(url + "/api/v1/orders", data=json.dumps(body), headers=headers) as r,
    ):
        return r.status, await r.json()


def test_tokens_signatures_permits_and_minimums_are_checked() -> None:
    async def body() -> None:
        server = serve_turbine()
        await server.start()
        try:
            market = await _market(server.url)
            forged = bearer_token("local-turbine-key", "22" * 32, int(time.time()))
            assert (await _post(server.url, _order(market, 400_000, 10_000_000), forged))[0] == 401
            stale = bearer_token("local-turbine-key", API, int(time.time()) - 3600)
            assert (await _post(server.url, _order(market, 400_000, 10_000_000), stale))[0] == 401
            status, answer = await _post(server.url, _order(market, 400_000, 10_000_000, signer=OTHER))
            assert status == 401 and answer["error"] == "invalid signature"
            status, answer = await _post(server.url, _order(market, 400_000, 10_000_000))
            assert status == 400 and "allowance" in answer["error"]  # no permit, no standing approval
            permit = sign_permit(
                KEY, POLYGON, POLYGON.settlement, 4_000_000, nonce=5, deadline=int(time.time()) + 600
            )
            status, answer = await _post(
                server.url,
                {**_order(market, 400_000, 10_000_000, nonce=2), "permitSignature": permit.to_json()},
            )
            assert status == 400 and "nonce" in answer["error"]
            permit = sign_permit(
                KEY, POLYGON, POLYGON.settlement, 4_000_000, nonce=0, deadline=int(time.time()) + 600
            )
            status, answer = await _post(
                server.url,
                {**_order(market, 400_000, 10_000_000, nonce=3), "permitSignature": permit.to_json()},
            )
            assert status == 200 and answer["status"] == "accepted"
            status, answer = await _post(
                server.url, _order(market, 510_000, 1_000_000, nonce=4)
            )  # takes 1 share: $0.51
            assert status == 400 and "$1" in answer["error"]
        finally:
            await server.stop()

    run(body())
