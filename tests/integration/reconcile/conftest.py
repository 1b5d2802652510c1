"""Fixtures for the reconciliation tests: an emulator, a node config and manual trades on the same account."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import ccxt.async_support
import pytest

from tests.integration.crash.harness import CREDENTIALS, Emulator

pytestmark = pytest.mark.slow


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    em = Emulator(tmp_path / "emulator", speed=2.0)
    try:
        yield em
    finally:
        em.stop()


def manual_trade(emulator: Emulator, side: str, quantity: Decimal, client_order_id: str) -> None:
    """Trade on the node's account behind its back (a person at the venue's website, say)."""
    from tradewright.venues.binance.factory import point_urls

    async def trade() -> None:
        ex = ccxt.async_support.binanceusdm(
            {
                "apiKey": CREDENTIALS["BINANCE_API_KEY"],
                "secret": CREDENTIALS["BINANCE_API_SECRET"],
                "options": {"fetchMarkets": {"types": ["linear"]}, "fetchCurrencies": False},
            }
        )
        point_urls(ex.urls["api"], f"http://{emulator.url}", f"ws://{emulator.url}")
        try:
            # An IOC limit 1% through the touch: it takes the market's liquidity, and never reaches the
            # node's probe bid 3% below (the venue refuses an order that would trade with its own account).
            book = await ex.fetch_order_book("BTC/USDT:USDT", 5)
            touch = Decimal(str(book["bids"][0][0] if side == "sell" else book["asks"][0][0]))
            price = (touch * (Decimal("0.99") if side == "sell" else Decimal("1.01"))).quantize(
                Decimal("0.1")
            )
            done = await ex.create_order(
                "BTC/USDT:USDT",
                "limit",
                side,
                str(quantity),
                str(price),
                {"newClientOrderId": client_order_id, "timeInForce": "IOC"},
            )
            filled = Decimal(str(done["info"]["executedQty"]))
            assert filled == quantity, (
                f"the manual trade {client_order_id} filled {filled} of {quantity}: {done['info']}"
            )
        finally:
            await ex.close()

    asyncio.run(trade())
