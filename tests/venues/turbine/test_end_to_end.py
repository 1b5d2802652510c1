"""The Turbine adapter against the local Turbine (127.0.0.1; payloads written from Turbine's
documentation and client): discovery of the quick markets, books, quoting both outcomes with permits
attached, maker and taker fills found by polling, cancel, positions seeded from the venue,
resolution paid into the portfolio, claims of winnings (dry run first, audited), and refusals before
any order for missing credentials or an unfunded wallet."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.servers.support import run
from tradewright.core.clock import LiveClock
from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId, StrategyId
from tradewright.engine.kernel import Kernel
from tradewright.model.commands import CancelOrder, SubmitOrder
from tradewright.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from tradewright.model.events import Event, MarketResolved, OrderEvent, OrderFilled
from tradewright.model.orders import Order
from tradewright.portfolio import Portfolio
from tradewright.servers._core import ReplayServer
from tradewright.servers.turbine import TurbineWalletSpec, serve_turbine
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.turbine import (
    ClaimAudit,
    TurbineConfig,
    TurbineVenue,
    claim_winnings,
    connect,
    credentials,
    list_markets,
)

D = Decimal
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Hardhat #0: public test key
ENV = {
    "TURBINE_PRIVATE_KEY": KEY,
    "TURBINE_API_KEY_ID": "local-turbine-key",
    "TURBINE_API_PRIVATE_KEY": "11" * 32,
}


@dataclass
class Node:
    server: ReplayServer
    venue: TurbineVenue
    kernel: Kernel
    events: list[Event] = field(default_factory=list)
    books: dict[InstrumentId, Any] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def market_id(self) -> str:
        now = time.time()
        return next(m.market_id for m in self.venue.markets.values() if m.end_ns is not None and m.end_ns / 1e9 > now
                    and m.market_id in self.server.protocol.state.markets  # type: ignore[attr-defined]
                    and self.server.protocol.state.markets[m.market_id].start_s <= now)  # type: ignore[attr-defined]  # fmt: skip

    def iid(self, outcome: str) -> InstrumentId:
        return InstrumentId(f"{self.market_id}-{outcome}", "TURBINE")  # type: ignore[arg-type]

    def submit(self, iid: InstrumentId, side: OrderSide, qty: str, price: str) -> Order:
        return self.kernel.submit(
            SubmitOrder(
                client_order_id=self.kernel.orders.next_id(StrategyId("t")), strategy_id=StrategyId("t"),
                instrument_id=iid, side=side, order_type=OrderType.LIMIT, quantity=D(qty), price=D(price),
                ts_init=self.kernel.clock.now_ns(),
            ),
            None,
        )  # fmt: skip

    async def sim(self, action: str, body: dict[str, Any]) -> Any:
        async with aiohttp.ClientSession() as s, s.post(f"{self.server.url}/_sim/{action}", json=body) as r:
            return await r.json()

    async def until(self, predicate: Any, timeout: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.01)

    def fills(self) -> list[OrderFilled]:
        return [e for e in self.events if isinstance(e, OrderFilled)]


@contextlib.asynccontextmanager
async def node(**server_kw: Any) -> AsyncIterator[Node]:
    server = serve_turbine(**server_kw)
    await server.start()
    box: list[Node] = []

    def on_event(event: Event) -> None:
        n = box[0]
        n.events.append(event)
        if isinstance(event, OrderEvent):
            n.kernel.on_venue_event(event)
        elif isinstance(event, MarketResolved):
            n.kernel.portfolio.apply_resolution(n.kernel.instrument(event.instrument_id), event)

    try:
        cfg = TurbineConfig(rest_url=server.url, ws_url=server.ws_url, poll_interval_ms=50)
        hooks = VenueHooks(clock=LiveClock(), emit=on_event, log=logging.getLogger("test.turbine"))
        venue = await connect(cfg, credentials(cfg, ENV), hooks)
        kernel = Kernel(LiveClock(), portfolio=Portfolio({"USDC": D(1000)}))
        for inst in venue.instruments.values():
            kernel.add_instrument(inst)
        kernel.add_execution_client(venue.execution)
        n = Node(server, venue, kernel)
        box.append(n)
        n.tasks.append(asyncio.create_task(venue.execution.run_user_stream()))
        for outcome in ("YES", "NO"):
            iid = n.iid(outcome)
            n.tasks.append(
                asyncio.create_task(
                    venue.market_data.run_book(iid, lambda i, b, a: n.books.__setitem__(i, (b, a)))
                )
            )
        await n.until(lambda: len(n.books) == 2)
        yield n
    finally:
        for n in box:
            for task in n.tasks:
                task.cancel()
            for task in n.tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await n.venue.close()
        await server.stop()


def test_discovery_lists_the_current_and_next_quick_markets() -> None:
    async def body() -> None:
        server = serve_turbine()
        await server.start()
        try:
            rows = await list_markets(TurbineConfig(rest_url=server.url, ws_url=server.ws_url), active=True)
            quick = [r for r in rows if r.extra.get("interval") == "15m"]
            assert len(quick) == 4  # YES and NO of the current market and the next one
            ends = sorted({r.end_ns for r in quick})
            assert ends[1] - ends[0] == 15 * 60 * 10**9  # consecutive 15-minute markets
            assert {r.base for r in quick} == {"Yes", "No"} and quick[0].tick_size == D("0.0001")
        finally:
            await server.stop()

    run(body())


def test_quote_both_outcomes_get_filled_by_polling_cancel_resolve_and_claim(tmp_path: Path) -> None:
    async def body() -> None:
        async with node() as n:
            (yes_bids, yes_asks) = n.books[n.iid("YES")]
            assert yes_bids[0] == (4900, 100_000_000) and yes_asks[0] == (
                5100,
                100_000_000,
            )  # ticks of 0.0001
            bid = n.submit(n.iid("YES"), OrderSide.BUY, "10", "0.495")
            other = n.submit(n.iid("NO"), OrderSide.BUY, "10", "0.495")  # the other side of the market
            await n.until(lambda: bid.venue_order_id is not None and other.venue_order_id is not None)
            state = n.server.protocol.state  # type: ignore[attr-defined]
            wallet = next(iter(state.wallets.values()))
            assert wallet.permit_nonce == 2  # each BUY carried its own USDC permit, nonces in sequence
            # Someone sells 4 YES into our bid: found by polling, booked as our BUY at our price.
            await n.sim(
                "trade",
                {"marketId": n.market_id, "outcome": 0, "side": 1, "price": 495_000, "size": 4_000_000},
            )
            await n.until(lambda: bid.filled_qty == 4)
            fill = n.fills()[-1]
            assert (fill.side, fill.last_px, fill.last_qty, fill.liquidity) == (
                OrderSide.BUY,
                D("0.495"),
                D(4),
                LiquiditySide.MAKER,
            )
            n.kernel.cancel(CancelOrder(client_order_id=bid.client_order_id, instrument_id=bid.instrument_id,
                                        ts_init=n.kernel.clock.now_ns()))  # fmt: skip
            await n.until(lambda: bid.status is OrderStatus.CANCELED)
            # A taker buy through the asks fills at once.
            taker = n.submit(n.iid("YES"), OrderSide.BUY, "10", "0.51")
            await n.until(lambda: taker.status is OrderStatus.FILLED)
            assert n.fills()[-1].liquidity is LiquiditySide.TAKER and n.fills()[-1].fee == D(
                "0.051"
            )  # 1 % of 5.10
            snapshot = await n.venue.execution.account([n.iid("YES"), n.iid("NO")])
            assert snapshot.positions[n.iid("YES")].quantity == 14  # seeded from the venue
            # The market resolves YES: 14 YES pay 1 each in the portfolio.
            market = n.venue.markets[n.market_id]
            await n.sim("resolve", {"marketId": n.market_id, "outcome": 0})
            assert await n.venue.market_data.follow_resolution(market, poll_s=0.05) is not None
            assert sum(isinstance(e, MarketResolved) for e in n.events) == 2
            assert n.kernel.portfolio.position(n.kernel.instrument(n.iid("YES"))).quantity == 0
            # Claim: a dry run signs and audits without sending; --execute redeems through the relayer.
            audit = ClaimAudit(tmp_path / "claims.jsonl")
            contract = state.markets[n.market_id].contract
            clock = dict(now_s=lambda: int(time.time()), now_ns=time.time_ns)
            dry = await claim_winnings(
                n.venue.http, KEY, n.venue.execution.chain, [contract], audit=audit, **clock
            )
            assert [r.status for r in dry] == ["dry_run"] and state.redemptions == []
            before = wallet.usdc
            done = await claim_winnings(n.venue.http, KEY, n.venue.execution.chain, [contract], audit=audit,
                                        execute=True, spacing_s=0, **clock)  # fmt: skip
            assert [r.status for r in done] == ["submitted"] and done[0].tx_hash
            assert wallet.usdc - before == 14_000_000 and state.redemptions[0]["paid"] == 14_000_000
            assert [r.status for r in audit.records()] == ["dry_run", "submitted"]
            again = await claim_winnings(n.venue.http, KEY, n.venue.execution.chain, [contract], audit=audit,
                                         execute=True, spacing_s=0, **clock)  # fmt: skip
            assert [r.status for r in again] == ["skipped"]  # nothing left to redeem

    run(body())


def test_a_permit_with_a_stale_nonce_is_refused_and_the_nonce_is_read_again() -> None:
    async def body() -> None:
        async with node() as n:
            n.venue.execution._permit_nonce = 7  # as if another process had used nonces meanwhile
            first = n.submit(n.iid("YES"), OrderSide.BUY, "10", "0.40")
            await n.until(lambda: first.status is OrderStatus.REJECTED)
            second = n.submit(n.iid("YES"), OrderSide.BUY, "10", "0.40")
            await n.until(lambda: second.venue_order_id is not None)

    run(body())


def test_live_start_without_credentials_or_with_an_unfunded_wallet_stops_before_any_order() -> None:
    async def body() -> None:
        with pytest.raises(ConfigError, match="TURBINE_PRIVATE_KEY"):
            credentials(TurbineConfig(), {})
        server = serve_turbine(wallets=[TurbineWalletSpec(usdc=0)])
        await server.start()
        try:
            cfg = TurbineConfig(rest_url=server.url, ws_url=server.ws_url)
            with pytest.raises(ConfigError, match="holds 0 USDC"):
                await connect(cfg, credentials(cfg, ENV), VenueHooks(clock=LiveClock(), emit=lambda e: None))
            assert server.requests.count("POST", "/api/v1/orders") == 0
        finally:
            await server.stop()

    run(body())
