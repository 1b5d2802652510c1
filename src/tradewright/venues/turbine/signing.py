"""Turbine signing, offline: EIP-712 orders for the settlement contract, EIP-2612 USDC permits (per
order, or one max permit for the relayer), CTF redemption permits (claiming winnings), the wallet
signature that registers an API key, and Ed25519 bearer tokens.

Written on eth-account and PyNaCl, following ojo-network/turbine-py-client (whose PyPI release lacks
the permit, claim and key-registration methods). The tests compare orders and bearer tokens with the
official client and recover every signature's signer.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_keys.datatypes import Signature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from tradewright.core.errors import ConfigError, VenueError

__all__ = [
    "CHAINS",
    "MAX_UINT256",
    "ZERO_ADDRESS",
    "ChainConfig",
    "PermitSignature",
    "TurbineOrder",
    "api_public_key",
    "bearer_token",
    "chain",
    "order_digest",
    "order_hash",
    "permit_typed",
    "read_bearer_token",
    "recover",
    "recover_registration",
    "redeem_typed_data",
    "registration_message",
    "registration_signature",
    "sign_order",
    "sign_permit",
    "sign_redeem",
    "typed_digest",
    "wallet_address",
]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_BYTES32 = "0x" + "00" * 32
MAX_UINT256 = 2**256 - 1


@dataclass(frozen=True, slots=True)
class ChainConfig:
    chain_id: int
    name: str
    settlement: str
    ctf: str
    usdc: str
    usdc_name: str = "USD Coin"
    usdc_version: str = "2"


# The chains Turbine operates on (Base Sepolia has no deployed contracts: it is left out on purpose).
CHAINS: dict[int, ChainConfig] = {
    137: ChainConfig(
        137,
        "Polygon",
        settlement="0xdB96C91d9e5930fE3Ed1604603CfA4ece454725c",
        ctf="0xA86e521D596D626E2347875F1a4a23719dDaC0B6",
        usdc="0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359",
    ),
    43114: ChainConfig(
        43114,
        "Avalanche",
        settlement="0x893ca652525B1F9DC25189ED9c3AD0543ACfb989",
        ctf="0xA86e521D596D626E2347875F1a4a23719dDaC0B6",
        usdc="0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E",
    ),
}


def chain(chain_id: int) -> ChainConfig:
    found = CHAINS.get(chain_id)
    if found is None:
        raise ConfigError(
            f"Turbine is not operational on chain {chain_id}; use one of {', '.join(map(str, CHAINS))}"
        )
    return found


def _key(private_key: str) -> str:
    return private_key if private_key.startswith("0x") else "0x" + private_key


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


def wallet_address(private_key: str) -> str:
    return str(Account.from_key(_key(private_key)).address)


_DOMAIN_TYPES = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


@dataclass(frozen=True, slots=True)
class TurbineOrder:
    """An order as signed: prices in micro-dollars (1..999999), sizes in micro-shares, side 0 BUY /
    1 SELL, outcome 0 YES / 1 NO, `expiration` in unix seconds."""

    market_id: str
    trader: str
    side: int
    outcome: int
    price: int
    size: int
    nonce: int
    expiration: int
    maker_fee_recipient: str = ZERO_ADDRESS

    def message(self) -> dict[str, Any]:
        return {
            "marketId": bytes.fromhex(self.market_id.removeprefix("0x").zfill(64)),
            "trader": to_checksum_address(self.trader),
            "side": self.side,
            "outcome": self.outcome,
            "price": self.price,
            "size": self.size,
            "nonce": self.nonce,
            "expiration": self.expiration,
            "makerFeeRecipient": to_checksum_address(self.maker_fee_recipient),
        }

    def to_json(self) -> dict[str, Any]:
        """The `order` object of POST /api/v1/orders (integers as JSON numbers)."""
        return {
            "marketId": self.market_id,
            "trader": self.trader,
            "side": self.side,
            "outcome": self.outcome,
            "price": self.price,
            "size": self.size,
            "nonce": self.nonce,
            "expiration": self.expiration,
            "makerFeeRecipient": self.maker_fee_recipient,
        }


def _order_typed(order: TurbineOrder, chain_id: int, settlement: str) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": _DOMAIN_TYPES,
            "Order": [
                {"name": "marketId", "type": "bytes32"},
                {"name": "trader", "type": "address"},
                {"name": "side", "type": "uint8"},
                {"name": "outcome", "type": "uint8"},
                {"name": "price", "type": "uint256"},
                {"name": "size", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "expiration", "type": "uint256"},
                {"name": "makerFeeRecipient", "type": "address"},
            ],
        },
        "primaryType": "Order",
        "domain": {
            "name": "Turbine",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(settlement),
        },
        "message": order.message(),
    }


def _digest(typed: dict[str, Any]) -> bytes:
    signable = encode_typed_data(full_message=typed)
    return bytes(keccak(b"\x19" + signable.version + signable.header + signable.body))


def sign_order(order: TurbineOrder, private_key: str, chain_id: int, settlement: str) -> str:
    """The EIP-712 signature of an order against the market's settlement contract."""
    signable = encode_typed_data(full_message=_order_typed(order, chain_id, settlement))
    return _hex(bytes(Account.sign_message(signable, private_key=_key(private_key)).signature))


