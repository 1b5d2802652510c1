"""One live node, two venues (OKX and Gate servers on 127.0.0.1 speaking their real wire formats), several
strategies from one config: per-market parameters, a strategy that raises fenced on its own (its orders
cancelled, an alert sent to a local webhook) while the others keep quoting, and a clean stop."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.integration.multi.harness import KEYS, eventually, two_venues, write_config
from tests.servers.support import run
from tradewright.core.ids import Venue
from tradewright.live.alerts import Alerter
from tradewright.live.multi import MultiNode
from tradewright.live.multi_config import load_multi_config
from tradewright.model.enums import OrderStatus
from tradewright.model.orders import Order
from tradewright.store.sql_store import SqlStateStore
from tradewright.venues.registry import venue_package

OKX, GATE = Venue("OKX"), Venue("GATE")

QUOTERS = """
[[strategies]]
id = "Q"
path = "QUOTER"
class = "Quoter"
markets = ["okx:BTC-USDT", "gate:RDNT_USDT"]
params = { size = "0.001", offset_ticks = 50 }
[strategies.overrides."gate:RDNT_USDT"]
size = "3"
offset_ticks = 20
"""


def _node(path: Path) -> tuple[MultiNode, SqlStateStore]:
    config, venues, tasks = load_multi_config(path)
    creds = {v.name: venue_package(v.kind).credentials(v.config, KEYS) for v in venues}
    store = SqlStateStore(config.store)
    alerter = Alerter(config.alerts, config.node.name) if config.alerts.enabled else None
    return MultiNode(config, venues, tasks, creds, store, alerter=alerter), store


def _orders(node: MultiNode, strategy_id: str) -> list[Order]:
    return [o for o in node.kernel.orders.all_orders if str(o.strategy_id) == strategy_id]


def _accepted(node: MultiNode, strategy_id: str) -> list[Order]:
    return [o for o in _orders(node, strategy_id) if o.venue_order_id is not None]


def test_one_node_quotes_on_two_venues_with_per_market_parameters(tmp_path: Path) -> None:
    async def body() -> None:
        async with two_venues() as (okx, gate):
            node, store = _node(write_config(tmp_path, okx, gate, QUOTERS))
            stop = asyncio.Event()
            running = asyncio.create_task(node.run(stop))
            try:
                await eventually(
                    lambda: bool(_accepted(node, "Q_1")) and bool(_accepted(node, "Q_2")),
                    what="both strategies' quotes acknowledged by their venues",
                )
            finally:
                stop.set()
                code = await running
            assert code == 0, node.stop_reason
            okx_orders, gate_orders = _orders(node, "Q_1"), _orders(node, "Q_2")
            assert {o.instrument_id.venue for o in okx_orders} == {OKX}
            assert {o.instrument_id.venue for o in gate_orders} == {GATE}
            assert {o.quantity for o in okx_orders} == {Decimal("0.001")}  # the entry's params
            assert {o.quantity for o in gate_orders} == {Decimal(3)}  # the per-market override
            # Graceful stop: every order cancelled at its venue, the run closed in the store.
            assert node.kernel.orders.open_orders() == []
            assert any(o.status is OrderStatus.CANCELED for o in okx_orders + gate_orders)
            feeds = node.feed_stats()
            assert sum(s.updates for s in feeds["okx"].instruments.values()) > 0
            assert sum(s.updates for s in feeds["gate"].instruments.values()) > 0
            state = store.load_state()
            store.close()
            assert {"Q_1", "Q_2"} <= set(state.snapshots)

    run(body(), timeout=90)


class _Webhook:
    """A local webhook receiver (aiohttp on 127.0.0.1:0) keeping every JSON body it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def _hook(self, request: web.Request) -> web.Response:
        self.received.append(json.loads(await request.read()))
        return web.Response(status=204)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def test_a_failing_strategy_is_fenced_alone_and_alerts(tmp_path: Path) -> None:
    async def body() -> None:
        hook = _Webhook()
        await hook.start()
        try:
            async with two_venues() as (okx, gate):
                config = (
                    QUOTERS
                    + f"""
[[strategies]]
id = "BOMB"
path = "QUOTER"
class = "Quoter"
markets = ["gate:RDNT_USDT"]
params = {{ size = "2", offset_ticks = 30, explode_after = 4 }}

[alerts]
webhooks = ["{hook.url}"]
retry_backoff_s = 0.1
"""
                )
                node, store = _node(write_config(tmp_path, okx, gate, config))
                stop = asyncio.Event()
                running = asyncio.create_task(node.run(stop))
                try:
                    await eventually(lambda: "BOMB" in node.fence.fenced, what="the failing strategy fenced")
                    bomb = node.kernel.strategy("BOMB")
                    assert node.kernel.is_stopped(bomb)
                    fenced_at = len(node.kernel.orders.all_orders)
                    quoted_by_bomb = _orders(node, "BOMB")
                    assert quoted_by_bomb, "it quoted before it failed"
                    # Its orders are cancelled at the venue...
                    await eventually(
                        lambda: all(not o.is_open for o in _orders(node, "BOMB")), what="its orders cancelled"
                    )
                    # ...an alert reaches the webhook...
                    await eventually(lambda: bool(hook.received), what="the alert at the webhook")
                    # ...and the other strategies, on both venues, keep quoting.
                    books_before = {sid: node.kernel.strategy(sid).books for sid in ("Q_1", "Q_2")}  # type: ignore[attr-defined]
                    await eventually(
                        lambda: all(
                            node.kernel.strategy(sid).books > books_before[sid]  # type: ignore[attr-defined]
                            for sid in ("Q_1", "Q_2")
                        ),
                        what="the other strategies hearing the market after the failure",
                    )
                    assert not node.kernel.is_stopped(node.kernel.strategy("Q_1"))
                    assert not node.kernel.is_stopped(node.kernel.strategy("Q_2"))
                    assert [o for o in node.kernel.orders.open_orders() if str(o.strategy_id) != "BOMB"]
                    assert len(node.kernel.orders.all_orders) >= fenced_at
                finally:
                    stop.set()
                    code = await running
                store.close()
        finally:
            await hook.stop()
        assert code == 0, node.stop_reason  # the node itself never stopped for it
        (alert,) = [a for a in hook.received if a["kind"] == "strategy_failure"]
        assert alert["strategy"] == "BOMB"
        assert "injected failure" in alert["text"] and alert["node"] == "multi-test"
        assert "raised RuntimeError" in node.fence.reasons["BOMB"]

    run(body(), timeout=90)


