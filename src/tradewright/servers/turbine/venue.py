"""The state of the local Turbine: rotating quick markets, one book per (market, outcome), wallets with
USDC, permit and CTF nonces, orders verified and matched, trades, resolutions and redemptions.

No capture of the live venue exists, so everything here is written from Turbine's documentation
(docs.ojolabs.xyz / beta.turbinefi.com: quick markets, orders, WebSocket, maker rebates) and the
official client (ojo-network/turbine-py-client: payload shapes, signing, claims), and labelled so.
The recorded liquidity of the real venue is replaced by a synthetic ladder around 0.50 per outcome
(`seed_levels`), which the tests and `tradewright venues serve --venue turbine` trade against.

Quick markets roll: market k of an asset covers [t0 + k·interval, t0 + (k+1)·interval), the next one
is listed as soon as the current one opens, and a market resolves YES when its end price is above its
strike (`resolve`), either on command or automatically at its end with a configured price path.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["Fill", "QuickMarketState", "RestingOrder", "TurbineState", "TurbineWallet", "VenueRefusal"]

_MICRO = 1_000_000


class VenueRefusal(Exception):
    """A refusal with the venue's JSON error text and HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(slots=True)
class TurbineWallet:
    address: str
    api_key_id: str
    api_public_key: str  # Ed25519, hex
    usdc: int = 1_000 * _MICRO  # micro-USDC
    allowance: int = 0  # to the settlement contract
    permit_nonce: int = 0
    ctf_nonce: int = 0
    shares: dict[tuple[str, int], int] = field(default_factory=dict)  # (market, outcome) -> micro-shares
    cost: dict[tuple[str, int], int] = field(default_factory=dict)


@dataclass(slots=True)
class QuickMarketState:
    market_id: str
    asset: str
    interval_minutes: int
    start_s: int
    end_s: int
    start_price: int  # the strike, micro-dollars
    contract: str
    settlement: str
    end_price: int | None = None
    resolved: bool = False
    outcome: int | None = None

    def as_json(self, n: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": n, "marketId": self.market_id, "asset": self.asset, "intervalMinutes": self.interval_minutes,
            "startPrice": self.start_price, "startTime": self.start_s, "endTime": self.end_s, "resolved": self.resolved,
            "priceSource": "pyth", "createdAt": self.start_s, "contractAddress": self.contract,
            "settlementAddress": self.settlement,
        }  # fmt: skip
        if self.end_price is not None:
            out["endPrice"] = self.end_price
        if self.outcome is not None:
            out["outcome"] = self.outcome
        return out


@dataclass(slots=True)
class RestingOrder:
    order_hash: str
    market_id: str
    trader: str
    side: int
    outcome: int
    price: int
    size: int
    nonce: int
    expiration: int
    created_s: int
    seq: int
    filled: int = 0
    status: str = "open"

    @property
    def remaining(self) -> int:
        return self.size - self.filled if self.status == "open" else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "orderHash": self.order_hash, "marketId": self.market_id, "trader": self.trader, "side": self.side,
            "outcome": self.outcome, "price": self.price, "size": self.size, "filledSize": self.filled,
            "remainingSize": self.remaining, "nonce": self.nonce, "expiration": self.expiration,
            "status": self.status, "createdAt": self.created_s,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Fill:
    id: int
    market_id: str
    buyer: str
    seller: str
    price: int
    size: int
    outcome: int
    timestamp: int

    def as_json(self) -> dict[str, Any]:
        tx = "0x" + hashlib.sha256(f"turbine-trade-{self.id}".encode()).hexdigest()
        return {
            "id": self.id, "marketId": self.market_id, "buyer": self.buyer, "seller": self.seller, "price": self.price,
            "size": self.size, "outcome": self.outcome, "timestamp": self.timestamp, "txHash": tx,
        }  # fmt: skip


def seed_levels(
    mid: int = 500_000, step: int = 10_000, levels: int = 5, size: int = 100 * _MICRO
) -> tuple[dict[int, int], dict[int, int]]:
    """A synthetic ladder (written by us: no recorded Turbine book exists) of `levels` a side."""
    bids = {mid - step * (k + 1): size * (k + 1) for k in range(levels)}
    asks = {mid + step * (k + 1): size * (k + 1) for k in range(levels)}
    return bids, asks


EXTERNAL = "0x0000000000000000000000000000000000000001"  # the synthetic liquidity's owner


