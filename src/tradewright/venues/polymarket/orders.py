"""Our orders as Polymarket signed orders — deterministically, so an order can always be found again.

The venue's order id is the EIP-712 hash of the signed order. We make the hash a pure function of the
order as the node stored it: the salt is derived from the wallet and the client order id, and the
timestamp is the order's creation time. So after a crash between sending and hearing back, the node
recomputes the id and asks the venue what became of the order — it never has to send it again (and
the venue refuses a second copy of the same hash anyway).

Time in force: GTC/GTD rest (post-only allowed), IOC is FAK, FOK is FOK; a MARKET order is a FAK at the
worst price on the grid (a BUY at 1 - tick, a SELL at one tick). GTD expiries carry the venue's one
minute safety margin (an order meant to expire at T is sent with expiration T + 60 s).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradewright.core.errors import VenueError
from tradewright.model.enums import OrderSide, OrderType, TimeInForce
from tradewright.model.orders import Order
from tradewright.model.prediction import BinaryMarket
from tradewright.venues.polymarket.amounts import limit_amounts
from tradewright.venues.polymarket.signing import (
    ZERO_ADDRESS,
    OrderV1,
    OrderV2,
    SignatureType,
    address_of,
    exchange_address,
    order_hash,
    sign_order,
)

__all__ = ["OrderFactory", "SignedOrder", "order_type_of"]

_GTD_SAFETY_S = 60


def order_type_of(order: Order) -> str:
    """The venue's `orderType` for one of our orders."""
    if order.order_type is OrderType.MARKET:
        return "FAK"
    tif = order.time_in_force
    if tif is TimeInForce.GTC:
        return "GTC"
    if tif is TimeInForce.GTD:
        return "GTD"
    if tif is TimeInForce.IOC:
        return "FAK"
    if tif is TimeInForce.FOK:
        return "FOK"
    raise VenueError(f"time in force {tif} is not supported on Polymarket")


@dataclass(frozen=True, slots=True)
class SignedOrder:
    """One order ready to post: its hash (the venue's id), the exact JSON and the signed struct."""

    order_id: str
    body: dict[str, Any]
    version: int
    struct: OrderV1 | OrderV2


class OrderFactory:
    """Build and sign orders for one wallet (see the module docstring)."""

    def __init__(
        self,
        private_key: str,
        chain_id: int,
        *,
        signature_type: int = SignatureType.EOA,
        funder: str = "",
        owner: str = "",
    ) -> None:
        self._key = private_key
        self.chain_id = chain_id
        self.signer = address_of(private_key)
        self.signature_type = signature_type
        self.maker = funder or self.signer
        self.owner = owner  # the API key: who owns the order at the venue

    def salt(self, client_order_id: str) -> int:
        digest = hashlib.sha256(f"{self.maker.lower()}:{client_order_id}".encode()).digest()
        return int.from_bytes(digest[:6], "big")  # < 2**48: as small as the official random salts

    def build(
        self, order: Order, market: BinaryMarket, index: int, *, version: int, fee_rate_bps: int = 0
    ) -> SignedOrder:
        """Sign `order` (on outcome `index` of `market`) for the exchange of `version`."""
        side = 0 if order.side is OrderSide.BUY else 1
        price = self._price(order, market)
        if not market.valid_price(price):
            raise VenueError(
                f"order {order.client_order_id}: price {price} is not on {market.market_id[:10]}'s grid "
                f"of {market.tick_size} between one tick and 1 - tick"
            )
        maker_amount, taker_amount = limit_amounts(side, price, order.quantity, market.tick_size)
        token = int(market.tokens[index].token_id)
        exchange = exchange_address(self.chain_id, version, market.neg_risk)
        salt = self.salt(order.client_order_id)
        expiration = 0
        if order.time_in_force is TimeInForce.GTD and order.order_type is not OrderType.MARKET:
            if order.expire_ns is None:
                raise VenueError(f"order {order.client_order_id}: a GTD order needs an expiry")
            expiration = order.expire_ns // 1_000_000_000 + _GTD_SAFETY_S
        struct: OrderV1 | OrderV2
        if version == 2:
            signer = self.maker if self.signature_type == SignatureType.POLY_1271 else self.signer
            struct = OrderV2(
                salt=salt,
                maker=self.maker,
                signer=signer,
                token_id=token,
                maker_amount=maker_amount,
                taker_amount=taker_amount,
                side=side,
                signature_type=self.signature_type,
                timestamp_ms=order.ts_init // 1_000_000,
                expiration=expiration,
            )
        else:
            struct = OrderV1(
                salt=salt,
                maker=self.maker,
                signer=self.signer,
                taker=ZERO_ADDRESS,
                token_id=token,
                maker_amount=maker_amount,
                taker_amount=taker_amount,
                expiration=expiration,
                nonce=0,
                fee_rate_bps=fee_rate_bps,
                side=side,
                signature_type=self.signature_type,
            )
        signature = sign_order(struct, self._key, self.chain_id, exchange)
        kind = order_type_of(order)
        body = {
            "order": struct.to_json(signature),
            "owner": self.owner,
            "orderType": kind,
            "deferExec": False,
            "postOnly": bool(order.post_only and kind in ("GTC", "GTD")),
        }
        return SignedOrder(order_hash(struct, self.chain_id, exchange), body, version, struct)

    def expected_id(self, order: Order, market: BinaryMarket, index: int, *, version: int) -> str:
        """The venue id the order has (or would have) under `version`: found without sending anything."""
        return self.build(order, market, index, version=version).order_id

    @staticmethod
    def _price(order: Order, market: BinaryMarket) -> Decimal:
        if order.order_type is OrderType.MARKET:
            return Decimal(1) - market.tick_size if order.side is OrderSide.BUY else market.tick_size
        if order.price is None:
            raise VenueError(f"order {order.client_order_id} has no price")
        return order.price
