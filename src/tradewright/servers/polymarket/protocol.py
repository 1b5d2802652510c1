"""The local Polymarket: the market and user channels, the replay, and the private pushes, on the
generic replay server (`tradewright.servers._core`). REST lives in `routes.py`, matching in `clob.py`.

Market channel (`/ws/market`): ``{"type":"market","assets_ids":[…]}`` (and later
``{"operation":"subscribe"|"unsubscribe",…}``) — each subscribed token gets its current `book` at
once, then every change: the recorded messages verbatim and, for the other outcome of the same market
and for changes our orders make, `price_change` messages in the venue's shape (with `best_bid` and
`best_ask`), because the venue moves both tokens' books together. ``PING`` is answered ``PONG``.

User channel (`/ws/user`): ``{"auth":{apiKey,secret,passphrase},"markets":[…],"type":"user"}``, then
the account's `order` and `trade` messages for those markets (all markets when the list is empty).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from tradewright.model.prediction import FeeSchedule
from tradewright.servers._core import (
    Account,
    MarketEvent,
    RateRule,
    RestRequest,
    RestRouter,
    Session,
    SimMarket,
    VenueProtocol,
)
from tradewright.servers._core.rest import RestAnswer
from tradewright.servers.polymarket.clob import Clob, MarketState, Wallet
from tradewright.servers.polymarket.world import World, load_world
from tradewright.venues.polymarket.signing import CONTRACTS, address_of

__all__ = ["PolymarketProtocol", "WalletSpec"]

_ONE = Decimal(1)
# Hardhat's public account #0: a well-known test key, never a real wallet.
TEST_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@dataclass(frozen=True, slots=True)
class WalletSpec:
    """A wallet the local venue knows: its address (or the key it derives from), API key set,
    collateral and token balances, and whether it has approved the exchanges."""

    api_key: str
    secret: str = field(repr=False)
    passphrase: str = field(repr=False)
    address: str = ""
    private_key: str = field(default="", repr=False)
    collateral: Decimal = Decimal(1000)
    tokens: dict[str, Decimal] = field(default_factory=dict)
    approved: bool = True

    def wallet(self, chain_id: int) -> Wallet:
        address = self.address or address_of(self.private_key or TEST_PRIVATE_KEY)
        c = CONTRACTS[chain_id]
        spenders = [
            c.exchange_v1,
            c.exchange_v2,
            c.neg_risk_exchange_v1,
            c.neg_risk_exchange_v2,
            c.neg_risk_adapter,
        ]
        allowances = {s.lower(): Decimal(2**256 - 1) for s in spenders} if self.approved else {}
        return Wallet(
            address, self.api_key, self.secret, self.passphrase, self.collateral, dict(self.tokens), allowances,
            self.collateral, dict(self.tokens),
        )  # fmt: skip


DEFAULT_WALLET = WalletSpec(
    api_key="00000000-0000-4000-8000-000000000001",
    secret="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  # the official HMAC test secret
    passphrase="local-passphrase",
)


def _market_state(raw: dict[str, Any]) -> MarketState | None:
    tokens = raw.get("tokens") or []
    if len(tokens) != 2:
        return None
    winner = next((str(t["token_id"]) for t in tokens if t.get("winner")), "")
    taker_bps = Decimal(str(raw.get("taker_base_fee") or 0))
    return MarketState(
        condition_id=raw["condition_id"],
        tokens=(str(tokens[0]["token_id"]), str(tokens[1]["token_id"])),
        outcomes=(str(tokens[0]["outcome"]), str(tokens[1]["outcome"])),
        tick_size=Decimal(str(raw.get("minimum_tick_size") or "0.01")),
        min_size=Decimal(str(raw.get("minimum_order_size") or 0)),
        neg_risk=bool(raw.get("neg_risk")),
        fees=FeeSchedule(kind="curve", rate=taker_bps / 10_000, exponent=1) if taker_bps else FeeSchedule(),
        accepting_orders=bool(raw.get("accepting_orders", True)) and not raw.get("closed", False),
        resolved_winner=winner,
    )


class PolymarketProtocol(VenueProtocol):
    name: ClassVar[str] = "polymarket"
    ws_paths: ClassVar[tuple[str, ...]] = ("/ws/market", "/ws/user")
    # Polymarket's published limits (per 10 s), enforced with the venue's 429.
    rate_rules: ClassVar[tuple[RateRule, ...]] = (
        RateRule("POST /order", ("/order",), 3_500, 10.0, frozenset({"POST"})),
        RateRule("POST /orders", ("/orders",), 1_000, 10.0, frozenset({"POST"})),
        RateRule("DELETE /order", ("/order",), 3_000, 10.0, frozenset({"DELETE"})),
        RateRule("balance-allowance", ("/balance-allowance",), 200, 10.0),
        RateRule("auth", ("/auth",), 100, 10.0),
    )

    def __init__(
        self,
        data: World | str,
        *,
        wallets: Sequence[WalletSpec] = (DEFAULT_WALLET,),
        chain_id: int = 137,
        version: int = 2,
        auto_settle_s: float | None = 0.05,
        heartbeat_timeout_s: float = 10.0,
    ) -> None:
        super().__init__()
        self.world = data if isinstance(data, World) else load_world(data)
        self.chain_id = chain_id
        self.version = version
        self.auto_settle_s = auto_settle_s
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.wallet_specs = list(wallets)
        states = {
            cid: s for cid, raw in self.world.clob_markets.items() if (s := _market_state(raw)) is not None
        }
        self.clob = Clob(states, [w.wallet(chain_id) for w in wallets], push=self._push)
        self.clob.book_changed = self._book_changed
        self.deposit_owners: dict[str, str] = {}
        self.heartbeats: dict[str, float] = {}  # api key -> last heartbeat (monotonic)
        self.mode = "open"  # or "cancel-only", "disabled"
        self._ticker: asyncio.Task[None] | None = None
        self.chain_state: dict[str, Any] = {"nonces": {}, "receipts": {}, "operators": {}}  # see chain.py
        self._events = [MarketEvent(m.ts_ns, f"market:{m.market}", m) for m in self.world.replay]
        stamps = [int(m.payload.get("timestamp") or 0) for m in self.world.replay]
        first = min((t for t in stamps if t > 0), default=int(time.time() * 1000))
        # A minute before the first recorded message: what is sent before the replay is older than it.
        self._base_ms = first - 60_000
        self._base_wall_ms = int(time.time() * 1000)

    # --- set-up ------------------------------------------------------------------------------------
    def markets(self) -> Sequence[SimMarket]:
        return []  # orders are matched by this module's own CLOB (both tokens of a market at once)

    def events(self) -> Sequence[MarketEvent]:
        return self._events

    def default_accounts(self) -> list[Account]:
        return [Account(w.api_key, w.secret, w.passphrase) for w in self.wallet_specs]

    def routes(self, router: RestRouter) -> None:
        from tradewright.servers.polymarket.routes import register

        register(self, router)

    def now_ms(self) -> int:
        """The venue's clock for the timestamps it writes: the recording's time while it replays (so a
        message it makes never looks older than a recorded one already sent), running on with the wall
        clock in between."""
        return self._base_ms + (int(time.time() * 1000) - self._base_wall_ms)

    def advance_clock(self, payload_ms: int) -> None:
        """A recorded message stamped `payload_ms` was played: the venue's clock is at least there."""
        if payload_ms > self.now_ms():
            self._base_ms = payload_ms
            self._base_wall_ms = int(time.time() * 1000)

    def ensure_ticker(self) -> None:
        """Start the venue's background work (heartbeats, expiries, settlement) with the first request;
        the server stops it."""
        if self._ticker is None or self._ticker.done():
            from tradewright.servers.polymarket.sim_admin import run_ticker

            self._ticker = self.server.spawn(run_ticker(self), "ticker")

    # --- errors (the venue's envelope: {"error": "..."}) ------------------------------------------------
    def not_found(self, request: RestRequest) -> RestAnswer:
        return RestAnswer.of({"error": f"{request.method} {request.path}: not found"}, 404)

    def too_many_requests(self, request: RestRequest, retry_after_s: float) -> RestAnswer:
        return RestAnswer.of({"error": "Too Many Requests"}, 429, {"Retry-After": f"{retry_after_s:g}"})

    def server_error(self, request: RestRequest, status: int) -> RestAnswer:
        return RestAnswer.of({"error": "Internal Server Error"}, status)

    # --- WebSocket ---------------------------------------------------------------------------------
    async def on_message(self, session: Session, text: str) -> None:
        if text.strip().upper() == "PING":
            await session.send("PONG")
            return
        try:
            msg = json.loads(text)
        except ValueError:
            await session.send(json.dumps({"error": "invalid message"}))
            return
        if not isinstance(msg, dict):
            await session.send(json.dumps({"error": "invalid message"}))
            return
        self.ensure_ticker()
        if session.path.endswith("/ws/user"):
            await self._user_subscribe(session, msg)
            return
        assets = [str(a) for a in msg.get("assets_ids") or []]
        if msg.get("operation") == "unsubscribe":
            for asset in assets:
                self.server.hub.remove(session, f"book:{asset}")
            return
        session.state["custom"] = bool(msg.get("custom_feature_enabled", session.state.get("custom", False)))
        unknown = [a for a in assets if a not in self.clob.by_token]
        if unknown:
            await session.send(json.dumps({"error": f"unknown asset ids: {', '.join(unknown)}"}))
        for asset in assets:
            if asset in self.clob.by_token:
                self.server.hub.add(session, f"book:{asset}")
                await session.send(self.book_message(asset))
        if assets:
            self.server.market_started()

    async def _user_subscribe(self, session: Session, msg: dict[str, Any]) -> None:
        auth = msg.get("auth") or {}
        wallet = self.clob.wallets.get(str(auth.get("apiKey", "")))
        if (
            wallet is None
            or auth.get("secret") != wallet.secret
            or auth.get("passphrase") != wallet.passphrase
        ):
            await session.send(json.dumps({"error": "Unauthorized/Invalid api key"}))
            await session.close(code=4001)
            return
        session.state["api_key"] = wallet.api_key
        session.state["markets"] = set(msg.get("markets") or [])
        self.server.hub.add(session, f"user:{wallet.api_key}")

    def _push(self, api_key: str, message: dict[str, Any]) -> None:
        market = message.get("market", "")
        text = json.dumps(message, separators=(",", ":"))
        for sub in self.server.hub.subscribers(f"user:{api_key}"):
            wanted = sub.session.state.get("markets") or set()
            if not wanted or market in wanted:
                self.server.post(sub.session, text)

    # --- books -------------------------------------------------------------------------------------
    def book_message(self, token_id: str) -> str:
        bids, asks = self.clob.book(token_id)
        market = self.clob.by_token[token_id]
        return json.dumps(
            {
                "event_type": "book",
                "market": market.condition_id,
                "asset_id": token_id,
                "timestamp": str(self.now_ms()),
                "hash": "",
                "bids": [{"price": str(p), "size": str(q)} for p, q in reversed(bids)],
                "asks": [{"price": str(p), "size": str(q)} for p, q in reversed(asks)],
            },
            separators=(",", ":"),
        )

    def _book_changed(self, market: MarketState, yes_prices: set[Decimal]) -> None:
        """Tell both tokens' subscribers what the levels at `yes_prices` hold now (a price_change)."""
        for index, token in enumerate(market.tokens):
            bids, asks = self.clob.book(token)
            bid_map, ask_map = dict(bids), dict(asks)
            changes = []
            for yes_price in sorted(yes_prices):
                price = yes_price if index == 0 else _ONE - yes_price
                for side, levels in (("BUY", bid_map), ("SELL", ask_map)):
                    changes.append({
                        "asset_id": token, "price": str(price), "side": side, "size": str(levels.get(price, 0)),
                        "hash": "", "best_bid": str(bids[0][0]) if bids else "0", "best_ask": str(asks[0][0]) if asks else "0",
                    })  # fmt: skip
            text = json.dumps(
                {"event_type": "price_change", "market": market.condition_id, "timestamp": str(self.now_ms()),
                 "price_changes": changes},
                separators=(",", ":"),
            )  # fmt: skip
            for sub in self.server.hub.subscribers(f"book:{token}"):
                self.server.post(sub.session, text)

    # --- replay ------------------------------------------------------------------------------------
    async def on_event(self, event: MarketEvent) -> None:
        from tradewright.servers.polymarket.replay import apply_replay

        await apply_replay(self, event.payload)

    def check_heartbeats(self) -> None:
        """Cancel every order of a session whose heartbeats stopped (after it enrolled by sending one)."""
        now = time.monotonic()
        for api_key, last in list(self.heartbeats.items()):
            if now - last > self.heartbeat_timeout_s:
                del self.heartbeats[api_key]
                self.clob.cancel_where(api_key, self.now_ms())
