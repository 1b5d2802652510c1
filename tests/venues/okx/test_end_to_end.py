"""OKX end to end through CCXT against the local OKX v5 server replaying the real 2022 recording:
markets from the recorded REST bodies, a book that matches the recording after every message, corrupt
and dropped frames caught by our checksum check and recovered, an order's whole life, reconnects,
429 bursts and fail-closed keys. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest

from tests.servers.support import recording, run
from tests.venues.e2e import (
    eventually,
    levels_as_ticks,
    local_server,
    node_on,
    secrets_absent,
    verified_levels,
)
from tradewright.core.errors import ConfigError
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import OrderFilled
from tradewright.servers.okx import OkxProtocol
from tradewright.venues import okx

KEYS = {
    "OKX_API_KEY": "local-okx-key",
    "OKX_API_SECRET": "local-okx-secret",
    "OKX_API_PASSPHRASE": "local-okx-passphrase",
}
TOPIC = "books:BTC-USDT"


def _config(server: object) -> okx.OkxConfig:
    return okx.OkxConfig(
        symbols=("BTC-USDT",), rest_url=server.url, ws_url=server.ws_url, rate_limited_pause_s=0.1
    )  # type: ignore[attr-defined]


def _recorded_frames() -> list[dict]:
    """The recorded BTC-USDT `books` frames, in order — the reference the adapter's book must match."""
    (session,) = recording("okx").sessions_matching("/ws/v5/public")
    frames = [json.loads(f.text) for f in session.frames]
    return [
        m
        for m in frames
        if m.get("arg", {}).get("channel") == "books" and m["arg"]["instId"] == "BTC-USDT" and "data" in m
    ]


class _Reference:
    """The book as the recording says, rebuilt independently of the server and the adapter."""

    def __init__(self) -> None:
        self.sides: dict[int, dict[Decimal, tuple[str, str]]] = {1: {}, -1: {}}

    def apply(self, msg: dict) -> None:
        if msg["action"] == "snapshot":
            self.sides = {1: {}, -1: {}}
        data = msg["data"][0]
        for side, key in ((1, "bids"), (-1, "asks")):
            for px, sz, *_ in data[key]:
                if Decimal(sz) == 0:
                    self.sides[side].pop(Decimal(px), None)
                else:
                    self.sides[side][Decimal(px)] = (px, sz)

    def levels(self, side: int) -> list[tuple[str, str]]:
        return [self.sides[side][k] for k in sorted(self.sides[side], reverse=side > 0)]


def test_okx_book_matches_the_recording_after_every_message_and_recovers_from_corrupt_and_dropped_frames() -> (
    None
):
    frames = _recorded_frames()

    async def body() -> None:
        async with (
            local_server(OkxProtocol(recording("okx"))) as server,
            node_on(server, okx.connect, _config(server), okx.credentials(_config(server), KEYS)) as node,
        ):
            # markets came from the recorded REST bodies, and nothing else was asked
            assert {e.path for e in server.requests.http()} == {
                "/api/v5/public/instruments",
                "/api/v5/account/balance",
            }
            assert server.requests.unknown() == []
            inst = node.instrument
            assert (inst.tick_size, inst.lot_size, inst.min_size) == (
                Decimal("0.1"),
                Decimal("1E-8"),
                Decimal("0.00001"),
            )
            stats = node.venue.market_data.stats
            ref = _Reference()

            async def step_and_compare(k: int) -> None:
                seen = len(node.books)
                await server.step(1, TOPIC)
                ref.apply(frames[k])
                await eventually(lambda: len(node.books) > seen, what=f"the adapter's book after frame {k}")
                bids, asks = verified_levels(node)
                assert (bids, asks) == (
                    levels_as_ticks(inst, ref.levels(1)),
                    levels_as_ticks(inst, ref.levels(-1)),
                ), f"frame {k}"

            for k in range(40):
                await step_and_compare(k)
            assert stats.of(node.iid).checksum_failures == 0 and stats.of(node.iid).resyncs == 0

            # a corrupted level (checksum kept): our check catches it, the book is rebuilt from a new snapshot
            server.faults.update({"corrupt": 1, "match": TOPIC})
            seen = len(node.books)
            await server.step(1, TOPIC)
            ref.apply(frames[40])
            await eventually(
                lambda: stats.of(node.iid).checksum_failures == 1 and len(node.books) > seen,
                what="resync after corruption",
            )
            assert stats.of(node.iid).resyncs == 1
            assert verified_levels(node) == (
                levels_as_ticks(inst, ref.levels(1)),
                levels_as_ticks(inst, ref.levels(-1)),
            )
            unsubscribed = [t for t in server.requests.ws_sent("/ws/v5/public") if '"unsubscribe"' in t]
            assert len(unsubscribed) == 1  # CCXT unsubscribed before it subscribed again

            for k in range(41, 50):
                await step_and_compare(k)

            # a dropped frame: the next one's checksum fails, and the book is rebuilt
            server.faults.update({"drop": 1, "match": TOPIC})
            seen = len(node.books)
            await server.step(2, TOPIC)
            ref.apply(frames[50])
            ref.apply(frames[51])
            await eventually(
                lambda: stats.of(node.iid).resyncs == 2 and len(node.books) > seen, what="resync after a gap"
            )
            assert stats.of(node.iid).checksum_failures == 2
            assert verified_levels(node) == (
                levels_as_ticks(inst, ref.levels(1)),
                levels_as_ticks(inst, ref.levels(-1)),
            )
            for k in range(52, 60):
                await step_and_compare(k)

    run(body(), timeout=60)