class TurbineState:
    """Markets, books, wallets, orders and trades of the local Turbine."""

    def __init__(self, settlement: str, ctf: str, usdc: str) -> None:
        self.settlement = settlement
        self.ctf = ctf
        self.usdc = usdc
        self.markets: dict[str, QuickMarketState] = {}
        self.books: dict[tuple[str, int], tuple[dict[int, int], dict[int, int]]] = {}
        self.orders: dict[str, RestingOrder] = {}
        self.fills: list[Fill] = []
        self.wallets: dict[str, TurbineWallet] = {}  # by lower-case address
        self.redemptions: list[dict[str, Any]] = []
        self._seq = itertools.count(1)
        self._trade_ids = itertools.count(1)
        self.changed: list[tuple[str, int]] = []  # books changed since the last publish

    # --- markets ------------------------------------------------------------------------------------
    def ensure_market(
        self, asset: str, interval_minutes: int, k: int, t0_s: int, interval_s: int, strike: int
    ) -> QuickMarketState:
        digest = hashlib.sha256(f"{asset}:{interval_minutes}:{t0_s + k * interval_s}".encode()).hexdigest()
        market_id = "0x" + digest
        found = self.markets.get(market_id)
        if found is None:
            found = self.markets[market_id] = QuickMarketState(
                market_id, asset, interval_minutes, t0_s + k * interval_s, t0_s + (k + 1) * interval_s, strike,
                "0x" + digest[:40], self.settlement,
            )  # fmt: skip
            for outcome in (0, 1):
                self.books[(market_id, outcome)] = seed_levels()
        return found

    def resolve(
        self, market_id: str, end_price: int | None = None, outcome: int | None = None
    ) -> QuickMarketState:
        market = self.markets.get(market_id)
        if market is None:
            raise VenueRefusal("market not found", 404)
        if market.resolved:
            return market
        if outcome is None:
            if end_price is None:
                raise VenueRefusal("give the end price or the outcome")
            outcome = 0 if end_price > market.start_price else 1  # YES iff the price ended above the strike
        market.end_price, market.outcome, market.resolved = end_price, outcome, True
        for order in self.orders.values():
            if order.market_id == market_id and order.status == "open":
                order.status = "cancelled"
                self.changed.append((market_id, order.outcome))
        return market

    # --- books --------------------------------------------------------------------------------------
    def book(self, market_id: str, outcome: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        bids, asks = dict(self.books[(market_id, outcome)][0]), dict(self.books[(market_id, outcome)][1])
        for o in self.orders.values():
            if o.market_id == market_id and o.outcome == outcome and o.status == "open":
                side = bids if o.side == 0 else asks
                side[o.price] = side.get(o.price, 0) + o.remaining
        return sorted(bids.items(), reverse=True), sorted(asks.items())

    # --- orders -------------------------------------------------------------------------------------
    def place(
        self, wallet: TurbineWallet, order: dict[str, Any], order_hash: str, now_s: int
    ) -> tuple[RestingOrder, list[Fill]]:
        market = self.markets.get(str(order["marketId"]))
        if market is None:
            raise VenueRefusal("market not found", 404)
        if market.resolved or now_s >= market.end_s:
            raise VenueRefusal("market is closed for trading")
        if order_hash in self.orders:
            raise VenueRefusal("order already exists")
        price, size, side, outcome = (
            int(order["price"]),
            int(order["size"]),
            int(order["side"]),
            int(order["outcome"]),
        )
        if not 1 <= price <= 999_999:
            raise VenueRefusal("price must be between 1 and 999999")
        if size <= 0:
            raise VenueRefusal("size must be positive")
        if int(order["expiration"]) < now_s + 60:
            raise VenueRefusal("expiration must be at least 60 seconds in the future")
        if side == 0:
            cost = price * size // _MICRO
            if wallet.usdc < cost:
                raise VenueRefusal(f"insufficient balance: {wallet.usdc} micro-USDC, {cost} needed")
            if wallet.allowance < cost:
                raise VenueRefusal(
                    "insufficient allowance: attach a USDC permit or approve the settlement contract"
                )
        elif wallet.shares.get((market.market_id, outcome), 0) < size:
            raise VenueRefusal("insufficient shares to sell")
        resting = RestingOrder(
            order_hash, market.market_id, wallet.address, side, outcome, price, size, int(order["nonce"]),
            int(order["expiration"]), now_s, next(self._seq),
        )  # fmt: skip
        fills = self._match(resting, wallet, now_s)
        resting.status = "filled" if resting.remaining == 0 else "open"
        self.orders[order_hash] = resting
        self.changed.append((market.market_id, outcome))
        return resting, fills

    def check_taker(self, order: dict[str, Any]) -> None:
        """A taker (crossing) order must be worth at least $1 (documented; makers are exempt)."""
        key = (str(order["marketId"]), int(order["outcome"]))
        if key not in self.books:
            return
        bids, asks = self.book(*key)
        price, size, side = int(order["price"]), int(order["size"]), int(order["side"])
        crosses = (side == 0 and asks and asks[0][0] <= price) or (side == 1 and bids and bids[0][0] >= price)
        if crosses and price * size // _MICRO < _MICRO:
            raise VenueRefusal("taker orders must be at least $1 (size x price)")

    def _match(self, taker: RestingOrder, wallet: TurbineWallet, now_s: int) -> list[Fill]:
        fills: list[Fill] = []
        key = (taker.market_id, taker.outcome)
        ext_bids, ext_asks = self.books[key]
        while taker.remaining > 0:
            if taker.side == 0:
                ext = [p for p in ext_asks if p <= taker.price]
                ours = [o for o in self.orders.values() if o.market_id == taker.market_id and o.outcome == taker.outcome
                        and o.side == 1 and o.status == "open" and o.price <= taker.price and o.trader != taker.trader]  # fmt: skip
                best = min([*ext, *(o.price for o in ours)], default=None)
            else:
                ext = [p for p in ext_bids if p >= taker.price]
                ours = [o for o in self.orders.values() if o.market_id == taker.market_id and o.outcome == taker.outcome
                        and o.side == 0 and o.status == "open" and o.price >= taker.price and o.trader != taker.trader]  # fmt: skip
                best = max([*ext, *(o.price for o in ours)], default=None)
            if best is None:
                break
            book = ext_asks if taker.side == 0 else ext_bids
            if best in book:
                take = min(book[best], taker.remaining)
                book[best] -= take
                if book[best] == 0:
                    del book[best]
                fills.append(self._fill(taker, wallet, None, best, take, now_s))
                continue
            maker = min((o for o in ours if o.price == best), key=lambda o: o.seq)
            take = min(maker.remaining, taker.remaining)
            fills.append(self._fill(taker, wallet, maker, best, take, now_s))
        return fills

    def _fill(
        self,
        taker: RestingOrder,
        wallet: TurbineWallet | None,
        maker: RestingOrder | None,
        price: int,
        size: int,
        now_s: int,
    ) -> Fill:
        taker.filled += size
        maker_address = EXTERNAL if maker is None else maker.trader
        buyer, seller = (taker.trader, maker_address) if taker.side == 0 else (maker_address, taker.trader)
        fill = Fill(next(self._trade_ids), taker.market_id, buyer, seller, price, size, taker.outcome, now_s)
        self.fills.append(fill)
        if wallet is not None:
            self._book(wallet, taker.market_id, taker.outcome, taker.side, price, size)
        if maker is not None:
            maker.filled += size
            if maker.remaining == 0:
                maker.status = "filled"
            owner = self.wallets.get(maker.trader.lower())
            if owner is not None:
                self._book(owner, maker.market_id, maker.outcome, maker.side, price, size)
        self.changed.append((taker.market_id, taker.outcome))
        return fill

    @staticmethod
    def _book(wallet: TurbineWallet, market_id: str, outcome: int, side: int, price: int, size: int) -> None:
        value = price * size // _MICRO
        key = (market_id, outcome)
        if side == 0:
            wallet.usdc -= value
            wallet.allowance -= value
            wallet.shares[key] = wallet.shares.get(key, 0) + size
            wallet.cost[key] = wallet.cost.get(key, 0) + value
        else:
            wallet.usdc += value
            wallet.shares[key] = wallet.shares.get(key, 0) - size

    def external_trade(
        self, market_id: str, outcome: int, side: int, price: int, size: int, now_s: int
    ) -> list[Fill]:
        """Someone else takes liquidity: our resting orders at or through `price` fill (best first)."""
        resting_side = 1 - side
        ours = sorted(
            (o for o in self.orders.values() if o.market_id == market_id and o.outcome == outcome and o.side == resting_side
             and o.status == "open" and (o.price <= price if side == 0 else o.price >= price)),
            key=lambda o: (o.price if side == 0 else -o.price, o.seq),
        )  # fmt: skip
        fills: list[Fill] = []
        left = size
        for maker in ours:
            if left <= 0:
                break
            take = min(maker.remaining, left)
            taker = RestingOrder(
                "0xexternal", market_id, EXTERNAL, side, outcome, maker.price, take, 0, 0, now_s, 0
            )
            fills.append(self._fill(taker, None, maker, maker.price, take, now_s))
            left -= take
        return fills

    def cancel(self, wallet: TurbineWallet, order_hash: str) -> RestingOrder:
        order = self.orders.get(order_hash)
        if order is None or order.trader.lower() != wallet.address.lower():
            raise VenueRefusal("order not found", 404)
        if order.status != "open":
            raise VenueRefusal(f"order is {order.status}")
        order.status = "cancelled"
        self.changed.append((order.market_id, order.outcome))
        return order

    # --- claims -------------------------------------------------------------------------------------
    def winning_balance(self, wallet: TurbineWallet, market: QuickMarketState) -> int:
        if not market.resolved or market.outcome is None:
            return 0
        return wallet.shares.get((market.market_id, market.outcome), 0)

    def redeem(self, wallet: TurbineWallet, market: QuickMarketState) -> int:
        """Pay 1 USDC per winning share and burn the tokens; return what was paid (micro-USDC)."""
        paid = self.winning_balance(wallet, market)
        if paid <= 0:
            raise VenueRefusal("nothing to redeem")
        assert market.outcome is not None
        wallet.shares[(market.market_id, market.outcome)] = 0
        wallet.shares[(market.market_id, 1 - market.outcome)] = 0
        wallet.usdc += paid
        return paid


def micro_price(value: Decimal) -> int:
    return int(value * _MICRO)