def test_a_venue_going_away_stops_new_orders_there_and_alerts(tmp_path: Path) -> None:
    async def body() -> None:
        hook = _Webhook()
        await hook.start()
        try:
            async with two_venues() as (okx, gate):
                config = QUOTERS + f'\n[alerts]\nwebhooks = ["{hook.url}"]\nretry_backoff_s = 0.1\n'
                node, store = _node(write_config(tmp_path, okx, gate, config))
                stop = asyncio.Event()
                running = asyncio.create_task(node.run(stop))
                try:
                    await eventually(lambda: bool(_accepted(node, "Q_1")) and bool(_accepted(node, "Q_2")))
                    await gate.stop()  # the venue's process goes away: its streams drop
                    await eventually(
                        lambda: any(a["kind"] == "venue_down" for a in hook.received),
                        what="the venue_down alert",
                    )
                    state = node.risk.state_for(node.kernel.strategy("Q_2").instruments[0])
                    okx_state = node.risk.state_for(node.kernel.strategy("Q_1").instruments[0])
                finally:
                    stop.set()
                    await running
                    store.close()
        finally:
            await hook.stop()
        (alert,) = [a for a in hook.received if a["kind"] == "venue_down"][:1]
        assert alert["venue"] == "gate" and "gate (GATE) is " in alert["text"]
        assert state.value in ("REDUCING", "HALTED")  # no new orders that add to risk on the lost venue
        assert okx_state.value == "ACTIVE"  # the other venue trades on

    run(body(), timeout=120)