def test_okx_order_is_acknowledged_partially_filled_and_cancelled_and_stream_rest_and_node_agree() -> None:
    async def body() -> None:
        async with (
            local_server(OkxProtocol(recording("okx"))) as server,
            node_on(server, okx.connect, _config(server), okx.credentials(_config(server), KEYS)) as node,
        ):
            await server.step(5, TOPIC)
            await eventually(lambda: len(node.books) >= 5, what="the book")
            inst = node.instrument
            (ask_tick, ask_lots) = node.books[-1][1][0]
            ask, ask_size = inst.ticks_to_price(ask_tick), inst.lots_to_size(ask_lots)
            # the market is held still (step mode): a buy through the ask takes what is there and rests the rest
            order = node.submit(OrderSide.BUY, ask_size + Decimal("0.001"), ask)
            await eventually(lambda: order.status is OrderStatus.PARTIALLY_FILLED, what="the partial fill")
            assert order.venue_order_id is not None
            assert order.filled_qty == ask_size and order.avg_px == ask
            node.cancel(order)
            await eventually(lambda: order.status is OrderStatus.CANCELED, what="the cancel")

            fills = [e for e in node.events if isinstance(e, OrderFilled)]
            assert [(f.last_px, f.last_qty, f.liquidity.value) for f in fills] == [(ask, ask_size, "TAKER")]
            assert fills[0].fee == ask * ask_size * Decimal("0.001")
            assert node.venue.execution.stream_updates >= 3  # new, fill, canceled came over the user stream

            venue_view = await node.venue.execution.query_order(node.iid, order.client_order_id)
            assert venue_view is not None
            assert (venue_view.status, venue_view.filled_qty, venue_view.venue_order_id) == (
                VenueOrderStatus.CANCELED, order.filled_qty, order.venue_order_id,
            )  # fmt: skip
            assert await node.venue.execution.open_orders(node.iid) == []
            venue_fills = await node.venue.execution.order_fills(venue_view)
            assert [(f.trade_id, f.last_qty, f.fee) for f in venue_fills] == [
                (fills[0].trade_id, fills[0].last_qty, fills[0].fee)
            ]
            account = await node.venue.execution.account([node.iid])
            position = node.kernel.portfolio.position(node.instrument)
            assert account.balances["BTC"] - Decimal(2) == position.quantity == ask_size
            assert account.balances["USDT"] == Decimal(100_000) - ask * ask_size - fills[0].fee

    run(body(), timeout=60)


