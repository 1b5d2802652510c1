"""The Polymarket adapter against the local Polymarket (127.0.0.1, the real payloads of
../shared/data/venues/polymarket): discovery, books, quoting both sides, partial and cross-token
fills booked on the right side, cancels, batch orders, version changes, reconnects, settlement,
resolution paid into the portfolio, and refusals before any order for bad or unfunded wallets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from tests.conftest import shared_data
from tests.servers.support import run
from tradewright.core.clock import LiveClock
from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId, StrategyId
from tradewright.engine.kernel import Kernel
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.commands import CancelOrder, SubmitOrder
from tradewright.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce
from tradewright.model.events import Event, MarketResolved, OrderEvent, OrderFilled, OrderRejected
from tradewright.model.orders import Order
from tradewright.portfolio import Portfolio
from tradewright.servers._core import ReplayServer
from tradewright.servers.polymarket import WalletSpec, serve_polymarket
from tradewright.venues._common.ports import VenueHooks, VenueStatus
from tradewright.venues.polymarket import (
    PolymarketConfig,
    PolymarketVenue,
    connect,
    credentials,
    list_markets,
)
from tradewright.venues.polymarket.http import PolymarketApiError

D = Decimal
CID = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917"  # 2024 election, neg-risk, tick 0.001
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Hardhat #0: public test key
ENV = {"POLYMARKET_PRIVATE_KEY": KEY}


@dataclass
class Node:
    """What the live node does with a venue, minus the node: a kernel that books what the venue says."""

    server: ReplayServer
    venue: PolymarketVenue
    kernel: Kernel
    events: list[Event] = field(default_factory=list)
    statuses: list[VenueStatus] = field(default_factory=list)
    books: dict[InstrumentId, tuple[list[tuple[int, int]], list[tuple[int, int]]]] = field(
        default_factory=dict
    )
    reconnects: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def yes(self) -> InstrumentId:
        return next(iter(self.venue.instruments))

    @property
    def no(self) -> InstrumentId:
        return list(self.venue.instruments)[1]

    def token(self, iid: InstrumentId) -> str:
        return self.venue.catalog.token_of(iid)

    def submit(
        self,
        iid: InstrumentId,
        side: OrderSide,
        qty: str,
        price: str | None,
        tif: TimeInForce = TimeInForce.GTC,
    ) -> Order:
        command = SubmitOrder(
            client_order_id=self.kernel.orders.next_id(StrategyId("test")),
            strategy_id=StrategyId("test"),
            instrument_id=iid,
            side=side,
            order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
            quantity=D(qty),
            price=None if price is None else D(price),
            time_in_force=tif,
            ts_init=self.kernel.clock.now_ns(),
        )
        return self.kernel.submit(command, None)

    def cancel(self, order: Order) -> None:
        self.kernel.cancel(
            CancelOrder(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                ts_init=self.kernel.clock.now_ns(),
            )
        )

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


def _on_event(node_box: list[Node], event: Event) -> None:
    node = node_box[0]
    node.events.append(event)
    if isinstance(event, OrderEvent):
        node.kernel.on_venue_event(event)
    elif isinstance(event, MarketResolved):
        node.kernel.portfolio.apply_resolution(node.kernel.instrument(event.instrument_id), event)


@contextlib.asynccontextmanager
async def node(wallets: list[WalletSpec] | None = None, **config: Any) -> AsyncIterator[Node]:
    kw = {} if wallets is None else {"wallets": wallets}
    server = serve_polymarket(str(shared_data("venues/polymarket")), auto_settle_s=None, **kw)
    await server.start()
    box: list[Node] = []
    try:
        cfg = PolymarketConfig(
            markets=[CID], clob_url=server.url, gamma_url=server.url + "/gamma", ws_url=server.ws_url,
            heartbeat_interval_ms=500, **config,
        )  # fmt: skip
        statuses: list[VenueStatus] = []
        hooks = VenueHooks(
            clock=LiveClock(), emit=lambda e: _on_event(box, e), on_status=statuses.append,
            log=logging.getLogger("test.polymarket"),
        )  # fmt: skip
        venue = await connect(cfg, credentials(cfg, ENV), hooks)
        kernel = Kernel(LiveClock(), portfolio=Portfolio({"pUSD": D(1000)}))
        for inst in venue.instruments.values():
            kernel.add_instrument(inst)
        kernel.add_execution_client(venue.execution)
        n = Node(server, venue, kernel, statuses=statuses)
        box.append(n)

        def reconnected() -> None:
            n.reconnects += 1

        n.tasks.append(asyncio.create_task(venue.execution.run_user_stream(reconnected)))
        for iid in venue.instruments:
            n.tasks.append(
                asyncio.create_task(
                    venue.market_data.run_book(iid, lambda i, b, a: n.books.__setitem__(i, (b, a)))
                )
            )
        assert await venue.execution.wait_user_stream(5)
        await n.until(lambda: len(n.books) == 2 and all(b or a for b, a in n.books.values()))
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


def test_discovery_lists_every_outcome_with_tick_end_time_and_neg_risk_flag() -> None:
    async def body() -> None:
        server = serve_polymarket(str(shared_data("venues/polymarket")))
        await server.start()
        try:
            cfg = PolymarketConfig(clob_url=server.url, gamma_url=server.url + "/gamma", ws_url=server.ws_url)
            rows = await list_markets(cfg)
            updown = [r for r in rows if r.extra["question"].startswith("Bitcoin Up or Down")]
            assert [r.base for r in updown] == ["Up", "Down"]
            assert updown[0].tick_size == D("0.01") and updown[0].end_ns == 1773307500 * 10**9
            assert updown[0].extra["neg_risk"] == "no"
            dem = [r for r in await list_markets(cfg, "Democratic") if "Whitmer" in r.extra["question"]]
            assert (
                dem
                and dem[0].extra["neg_risk"] == "yes"
                and dem[0].extra["event"] == "Democratic Presidential Nominee 2028"
            )
            open_only = await list_markets(cfg, active=True)
            assert all(r.active for r in open_only) and len(open_only) < len(rows)
        finally:
            await server.stop()

    run(body())


def test_both_books_are_the_recorded_book_and_its_mirror() -> None:
    async def body() -> None:
        async with node() as n:
            (yes_bids, yes_asks), (no_bids, no_asks) = n.books[n.yes], n.books[n.no]
            # The recorded book is the NO token's (tick 0.001: ticks are thousandths).
            assert no_bids[0] == (511, 130_472) and no_asks[0] == (514, 2_023_087)
            assert yes_bids[0] == (1000 - 514, 2_023_087) and yes_asks[0] == (1000 - 511, 130_472)

    run(body())


def test_quote_both_sides_get_partially_filled_cross_token_and_cancel() -> None:
    async def body() -> None:
        async with node() as n:
            bid = n.submit(n.yes, OrderSide.BUY, "10", "0.487")  # inside the spread (0.486 / 0.489)
            ask_as_no = n.submit(n.no, OrderSide.BUY, "10", "0.512")  # a bid for NO = an ask for YES at 0.488
            await n.until(lambda: bid.venue_order_id is not None and ask_as_no.venue_order_id is not None)
            assert bid.venue_order_id == n.venue.execution._expected_id(
                bid, 2
            )  # the hash known before sending
            # Someone buys NO at 0.513: the venue mints the pair against our resting BUY YES (cross-token).
            await n.sim("trade", {"asset_id": n.token(n.no), "side": "BUY", "price": "0.513", "size": "4"})
            await n.until(lambda: bid.filled_qty == 4)
            [fill] = n.fills()
            assert (fill.instrument_id, fill.side, fill.last_px, fill.last_qty, fill.liquidity) == (
                n.yes,
                OrderSide.BUY,
                D("0.487"),
                D(4),
                LiquiditySide.MAKER,
            )
            assert bid.status is OrderStatus.PARTIALLY_FILLED
            assert (
                n.kernel.portfolio.position(n.kernel.instrument(n.yes)).quantity == 4
            )  # long YES, not short
            assert n.kernel.portfolio.balance("pUSD") == D(1000) - D("0.487") * 4
            # Someone sells NO at 0.512 into our NO bid: a same-token fill.
            await n.sim("trade", {"asset_id": n.token(n.no), "side": "SELL", "price": "0.512", "size": "3"})
            await n.until(lambda: ask_as_no.filled_qty == 3)
            assert n.fills()[-1].side is OrderSide.BUY and n.fills()[-1].instrument_id == n.no
            # Cancel both: the venue confirms, the orders end with what they had filled.
            for order in (bid, ask_as_no):
                n.cancel(order)
            await n.until(
                lambda: bid.status is OrderStatus.CANCELED and ask_as_no.status is OrderStatus.CANCELED
            )
            assert (bid.filled_qty, ask_as_no.filled_qty) == (4, 3)
            assert n.server.requests.count("DELETE", "/orders") == 1  # both cancels in one batch
            assert await n.venue.execution.open_orders(n.yes) == []

    run(body())


def test_fills_settle_matched_mined_confirmed_and_only_confirmed_inventory_counts() -> None:
    async def body() -> None:
        async with node() as n:
            order = n.submit(n.yes, OrderSide.BUY, "5", "0.487")
            await n.until(lambda: order.venue_order_id is not None)
            await n.sim("trade", {"asset_id": n.token(n.yes), "side": "SELL", "price": "0.487", "size": "5"})
            await n.until(lambda: order.status is OrderStatus.FILLED)
            ledger = n.venue.execution.ledger
            token = n.token(n.yes)
            assert ledger.pending(token) == 5 and ledger.confirmed(token) == 0
            await n.sim("settle", {"status": "MINED"})
            await n.sim("settle", {"status": "CONFIRMED"})
            await n.until(lambda: ledger.confirmed(token) == 5)
            assert ledger.pending(token) == 0 and len(n.fills()) == 1  # later statuses book nothing again
            snapshot = await n.venue.execution.account([n.yes, n.no])
            assert snapshot.positions[n.yes].quantity == 5 and snapshot.balances["pUSD"] == D(1000) - D(
                "2.435"
            )

    run(body())


def test_a_failed_trade_degrades_the_venue_and_is_taken_back_by_reconciliation() -> None:
    async def body() -> None:
        async with node() as n:
            order = n.submit(n.yes, OrderSide.BUY, "5", "0.487")
            await n.until(lambda: order.venue_order_id is not None)
            await n.sim("trade", {"asset_id": n.token(n.yes), "side": "SELL", "price": "0.487", "size": "5"})
            await n.until(lambda: order.status is OrderStatus.FILLED)
            await n.sim("settle", {"status": "FAILED"})
            await n.until(lambda: any("FAILED on chain" in s.reason for s in n.statuses))
            snapshot = await n.venue.execution.account([n.yes])
            assert n.yes not in snapshot.positions  # the venue's balances: the trade never happened

    run(body())


def test_resolution_cancels_resting_orders_and_pays_the_portfolio() -> None:
    async def body() -> None:
        async with node() as n:
            bought = n.submit(n.yes, OrderSide.BUY, "5", "0.487")
            resting = n.submit(n.yes, OrderSide.BUY, "6", "0.480")
            await n.until(lambda: bought.venue_order_id is not None and resting.venue_order_id is not None)
            await n.sim("trade", {"asset_id": n.token(n.yes), "side": "SELL", "price": "0.487", "size": "5"})
            await n.until(lambda: bought.status is OrderStatus.FILLED)
            await n.sim("resolve", {"market": CID, "winning_asset_id": n.token(n.yes)})
            await n.until(lambda: resting.status is OrderStatus.CANCELED)
            await n.until(lambda: sum(isinstance(e, MarketResolved) for e in n.events) == 2)
            assert n.kernel.portfolio.position(n.kernel.instrument(n.yes)).quantity == 0
            assert n.kernel.portfolio.balance("pUSD") == D(1000) - D("2.435") + D(5)  # 5 YES paid 1 each

    run(body())


def test_batch_orders_report_each_refused_leg_and_keep_the_others() -> None:
    async def body() -> None:
        async with node() as n:
            good = n.submit(n.yes, OrderSide.BUY, "5", "0.400")
            tiny = n.submit(n.yes, OrderSide.BUY, "1", "0.401")  # below the market's minimum size of 5
            await n.until(lambda: good.venue_order_id is not None and tiny.status is OrderStatus.REJECTED)
            rejected = [e for e in n.events if isinstance(e, OrderRejected)]
            assert [r.reason for r in rejected] == ["order_size_below_min"]
            assert (
                n.server.requests.count("POST", "/orders") == 1
                and n.server.requests.count("POST", "/order") == 0
            )

    run(body())


def test_an_order_version_change_is_signed_again_and_placed_once() -> None:
    async def body() -> None:
        async with node() as n:
            await n.sim("version", {"version": 1})
            order = n.submit(n.yes, OrderSide.BUY, "5", "0.400")
            await n.until(lambda: order.venue_order_id is not None)
            assert n.venue.execution.version == 1 and n.venue.execution.resubmitted_for_version == 1
            assert n.server.requests.count("POST", "/order") == 2  # refused as v2, placed as v1
            assert order.venue_order_id == n.venue.execution._expected_id(order, 1)

    run(body())


def test_a_fok_that_cannot_fill_is_killed_and_one_that_can_fills_at_once() -> None:
    rich = WalletSpec(api_key="k-rich", secret="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", passphrase="p",
                      collateral=D(1_000_000))  # fmt: skip

    async def body() -> None:
        async with node([rich]) as n:
            killed = n.submit(
                n.yes, OrderSide.BUY, "200000", "0.489", TimeInForce.FOK
            )  # more than the 130,472 there
            await n.until(lambda: killed.status is OrderStatus.EXPIRED)
            taken = n.submit(n.yes, OrderSide.BUY, "10", "0.489", TimeInForce.FOK)
            await n.until(lambda: taken.status is OrderStatus.FILLED)
            assert n.fills()[-1].liquidity is LiquiditySide.TAKER and n.fills()[-1].last_px == D("0.489")

    run(body())


def test_after_a_reconnect_the_node_is_told_to_reconcile_and_the_venue_agrees() -> None:
    async def body() -> None:
        async with node() as n:
            order = n.submit(n.yes, OrderSide.BUY, "5", "0.480")
            await n.until(lambda: order.venue_order_id is not None)
            async with aiohttp.ClientSession() as s, s.post(f"{n.server.url}/_admin/close") as r:
                assert (await r.json())["closed"] >= 2
            await n.until(lambda: n.reconnects == 1)
            [view] = await n.venue.execution.open_orders(n.yes)
            assert (view.client_order_id, view.status, view.quantity) == (
                order.client_order_id,
                VenueOrderStatus.OPEN,
                5,
            )
            queried = await n.venue.execution.query_order(n.yes, order.client_order_id)
            assert queried is not None and queried.venue_order_id == order.venue_order_id
            await n.until(
                lambda: n.venue.market_data.stats.reconnects == 1 and all(b for b, _ in n.books.values())
            )

    run(body())


def test_heartbeats_flow_and_a_failing_heartbeat_stops_new_orders_until_one_is_acknowledged() -> None:
    async def body() -> None:
        async with node() as n:
            await n.until(lambda: n.venue.user.heartbeats >= 2)
            n.server.faults.update({"http_5xx": 1000, "http_match": "/v1/heartbeats"})
            await n.until(lambda: not n.venue.execution.heartbeat_ok)
            order = n.submit(n.yes, OrderSide.BUY, "5", "0.480")
            await n.until(lambda: order.status is OrderStatus.REJECTED)
            assert [e.reason for e in n.events if isinstance(e, OrderRejected)] == ["heartbeat_lost"]
            assert any("heartbeat failed" in s.reason for s in n.statuses)
            n.server.faults.clear()
            await n.until(lambda: n.venue.execution.heartbeat_ok)
            again = n.submit(n.yes, OrderSide.BUY, "5", "0.480")
            await n.until(lambda: again.venue_order_id is not None)


def test_orders_of_a_session_whose_heartbeats_stop_are_canceled_by_the_venue() -> None:
    async def body() -> None:
        async with node() as n:
            order = n.submit(n.yes, OrderSide.BUY, "5", "0.480")
            await n.until(lambda: order.venue_order_id is not None)
            await n.sim("settings", {"heartbeat_timeout_s": 0.3})
            n.server.faults.update({"http_5xx": 1000, "http_match": "/v1/heartbeats"})
            await n.until(lambda: order.status is OrderStatus.CANCELED, timeout=5)

    run(body())


def test_a_tick_size_change_moves_the_instruments_and_rebuilds_the_books() -> None:
    async def body() -> None:
        async with node() as n:
            changed: list[Any] = []
            n.venue.market_data._hooks = VenueHooks(
                clock=LiveClock(), emit=n.venue.market_data._hooks.emit, on_instrument=changed.append
            )
            await n.sim("tick", {"market": CID, "tick_size": "0.01"})
            await n.until(lambda: len(changed) == 2)
            assert {i.tick_size for i in changed} == {D("0.01")}
            await n.until(lambda: n.venue.market_data.stats.of(n.yes).resyncs >= 1)

    run(body())


def test_live_start_without_credentials_or_with_an_unfunded_or_unapproved_wallet_stops_before_any_order() -> (
    None
):
    async def body() -> None:
        cfg0 = PolymarketConfig(markets=[CID])
        with pytest.raises(ConfigError, match="POLYMARKET_PRIVATE_KEY"):
            credentials(cfg0, {})
        poor = WalletSpec(api_key="k-poor", secret="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", passphrase="p",
                          collateral=D(0))  # fmt: skip
        unapproved = WalletSpec(api_key="k-unapproved", secret="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                                passphrase="p", approved=False)  # fmt: skip
        for wallet, message in ((poor, "holds 0 pUSD"), (unapproved, "polymarket approve")):
            server = serve_polymarket(str(shared_data("venues/polymarket")), wallets=[wallet])
            await server.start()
            try:
                cfg = PolymarketConfig(
                    markets=[CID], clob_url=server.url, gamma_url=server.url + "/gamma", ws_url=server.ws_url
                )
                hooks = VenueHooks(clock=LiveClock(), emit=lambda e: None)
                with pytest.raises(ConfigError, match=message):
                    await connect(cfg, credentials(cfg, ENV), hooks)
                assert (
                    server.requests.count("POST", "/order") == 0
                    and server.requests.count("POST", "/orders") == 0
                )
            finally:
                await server.stop()

    run(body())


def test_a_429_pauses_the_client_bucket_instead_of_retrying_in_a_storm() -> None:
    async def body() -> None:
        async with node() as n:
            http = n.venue.execution.http
            n.server.faults.update({"http_429": 1, "http_match": "/data/orders", "retry_after_s": 0.2})
            with pytest.raises(PolymarketApiError) as caught:
                await n.venue.execution.open_orders(n.yes)
            assert caught.value.status == 429 and http.limits["clob"].penalties == 1
            started = asyncio.get_running_loop().time()
            assert await n.venue.execution.open_orders(n.yes) == []  # waits out the pause, then succeeds
            assert asyncio.get_running_loop().time() - started >= 0.15

    run(body())
