"""The local Turbine on the generic replay server: REST (`/api/v1/...`), the public stream
(`/api/v1/stream`) and the simulator's controls (`/_sim/...`).

Every request and message shape is written from Turbine's documentation and the official client
(there is no capture to replay): bearer tokens are verified against each API key's Ed25519 public key
(±300 s), every order's EIP-712 signature against its market's settlement contract, every attached
USDC permit (EIP-2612: owner, spender, nonce in sequence, deadline) and every redemption permit.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tradewright.core.errors import VenueError
from tradewright.servers._core import (
    Account,
    MarketEvent,
    RestRequest,
    RestRouter,
    Session,
    SimMarket,
    VenueProtocol,
)
from tradewright.servers._core.rest import RestAnswer
from tradewright.servers.turbine.venue import TurbineState, TurbineWallet, VenueRefusal
from tradewright.venues.turbine.signing import (
    CHAINS,
    TurbineOrder,
    api_public_key,
    order_digest,
    order_hash,
    permit_typed,
    read_bearer_token,
    recover,
    recover_registration,
    redeem_typed_data,
    typed_digest,
    wallet_address,
)

__all__ = ["TurbineProtocol", "TurbineWalletSpec"]

TEST_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Hardhat #0 (public)
TEST_API_KEY = "11" * 32  # a test Ed25519 seed


@dataclass(frozen=True, slots=True)
class TurbineWalletSpec:
    private_key: str = field(default=TEST_PRIVATE_KEY, repr=False)
    api_key_id: str = "local-turbine-key"
    api_private_key: str = field(default=TEST_API_KEY, repr=False)
    usdc: int = 1_000_000_000  # micro-USDC (1,000 USDC)

    def wallet(self) -> TurbineWallet:
        return TurbineWallet(
            wallet_address(self.private_key), self.api_key_id, api_public_key(self.api_private_key), self.usdc
        )


Handler = Callable[[RestRequest], Awaitable[RestAnswer]]


class TurbineProtocol(VenueProtocol):
    name: ClassVar[str] = "turbine"
    ws_paths: ClassVar[tuple[str, ...]] = ("/api/v1/stream",)

    def __init__(
        self,
        *,
        assets: Sequence[str] = ("BTC",),
        interval_minutes: int = 15,
        interval_s: int | None = None,
        chain_id: int = 137,
        strike: int = 97_500_000_000,
        wallets: Sequence[TurbineWalletSpec] = (TurbineWalletSpec(),),
        t0_s: int | None = None,
    ) -> None:
        super().__init__()
        c = CHAINS[chain_id]
        self.chain_id = chain_id
        self.state = TurbineState(c.settlement, c.ctf, c.usdc)
        for spec in wallets:
            w = spec.wallet()
            self.state.wallets[w.address.lower()] = w
        self.assets = list(assets)
        self.interval_minutes = interval_minutes
        self.interval_s = interval_s or interval_minutes * 60
        now = int(time.time())
        self.t0_s = t0_s if t0_s is not None else now - now % self.interval_s
        self.strike = strike
        self.offset_s = 0  # the simulator's clock shift (`/_sim/time`)
        self.wallet_specs = list(wallets)

    # --- the core's set-up ---------------------------------------------------------------------
    def markets(self) -> Sequence[SimMarket]:
        return []

    def events(self) -> Sequence[MarketEvent]:
        return []

    def default_accounts(self) -> list[Account]:
        return [Account(w.api_key_id, "") for w in self.wallet_specs]

    def now_s(self) -> int:
        return int(time.time()) + self.offset_s

    def roll(self) -> None:
        """Make sure the current and next quick market of every asset exist."""
        k = (self.now_s() - self.t0_s) // self.interval_s
        for asset in self.assets:
            for j in (k, k + 1):
                self.state.ensure_market(
                    asset, self.interval_minutes, j, self.t0_s, self.interval_s, self.strike
                )

    def routes(self, router: RestRouter) -> None:
        from tradewright.servers.turbine.routes import register

        register(self, router)

    # --- auth ------------------------------------------------------------------------------------
    def bearer(self, req: RestRequest) -> TurbineWallet:
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise VenueRefusal("missing bearer token", 401)
        token = header.removeprefix("Bearer ")
        try:
            kid = json.loads(_unb64(token.split(".", 1)[0])).get("kid", "")
        except (ValueError, IndexError):
            raise VenueRefusal("invalid bearer token", 401) from None
        wallet = next((w for w in self.state.wallets.values() if w.api_key_id == kid), None)
        if wallet is None:
            raise VenueRefusal("unknown API key", 401)
        try:
            payload = read_bearer_token(token, wallet.api_public_key)
        except VenueError:
            raise VenueRefusal("invalid bearer token signature", 401) from None
        if abs(int(payload["ts"]) - int(time.time())) > 300:
            raise VenueRefusal("bearer token expired", 401)
        return wallet

    def verify_order(self, wallet: TurbineWallet, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        order = body.get("order")
        if not isinstance(order, dict):
            raise VenueRefusal("invalid order payload")
        market = self.state.markets.get(str(order.get("marketId")))
        if market is None:
            raise VenueRefusal("market not found", 404)
        if str(order.get("trader", "")).lower() != wallet.address.lower():
            raise VenueRefusal("the order's trader is not the API key's wallet", 403)
        try:
            struct = TurbineOrder(
                market_id=str(order["marketId"]), trader=str(order["trader"]), side=int(order["side"]),
                outcome=int(order["outcome"]), price=int(order["price"]), size=int(order["size"]),
                nonce=int(order["nonce"]), expiration=int(order["expiration"]),
                maker_fee_recipient=str(order.get("makerFeeRecipient") or "0x" + "00" * 20),
            )  # fmt: skip
            signer = recover(
                order_digest(struct, self.chain_id, market.settlement), str(body.get("signature", ""))
            )
        except (KeyError, ValueError, VenueError) as exc:
            raise VenueRefusal(f"invalid order or signature: {exc}") from None
        if signer.lower() != wallet.address.lower():
            raise VenueRefusal("invalid signature", 401)
        permit = body.get("permitSignature")
        if permit is not None:
            self._apply_permit(wallet, permit, market.settlement)
        return order, order_hash(struct, self.chain_id, market.settlement)

    def _apply_permit(self, wallet: TurbineWallet, permit: dict[str, Any], spender: str) -> None:
        """An attached EIP-2612 permit: signed by the trader for the settlement contract, next nonce."""
        try:
            nonce, value, deadline = int(permit["nonce"]), int(permit["value"]), int(permit["deadline"])
            signature = str(permit["r"]) + str(permit["s"]).removeprefix("0x") + f"{int(permit['v']):02x}"
        except (KeyError, ValueError, TypeError):
            raise VenueRefusal("invalid permit") from None
        if nonce != wallet.permit_nonce:
            raise VenueRefusal(f"invalid permit nonce {nonce}: expected {wallet.permit_nonce}")
        if deadline < int(time.time()):
            raise VenueRefusal("permit expired")
        typed = permit_typed(CHAINS[self.chain_id], wallet.address, spender, value, nonce, deadline)
        if recover(typed_digest(typed), signature).lower() != wallet.address.lower():
            raise VenueRefusal("invalid permit signature")
        wallet.permit_nonce += 1
        wallet.allowance = value  # EIP-2612 sets the allowance to the permitted value

    def verify_redemption(self, wallet: TurbineWallet, body: dict[str, Any]) -> None:
        try:
            index_sets = [int(i) for i in body["indexSets"]]
            typed = redeem_typed_data(
                CHAINS[self.chain_id], str(body["owner"]), str(body["collateralToken"]), str(body["conditionId"]),
                index_sets, wallet.ctf_nonce, int(body["deadline"]),
            )  # fmt: skip
            signature = str(body["r"]) + str(body["s"]).removeprefix("0x") + f"{int(body['v']):02x}"
        except (KeyError, ValueError, TypeError):
            raise VenueRefusal("invalid redemption payload") from None
        if recover(typed_digest(typed), signature).lower() != wallet.address.lower():
            raise VenueRefusal("invalid redemption signature (or a stale CTF nonce)")
        if int(body["deadline"]) < int(time.time()):
            raise VenueRefusal("redemption permit expired")

    def register_key(self, body: dict[str, Any]) -> dict[str, Any]:
        address, signature = str(body.get("address", "")), str(body.get("signature", ""))
        try:
            signer = recover_registration(address, signature)
        except (ValueError, VenueError):
            raise VenueRefusal("invalid signature", 401) from None
        if signer.lower() != address.lower():
            raise VenueRefusal("invalid signature", 401)
        wallet = self.state.wallets.get(address.lower())
        if wallet is not None:
            raise VenueRefusal(
                json.dumps({"error": "API key already exists", "api_key_id": wallet.api_key_id}), 409
            )
        seed = secrets.token_hex(32)
        wallet = TurbineWallet(address, f"key-{address[2:10].lower()}", api_public_key(seed), 0)
        self.state.wallets[address.lower()] = wallet
        return {
            "success": True,
            "api_key_id": wallet.api_key_id,
            "api_private_key": seed,
            "message": "created",
        }

    # --- WebSocket ------------------------------------------------------------------------------------
    async def on_message(self, session: Session, text: str) -> None:
        try:
            msg = json.loads(text)
            kind, market_id = str(msg["type"]), str(msg["marketId"])
        except (ValueError, KeyError, TypeError):
            await session.send(json.dumps({"type": "error", "data": {"message": "invalid message"}}))
            return
        if kind == "unsubscribe":
            for outcome in (0, 1):
                self.server.hub.remove(session, f"book:{market_id}:{outcome}")
            await session.send(
                json.dumps({"type": "unsubscribe", "marketId": market_id, "data": {"status": "unsubscribed"}})
            )
            return
        if kind != "subscribe" or market_id not in self.state.markets:
            await session.send(
                json.dumps({"type": "error", "marketId": market_id, "data": {"message": "unknown market"}})
            )
            return
        data = msg.get("data") or {}
        outcomes = [int(data["outcome"])] if "outcome" in data else [0, 1]
        await session.send(
            json.dumps({"type": "subscribe", "marketId": market_id, "data": {"status": "subscribed"}})
        )
        for outcome in outcomes:
            self.server.hub.add(session, f"book:{market_id}:{outcome}")
            await session.send(self.book_message(market_id, outcome))

    async def on_event(self, event: MarketEvent) -> None:
        return None

    def book_message(self, market_id: str, outcome: int) -> str:
        bids, asks = self.state.book(market_id, outcome)
        data = {
            "marketId": market_id, "outcome": outcome, "lastUpdate": time.time_ns() // 1000,
            "bids": [{"price": p, "size": q} for p, q in bids], "asks": [{"price": p, "size": q} for p, q in asks],
        }  # fmt: skip
        return json.dumps({"type": "orderbook", "marketId": market_id, "data": data}, separators=(",", ":"))

    def publish_changes(self) -> None:
        changed, self.state.changed = set(self.state.changed), []
        for market_id, outcome in changed:
            text = self.book_message(market_id, outcome)
            for sub in self.server.hub.subscribers(f"book:{market_id}:{outcome}"):
                self.server.post(sub.session, text)


def _unb64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
