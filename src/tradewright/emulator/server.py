"""Assemble and run the emulator: one aiohttp server on 127.0.0.1 with REST, WebSocket and admin faces,
a replay task that plays the recording at --speed on the emulator's clock, and housekeeping
(listen-key expiry, periodic connection drops when that fault is on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from tradewright.core.clock import ScaledClock
from tradewright.core.errors import ConfigError
from tradewright.core.ids import ClientOrderId
from tradewright.data.loading import load_stream
from tradewright.emulator.appkey import SERVER_KEY
from tradewright.emulator.auth import Signer
from tradewright.emulator.config import EmulatorConfig, resolve_secret
from tradewright.emulator.endpoints import Endpoints
from tradewright.emulator.exchange import AccountSeed, Exchange, ExchangeSettings
from tradewright.emulator.faults import Faults
from tradewright.emulator.http_guard import GuardedRunner, binance_envelope
from tradewright.emulator.ratelimit import RateLimitConfig, RateLimiter
from tradewright.emulator.routes import rest_routes, ws_api_routes
from tradewright.emulator.scheduler import INF
from tradewright.emulator.spec import VenueKind, venue_spec
from tradewright.emulator.store import StateStore
from tradewright.emulator.streams import Conn, MarketHub, UserHub
from tradewright.emulator.web import admin_routes, rest_handler
from tradewright.emulator.wsserver import market_ws, ws_api
from tradewright.model.columnar import MarketStream
from tradewright.sim.queue import queue_model_from_config

__all__ = ["HOST", "EmulatorServer"]

log = logging.getLogger(__name__)
HOST = "127.0.0.1"  # the emulator never listens beyond the loopback interface
_CHECKPOINT_S = 0.2


def _rate_limits(config: EmulatorConfig) -> RateLimitConfig:
    futures = config.futures
    return RateLimitConfig(
        weight_per_minute=config.weight_limit or (2400 if futures else 6000),
        orders_per_10s=config.orders_per_10s or (300 if futures else 100),
        orders_long=config.orders_long or (1200 if futures else 200_000),
        long_window_s=60 if futures else 86400,
        ban_after=config.ban_after,
        ban_s=config.ban_s,
    )


class EmulatorServer:
    """A running emulated Binance venue. `start()` then `stop()`; `port` is known after start."""

    def __init__(self, config: EmulatorConfig, stream: MarketStream | None = None) -> None:
        self.config = config
        if stream is None:
            stream = load_stream([Path(p) for p in config.data], symbol=config.symbol)
        if len(stream) == 0:
            raise ConfigError("the recording has no rows")
        self.stream = stream
        self.spec = venue_spec(VenueKind(config.venue), stream.instrument, min_notional=config.min_notional)
        inst = stream.instrument
        path = config.state_path()
        if config.fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        self.store = StateStore(path)
        self.faults = Faults(config.faults)
        self.market_hub = MarketHub(self.spec.symbol, self.faults)
        self.user_hub = UserHub(faults=self.faults)
        seeds = tuple(
            AccountSeed(a.api_key, resolve_secret(a), dict(a.balances), a.leverage)
            for a in config.account_list()
        )
        settings = ExchangeSettings(
            maker_fee=config.maker_fee if config.maker_fee is not None else inst.maker_fee,
            taker_fee=config.taker_fee if config.taker_fee is not None else inst.taker_fee,
            queue_model=queue_model_from_config(config.queue_model, config.queue_power),
            order_latency_ns=int(Decimal(str(config.order_latency_ms)) * 1_000_000),
            accounts=seeds,
        )
        self.exchange = Exchange(
            self.spec,
            stream,
            settings,
            self.store,
            self.faults,
            wants=self.market_hub.wants,
            publish=self.market_hub.publish,
        )
        self.exchange.user_sink = self.user_hub.publish
        self.limiter = RateLimiter(_rate_limits(config), self.exchange.errors, time.time)
        self.signer = Signer(self.exchange.errors, self.exchange.secret_of, self.wall_ms)
        self.endpoints = Endpoints(self.exchange, self.limiter.config, self.wall_ms)
        self.rest_routes = rest_routes(self.endpoints)
        self.ws_routes = ws_api_routes(self.endpoints)
        self.connections: set[Conn] = set()
        self.requests: deque[str] = deque(maxlen=10_000)  # "METHOD /path" of each REST request, for tests
        self.ws_heartbeat_s = 20.0 if not self.spec.futures else 180.0
        self.pacing = ScaledClock(0, config.speed)
        self.paused = False
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._last_checkpoint = 0.0
        self.app = self._build_app()

    @staticmethod
    def wall_ms() -> int:
        return time.time_ns() // 1_000_000

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[binance_envelope])
        app[SERVER_KEY] = self
        app.add_routes(admin_routes())
        ws_paths = ["/ws", "/ws/{tail:.*}", "/stream", "/stream/{tail:.*}"]
        if self.spec.futures:
            for prefix in ("/public", "/market", "/private"):
                ws_paths += [f"{prefix}/ws", prefix + "/ws/{tail:.*}", f"{prefix}/stream"]
        app.add_routes([web.get(p, market_ws) for p in ws_paths])
        app.add_routes([web.get("/ws-fapi/v1" if self.spec.futures else "/ws-api/v3", ws_api)])
        app.add_routes([web.route("*", "/{path:.*}", rest_handler)])
        return app

    # --- life cycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the state, start listening on 127.0.0.1 and start replaying."""
        self.exchange.open(source="+".join(self.config.data) or self.stream.source)
        self.pacing = ScaledClock(self.exchange.clock.now_ns(), self.config.speed)
        self._runner = GuardedRunner(
            self.app, header_timeout_s=self.config.header_timeout_s, idle_timeout_s=self.config.idle_timeout_s
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.config.port)
        await site.start()
        # aiohttp exposes the bound address only through the runner's sockets
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.config.port
        self._tasks = [
            asyncio.create_task(self._replay_loop(), name="emulator-replay"),
            asyncio.create_task(self._housekeeping(), name="emulator-housekeeping"),
        ]

    async def stop(self) -> None:
        """Stop replaying, close every connection, write the final state."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.close_websockets(None)
        self.exchange.commit()
        if self._runner is not None:
            await self._runner.cleanup()
        self.store.close()

    # --- the replay ----------------------------------------------------------------------------------
    def catch_up(self) -> None:
        """Replay what is due by now before a request looks at the book (one bounded step: when the
        machine cannot keep up with --speed, the venue's clock falls behind rather than stalling requests;
        `lagMs` in the status shows by how much)."""
        self.exchange.advance(self.pacing.now_ns())

    async def _replay_loop(self) -> None:
        try:
            while True:
                caught_up = self.exchange.advance(self.pacing.now_ns())
                if time.monotonic() - self._last_checkpoint > _CHECKPOINT_S:
                    self._last_checkpoint = time.monotonic()
                    self.exchange.commit()
                if not caught_up:
                    await asyncio.sleep(0)
                    continue
                nxt = min(self.exchange.market.next_row_ns() or INF, self.exchange.scheduler.next_due_ns())
                wait = 0.05 if nxt >= INF or self.paused else min(0.05, self.pacing.wall_seconds_until(nxt))
                await asyncio.sleep(max(wait, 0.001))
        except asyncio.CancelledError:
            raise
        except Exception:  # a task boundary: log it and stop serving rather than serve a stale venue
            log.exception("the emulator's replay failed; stopping")
            self.close_websockets(None)
            raise

    def set_paused(self, paused: bool) -> None:
        """Freeze or restart the replay clock (the market stands still while paused). Pausing replays
        everything due first, so what a paused venue shows does not change until it resumes."""
        if paused == self.paused:
            return
        if paused:
            self.pacing.freeze()
            while not self.exchange.advance(self.pacing.now_ns()):
                pass
        else:
            self.pacing = ScaledClock(self.pacing.now_ns(), self.config.speed)
        self.paused = paused

    async def _housekeeping(self) -> None:
        last_close = time.monotonic()
        while True:
            await asyncio.sleep(0.25)
            for lk in self.endpoints.expired_listen_keys():
                self.user_hub.expire(lk, self.exchange.venue_ms())
                self.exchange.set_listen_key(lk, None)
                self.exchange.commit()
            every = self.faults.settings.ws_close_every_s
            if every > 0 and time.monotonic() - last_close >= every:
                last_close = time.monotonic()
                self.close_websockets(None)

    def close_websockets(self, kind: str | None) -> int:
        """Close the open WebSockets (all, or one kind: market, api); return how many."""
        found = [c for c in self.connections if kind in (None, "all", c.kind)]
        for conn in found:
            conn.close()
        return len(found)

    # --- admin views ---------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        ex = self.exchange
        market = ex.market
        return {
            "venue": self.spec.kind.value,
            "symbol": self.spec.symbol,
            "port": self.port,
            "speed": self.config.speed,
            "paused": self.paused,
            "row": market.position,
            "rows": len(self.stream),
            "finished": market.finished,
            "dataTimeNs": ex.clock.now_ns(),
            "lagMs": max(0, self.pacing.now_ns() - ex.clock.now_ns()) // 1_000_000,  # replay behind the clock
            "venueTimeMs": ex.venue_ms(),
            "venueOffsetNs": market.offset_ns,
            "farLevelsSkipped": market.far_levels,
            "lastUpdateId": market.last_depth_id,
            "openOrders": ex.resting_count(),
            "orders": len(ex.orders),
            "fills": len(ex.fills),
            "connections": len(self.connections),
            "state": str(self.store.path),
        }

    def order_info(self, order_id: int) -> dict[str, Any] | None:
        order = self.exchange.orders.get(order_id)
        if order is None:
            return None
        ahead = self.exchange.venue.queue_ahead(ClientOrderId(str(order_id)))
        inst = self.spec.instrument
        return {
            "orderId": order.order_id,
            "status": order.status,
            "executedQty": self.spec.qty(order.executed_qty),
            "queueAhead": None if ahead is None else self.spec.qty(inst.lot_size * Decimal(repr(ahead))),
        }