def test_okx_adapter_reconnects_and_rebuilds_after_the_server_dies_mid_stream() -> None:
    async def body() -> None:
        async with local_server(OkxProtocol(recording("okx"))) as server:
            port = server.port
            config = okx.OkxConfig(
                symbols=("BTC-USDT",),
                rest_url=server.url,
                ws_url=server.ws_url,
                reconnect_base_s=0.05,
                reconnect_cap_s=0.2,
            )
            async with node_on(server, okx.connect, config, okx.credentials(config, KEYS)) as node:
                await server.step(10, TOPIC)
                await eventually(lambda: len(node.books) >= 10, what="the book")
                await server.stop()
                await eventually(
                    lambda: node.venue.market_data.stats.reconnects >= 1, what="the reconnect attempts"
                )
                assert node.statuses[-1].health.value in ("DEGRADED", "DOWN")
                revived = type(server)(
                    OkxProtocol(recording("okx")),
                    type(server.options)(port=port, pacing=server.options.pacing),
                )
                await revived.start()
                try:
                    await revived.step(
                        30, TOPIC
                    )  # the new server's market has moved on: a fresh snapshot rebuilds the book
                    await eventually(
                        lambda: node.statuses[-1].health.value == "UP", timeout_s=10, what="the venue back up"
                    )
                    book = revived.protocol.books["BTC-USDT"]
                    inst = node.instrument
                    await eventually(
                        lambda: (
                            verified_levels(node)
                            == (levels_as_ticks(inst, book.pairs(1)), levels_as_ticks(inst, book.pairs(-1)))
                        ),
                        what="the rebuilt book",
                    )
                finally:
                    await revived.stop()

    run(body(), timeout=60)


def test_okx_429_burst_is_absorbed_by_backing_off_without_exceeding_the_limit() -> None:
    async def body() -> None:
        async with (
            local_server(OkxProtocol(recording("okx"))) as server,
            node_on(server, okx.connect, _config(server), okx.credentials(_config(server), KEYS)) as node,
        ):
            await server.step(5, TOPIC)
            await eventually(lambda: len(node.books) >= 5, what="the book")
            bid = node.instrument.ticks_to_price(node.books[-1][0][0][0] - 100)
            server.faults.update(
                {"http_429": 3, "http_match": "/api/v5/trade/batch-orders", "retry_after_s": 0.1}
            )
            started = asyncio_time()
            order = node.submit(OrderSide.BUY, Decimal("0.001"), bid)
            await eventually(
                lambda: order.status is OrderStatus.ACCEPTED, timeout_s=10, what="the order, after the burst"
            )
            elapsed = asyncio_time() - started
            placed = [e for e in server.requests.http() if e.path == "/api/v5/trade/batch-orders"]
            assert [e.status for e in placed] == [429, 429, 429, 200]  # retried, never stormed
            assert elapsed >= 0.1 + 0.2 + 0.3  # paused the bucket longer after each 429
            assert node.venue.execution.gate.rate_limited == 3
            assert server.limit_violations == {}
            assert len(server.exchange.orders) == 1  # sent once when it was processed

    run(body(), timeout=60)


def asyncio_time() -> float:
    import asyncio

    return asyncio.get_running_loop().time()


def test_okx_refuses_to_start_without_keys_with_malformed_keys_and_with_keys_the_venue_rejects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    config = okx.OkxConfig(symbols=("BTC-USDT",))
    with pytest.raises(
        ConfigError, match="missing OKX credentials: set OKX_API_SECRET and OKX_API_PASSPHRASE"
    ):
        okx.credentials(config, {"OKX_API_KEY": "k"})
    with pytest.raises(ConfigError, match="malformed OKX credentials: OKX_API_SECRET contains spaces"):
        okx.credentials(config, KEYS | {"OKX_API_SECRET": "local-okx secret"})
    wrong = KEYS | {"OKX_API_SECRET": "not-the-secret-at-all"}
    messages: list[str] = []

    async def body() -> None:
        async with local_server(OkxProtocol(recording("okx"))) as server:
            cfg = _config(server)
            with pytest.raises(
                ConfigError,
                match=r"OKX refused the API credentials \(OKX_API_KEY / OKX_API_SECRET / OKX_API_PASSPHRASE\)",
            ) as exc:
                await okx.connect(cfg, okx.credentials(cfg, wrong), _hooks())
            messages.append(str(exc.value))
            assert not [
                e for e in server.requests.http() if e.path.startswith("/api/v5/trade")
            ]  # no order was sent

    run(body())
    creds = okx.credentials(config, wrong)
    texts = messages + [r.getMessage() for r in caplog.records] + [repr(creds), str(creds)]
    assert (
        secrets_absent(texts, {"secret": wrong["OKX_API_SECRET"], "passphrase": wrong["OKX_API_PASSPHRASE"]})
        == []
    )


def _hooks():  # type: ignore[no-untyped-def]
    from tradewright.core.clock import LiveClock
    from tradewright.venues._common.ports import VenueHooks

    return VenueHooks(clock=LiveClock(), emit=lambda e: None)
