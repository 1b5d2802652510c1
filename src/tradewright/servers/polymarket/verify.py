"""What the local Polymarket checks on every private request, as the venue does: L1 wallet signatures
(API-key endpoints), L2 HMAC headers (trading endpoints), and each posted order's EIP-712 signature,
version, owner and amounts.

A request fails with the venue's documented texts: ``Unauthorized/Invalid api key``, ``Invalid L1
Request headers``, ``order_version_mismatch``; the rest are written here in the same plain style.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradewright.core.errors import VenueError
from tradewright.servers.polymarket.clob import ClobError, Wallet
from tradewright.venues.polymarket.auth import hmac_signature, recover_clob_auth
from tradewright.venues.polymarket.signing import OrderV1, OrderV2, SignatureType, recover_order_signer

__all__ = ["PostedOrder", "check_l1", "check_l2", "read_order"]

_SKEW_S = 300
_MICRO = Decimal(1_000_000)


def check_l2(
    headers: Mapping[str, str], method: str, path: str, body: str, wallets: Mapping[str, Wallet], now_s: int
) -> Wallet:
    """The wallet of a correctly signed L2 request; ClobError 401 otherwise."""
    key = headers.get("POLY_API_KEY", "")
    wallet = wallets.get(key)
    if wallet is None or not hmac.compare_digest(headers.get("POLY_PASSPHRASE", ""), wallet.passphrase):
        raise ClobError("Unauthorized/Invalid api key", 401)
    if headers.get("POLY_ADDRESS", "").lower() != wallet.address.lower():
        raise ClobError("Unauthorized/Invalid api key", 401)
    ts = headers.get("POLY_TIMESTAMP", "")
    if not ts.isdigit() or abs(int(ts) - now_s) > _SKEW_S:
        raise ClobError("Unauthorized/Invalid api key: timestamp outside the accepted window", 401)
    expected = hmac_signature(wallet.secret, ts, method, path, body)
    if not hmac.compare_digest(expected, headers.get("POLY_SIGNATURE", "")):
        raise ClobError("Unauthorized/Invalid api key", 401)
    return wallet


def check_l1(headers: Mapping[str, str], chain_id: int, now_s: int) -> str:
    """The wallet address proven by L1 headers (EIP-712 ClobAuth); ClobError 401 otherwise."""
    address = headers.get("POLY_ADDRESS", "")
    ts, nonce = headers.get("POLY_TIMESTAMP", ""), headers.get("POLY_NONCE", "0")
    if not (address and ts.isdigit() and nonce.isdigit()) or abs(int(ts) - now_s) > _SKEW_S:
        raise ClobError("Invalid L1 Request headers", 401)
    try:
        signer = recover_clob_auth(address, headers.get("POLY_SIGNATURE", ""), chain_id, int(ts), int(nonce))
    except (VenueError, ValueError):
        raise ClobError("Invalid L1 Request headers", 401) from None
    if signer.lower() != address.lower():
        raise ClobError("Invalid L1 Request headers", 401)
    return signer


@dataclass(frozen=True, slots=True)
class PostedOrder:
    """A posted order, verified: what the matching engine needs."""

    struct: OrderV1 | OrderV2
    token_id: str
    side: str
    price: Decimal
    size: Decimal
    order_type: str
    post_only: bool
    expiration: int


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ClobError(f"Invalid order payload: {name} is not an integer") from None


def read_order(
    payload: Any,
    wallet: Wallet,
    *,
    version: int,
    chain_id: int,
    exchange_for: Any,
    deposit_owners: Mapping[str, str],
) -> PostedOrder:
    """Decode and verify one `{order, owner, orderType, postOnly}` object posted by `wallet`.

    `exchange_for(token_id, version)` names the exchange contract the order must be signed against.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("order"), dict):
        raise ClobError("Invalid order payload")
    o = payload["order"]
    if payload.get("owner") != wallet.api_key:
        raise ClobError("the order owner has to be the owner of the API KEY")
    is_v2 = "timestamp" in o or "metadata" in o
    if (2 if is_v2 else 1) != version:
        raise ClobError("order_version_mismatch")
    side_text = str(o.get("side", "")).upper()
    if side_text not in ("BUY", "SELL"):
        raise ClobError("Invalid order payload: side must be BUY or SELL")
    side = 0 if side_text == "BUY" else 1
    token = str(o.get("tokenId", ""))
    salt, maker, signer = _int(o.get("salt"), "salt"), str(o.get("maker", "")), str(o.get("signer", ""))
    token_id = _int(token, "tokenId")
    maker_amt, taker_amt = (
        _int(o.get("makerAmount"), "makerAmount"),
        _int(o.get("takerAmount"), "takerAmount"),
    )
    sig_type = _int(o.get("signatureType"), "signatureType")
    expiration = _int(o.get("expiration", "0"), "expiration")
    struct: OrderV1 | OrderV2
    if is_v2:
        struct = OrderV2(
            salt=salt, maker=maker, signer=signer, token_id=token_id, maker_amount=maker_amt, taker_amount=taker_amt,
            side=side, signature_type=sig_type, timestamp_ms=_int(o.get("timestamp"), "timestamp"),
            metadata=str(o.get("metadata") or "0x" + "00" * 32), builder=str(o.get("builder") or "0x" + "00" * 32),
            expiration=expiration,
        )  # fmt: skip
    else:
        struct = OrderV1(
            salt=salt, maker=maker, signer=signer, taker=str(o.get("taker", "0x" + "00" * 20)), token_id=token_id,
            maker_amount=maker_amt, taker_amount=taker_amt, expiration=expiration,
            nonce=_int(o.get("nonce", "0"), "nonce"), fee_rate_bps=_int(o.get("feeRateBps", "0"), "feeRateBps"),
            side=side, signature_type=sig_type,
        )  # fmt: skip
    exchange = exchange_for(token, version)
    try:
        recovered = recover_order_signer(struct, str(o.get("signature", "")), chain_id, exchange)
    except (VenueError, ValueError) as exc:
        raise ClobError(f"invalid signature: {exc}") from None
    if struct.signature_type == SignatureType.POLY_1271:
        owner = deposit_owners.get(struct.maker.lower(), "")
        if struct.signer.lower() != struct.maker.lower() or recovered.lower() != owner.lower():
            raise ClobError("invalid signature: not signed by the deposit wallet's owner")
    elif recovered.lower() != struct.signer.lower():
        raise ClobError("invalid signature")
    if recovered.lower() != wallet.address.lower() and struct.signature_type != SignatureType.POLY_1271:
        raise ClobError("invalid signature: the order signer is not the API key's address")
    maker_amount, taker_amount = Decimal(struct.maker_amount), Decimal(struct.taker_amount)
    if maker_amount <= 0 or taker_amount <= 0:
        raise ClobError("invalid amounts: maker and taker amounts must be positive")
    shares, collateral = (taker_amount, maker_amount) if side == 0 else (maker_amount, taker_amount)
    price = collateral / shares
    order_type = str(payload.get("orderType", "GTC")).upper()
    if order_type not in ("GTC", "GTD", "FOK", "FAK"):
        raise ClobError(f"Invalid order payload: orderType {order_type}")
    return PostedOrder(
        struct, token, side_text, price, shares / _MICRO, order_type, bool(payload.get("postOnly", False)),
        struct.expiration,
    )  # fmt: skip
