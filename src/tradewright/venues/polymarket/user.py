"""Polymarket's user channel and its heartbeats, feeding `PolymarketExecution`.

The channel (`/ws/user`, subscribed with the API key set and the condition ids) carries our order
updates (PLACEMENT, UPDATE, CANCELLATION) and one trade message per status of each match (MATCHED →
MINED → CONFIRMED, or RETRYING → FAILED). A dropped connection is re-opened with backoff and the node
is told to reconcile (what the channel missed is only recovered that way).

Heartbeats (`POST /v1/heartbeats`, chaining the returned id) keep the session's orders alive — the
venue cancels every order of a session that stops sending them. A failing heartbeat marks the venue
DEGRADED and makes the execution client refuse new orders until a heartbeat is acknowledged again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import aiohttp

from tradewright.core.errors import TradewrightError
from tradewright.venues._common.backoff import Backoff
from tradewright.venues._common.ports import VenueHealth, VenueHooks, VenueStatus
from tradewright.venues.polymarket.execution import PolymarketExecution
from tradewright.venues.polymarket.http import ApiCreds, PolymarketApiError
from tradewright.venues.polymarket.parsing import VENUE, decode, our_fills, parse_user_message, split_frame
from tradewright.venues.polymarket.schemas import HeartbeatAnswer, UserOrder, UserTrade

__all__ = ["UserChannel"]


class UserChannel:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        ws_url: str,
        execution: PolymarketExecution,
        creds: ApiCreds,
        markets: list[str],
        hooks: VenueHooks,
        *,
        heartbeat_interval_s: float = 5.0,
        ping_interval_s: float = 10.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._session = session
        self._url = ws_url.rstrip("/") + "/ws/user"
        self.execution = execution
        self._creds = creds
        self.markets = list(markets)
        self._hooks = hooks
        self._heartbeat_s = heartbeat_interval_s
        self._ping_s = ping_interval_s
        self._backoff = backoff or Backoff(0.1, 10.0)
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.heartbeats = 0
        self._heartbeat_id = ""

    async def run(self, on_reconnect: Callable[[], None] | None = None) -> None:
        beats = asyncio.get_running_loop().create_task(self._heartbeats(), name="polymarket heartbeats")
        try:
            await self._connect_loop(on_reconnect)
        finally:
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats

    async def _connect_loop(self, on_reconnect: Callable[[], None] | None) -> None:
        first = True
        while True:
            try:
                async with self._session.ws_connect(self._url, autoping=True) as ws:
                    await ws.send_str(
                        json.dumps(
                            {
                                "auth": {
                                    "apiKey": self._creds.api_key,
                                    "secret": self._creds.secret,
                                    "passphrase": self._creds.passphrase,
                                },
                                "markets": self.markets,
                                "type": "user",
                            },
                            separators=(",", ":"),
                        )
                    )
                    self.connected.set()
                    if not first:
                        self.reconnects += 1
                        self._hooks.log.info("polymarket user channel connected again: reconciling")
                        if on_reconnect is not None:
                            on_reconnect()
                    first = False
                    pinger = asyncio.get_running_loop().create_task(self._ping(ws))
                    try:
                        async for msg in ws:
                            if msg.type is aiohttp.WSMsgType.TEXT:
                                self._backoff.reset()
                                self.on_frame(msg.data)
                            elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                                break
                    finally:
                        pinger.cancel()
            except asyncio.CancelledError:
                raise
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                self._hooks.log.warning("polymarket user channel: %s", exc)
            self.connected.clear()
            self._status(VenueHealth.DEGRADED, "user channel disconnected; reconnecting")
            await asyncio.sleep(self._backoff.next_delay_s())

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(self._ping_s)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str("PING")

    def on_frame(self, text: str) -> None:
        """Apply one frame (one object or an array of them); a malformed one is counted and skipped."""
        try:
            items = split_frame(text)
        except TradewrightError as exc:
            self._malformed(text, exc)
            return
        for item in items:
            try:
                msg = parse_user_message(item)
            except TradewrightError as exc:
                self._malformed(text, exc)
                continue
            if isinstance(msg, UserOrder):
                self.execution.on_order_message(msg.id, msg.status, msg.type, msg.size_matched, msg.timestamp)
            elif isinstance(msg, UserTrade):
                self.on_trade(msg)

    def on_trade(self, trade: UserTrade) -> None:
        for fill in our_fills(trade, self.execution.our_sides(), owner=self._creds.api_key):
            self.execution.on_fill(fill)

    def _malformed(self, text: str, exc: Exception) -> None:
        self.execution.malformed += 1
        self._hooks.log.warning("polymarket: skipped a malformed user message (%s): %.300s", exc, text)

    async def _heartbeats(self) -> None:
        while True:
            try:
                raw = await self.execution.http.request(
                    "POST", "/v1/heartbeats", body={"heartbeat_id": self._heartbeat_id}, auth="l2"
                )
                answer = decode(HeartbeatAnswer, raw, "heartbeat answer") if isinstance(raw, dict) else None
                if answer is not None and answer.error_msg:
                    raise PolymarketApiError(f"heartbeat refused: {answer.error_msg}", status=400)
                if answer is not None and answer.heartbeat_id:
                    self._heartbeat_id = answer.heartbeat_id
                self.heartbeats += 1
                if not self.execution.heartbeat_ok:
                    self.execution.heartbeat_ok = True
                    self._status(VenueHealth.UP, "heartbeats acknowledged again")
            except (PolymarketApiError, TradewrightError) as exc:
                if self.execution.heartbeat_ok:
                    self.execution.heartbeat_ok = False
                    self.execution.heartbeat_reason = str(exc)[:200]
                    self._status(VenueHealth.DEGRADED, f"heartbeat failed ({exc}); new orders stop")
                self._heartbeat_id = ""  # start a new chain
            await asyncio.sleep(self._heartbeat_s)

    def _status(self, health: VenueHealth, reason: str) -> None:
        self._hooks.on_status(VenueStatus(VENUE, health, reason, self._hooks.clock.now_ns()))