def order_hash(order: TurbineOrder, chain_id: int, settlement: str) -> str:
    """What the official client calls the order hash: keccak of the order's struct hash (not the
    EIP-712 digest). The venue's `orderHash` in the POST answer is the id to use."""
    signable = encode_typed_data(full_message=_order_typed(order, chain_id, settlement))
    return _hex(bytes(keccak(signable.body)))


def order_digest(order: TurbineOrder, chain_id: int, settlement: str) -> bytes:
    return _digest(_order_typed(order, chain_id, settlement))


def recover(digest: bytes, signature: str) -> str:
    """The address that produced a 65-byte ECDSA `signature` over `digest`."""
    raw = bytes.fromhex(signature.removeprefix("0x"))
    if len(raw) != 65:
        raise VenueError(f"an ECDSA signature has 65 bytes, got {len(raw)}")
    v = raw[64] - 27 if raw[64] >= 27 else raw[64]
    if v not in (0, 1):
        raise VenueError(f"bad signature recovery id {raw[64]}")
    sig = Signature(vrs=(v, int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")))
    return str(sig.recover_public_key_from_msg_hash(digest).to_checksum_address())


# --- USDC permit (EIP-2612) -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PermitSignature:
    """A signed EIP-2612 permit, as attached to an order (`permitSignature`) or sent to the relayer."""

    owner: str
    spender: str
    value: int
    nonce: int
    deadline: int
    v: int
    r: str
    s: str

    def to_json(self) -> dict[str, Any]:
        return {
            "nonce": self.nonce,
            "value": self.value,
            "deadline": self.deadline,
            "v": self.v,
            "r": self.r,
            "s": self.s,
        }

    @property
    def signature(self) -> str:
        return self.r + self.s.removeprefix("0x") + f"{self.v:02x}"


def permit_typed(
    cfg: ChainConfig, owner: str, spender: str, value: int, nonce: int, deadline: int
) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": _DOMAIN_TYPES,
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": cfg.usdc_name,
            "version": cfg.usdc_version,
            "chainId": cfg.chain_id,
            "verifyingContract": to_checksum_address(cfg.usdc),
        },
        "message": {
            "owner": to_checksum_address(owner),
            "spender": to_checksum_address(spender),
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def _vrs(typed: dict[str, Any], private_key: str) -> tuple[int, str, str]:
    signed = Account.sign_message(encode_typed_data(full_message=typed), private_key=_key(private_key))
    return int(signed.v), "0x" + f"{int(signed.r):064x}", "0x" + f"{int(signed.s):064x}"


def sign_permit(
    private_key: str, cfg: ChainConfig, spender: str, value: int, nonce: int, deadline: int
) -> PermitSignature:
    """Sign a USDC permit letting `spender` (the settlement contract) take `value` micro-USDC."""
    if not 0 <= value <= MAX_UINT256 or not 0 <= deadline <= MAX_UINT256 or nonce < 0:
        raise VenueError(
            f"permit value, nonce and deadline must be uint256, got {value}, {nonce}, {deadline}"
        )
    owner = wallet_address(private_key)
    v, r, s = _vrs(permit_typed(cfg, owner, spender, value, nonce, deadline), private_key)
    return PermitSignature(
        to_checksum_address(owner), to_checksum_address(spender), value, nonce, deadline, v, r, s
    )


# --- CTF redemption (claim of winnings) ---------------------------------------------------------------
def redeem_typed_data(
    cfg: ChainConfig,
    owner: str,
    collateral: str,
    condition_id: str,
    index_sets: list[int],
    nonce: int,
    deadline: int,
    ctf: str | None = None,
) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": _DOMAIN_TYPES,
            "RedeemPositions": [
                {"name": "owner", "type": "address"},
                {"name": "collateralToken", "type": "address"},
                {"name": "parentCollectionId", "type": "bytes32"},
                {"name": "conditionId", "type": "bytes32"},
                {"name": "indexSets", "type": "uint256[]"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "RedeemPositions",
        "domain": {
            "name": "ConditionalTokensWithPermit",
            "version": "1",
            "chainId": cfg.chain_id,
            "verifyingContract": to_checksum_address(ctf or cfg.ctf),
        },
        "message": {
            "owner": to_checksum_address(owner),
            "collateralToken": to_checksum_address(collateral),
            "parentCollectionId": bytes(32),
            "conditionId": bytes.fromhex(condition_id.removeprefix("0x").zfill(64)),
            "indexSets": index_sets,
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def sign_redeem(private_key: str, typed: dict[str, Any]) -> tuple[int, str, str]:
    """(v, r, s) of a RedeemPositions permit."""
    return _vrs(typed, private_key)


def typed_digest(typed: dict[str, Any]) -> bytes:
    return _digest(typed)


# --- API key registration (EIP-191) -------------------------------------------------------------------
def registration_message(address: str) -> str:
    return f"Register API key for Turbine: {to_checksum_address(address)}"


def registration_signature(private_key: str) -> str:
    """personal_sign of the registration text, always with exactly one 0x (the official client can
    emit 0x0x with old hexbytes)."""
    text = registration_message(wallet_address(private_key))
    signed = Account.sign_message(encode_defunct(text=text), private_key=_key(private_key))
    return _hex(bytes(signed.signature))


def recover_registration(address: str, signature: str) -> str:
    return str(
        Account.recover_message(encode_defunct(text=registration_message(address)), signature=signature)
    )


# --- Ed25519 bearer tokens --------------------------------------------------------------------------
def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signing_key(private_key_hex: str) -> SigningKey:
    try:
        raw = bytes.fromhex(private_key_hex.removeprefix("0x"))
    except ValueError:
        raise ConfigError("the Turbine API private key is not hex") from None
    if len(raw) == 64:
        raw = raw[:32]  # seed followed by the public key: the seed is what signs
    if len(raw) != 32:
        raise ConfigError(f"the Turbine API private key must be 32 or 64 bytes of hex, got {len(raw)}")
    return SigningKey(raw)


def api_public_key(private_key_hex: str) -> str:
    return bytes(_signing_key(private_key_hex).verify_key).hex()


def bearer_token(key_id: str, private_key_hex: str, ts_s: int, nonce: str | None = None) -> str:
    """``b64url(payload).b64url(ed25519(payload))`` with payload compact JSON, sorted keys
    ``{"kid","n","ts"}`` — a fresh one per request (the venue accepts ±300 s)."""
    payload = json.dumps(
        {"kid": key_id, "n": nonce if nonce is not None else secrets.token_hex(16), "ts": ts_s},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    signature = _signing_key(private_key_hex).sign(payload).signature
    return f"{_b64(payload)}.{_b64(signature)}"


def read_bearer_token(token: str, public_key_hex: str) -> dict[str, Any]:
    """Verify a token's signature against a public key and return its payload; VenueError if forged."""
    try:
        payload_b64, sig_b64 = token.split(".", 1)
        payload, signature = _unb64(payload_b64), _unb64(sig_b64)
        VerifyKey(bytes.fromhex(public_key_hex)).verify(payload, signature)
        value = json.loads(payload)
    except (ValueError, BadSignatureError) as exc:
        raise VenueError(f"bad Turbine bearer token: {type(exc).__name__}") from None
    if not isinstance(value, dict) or not {"kid", "n", "ts"} <= value.keys():
        raise VenueError("bad Turbine bearer token: payload lacks kid, n or ts")
    return value
