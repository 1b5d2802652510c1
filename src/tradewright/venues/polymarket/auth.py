"""Polymarket request authentication, offline: L1 proves control of the wallet (EIP-712 `ClobAuth`,
to create or derive API keys); L2 signs every trading request (HMAC-SHA256 over timestamp, method,
path and the exact body sent). Reproduces the official clients' test vectors (see the tests)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from tradewright.core.errors import ConfigError
from tradewright.venues.polymarket.signing import DOMAIN_TYPES, address_of, recover_hash

__all__ = ["clob_auth_signature", "hmac_signature", "l1_headers", "l2_headers", "recover_clob_auth"]

CLOB_AUTH_DOMAIN = "ClobAuthDomain"
CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"


def _key(private_key: str) -> str:
    return private_key if private_key.startswith("0x") else "0x" + private_key


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


# --- L1: prove control of the wallet (create or derive API keys) -------------------------------
def _clob_auth(address: str, chain_id: int, timestamp: int, nonce: int) -> dict[str, Any]:
    return {
        "primaryType": "ClobAuth",
        "types": {
            "EIP712Domain": DOMAIN_TYPES[:3],
            "ClobAuth": [
                {"name": "address", "type": "address"},
                {"name": "timestamp", "type": "string"},
                {"name": "nonce", "type": "uint256"},
                {"name": "message", "type": "string"},
            ],
        },
        "domain": {"name": CLOB_AUTH_DOMAIN, "version": "1", "chainId": chain_id},
        "message": {
            "address": address,
            "timestamp": str(timestamp),
            "nonce": nonce,
            "message": CLOB_AUTH_MESSAGE,
        },
    }


def clob_auth_signature(private_key: str, chain_id: int, timestamp: int, nonce: int = 0) -> str:
    """The L1 signature: EIP-712 ClobAuth over (address, timestamp in seconds, nonce)."""
    address = address_of(private_key)
    signable = encode_typed_data(full_message=_clob_auth(address, chain_id, timestamp, nonce))
    return _hex(bytes(Account.sign_message(signable, private_key=_key(private_key)).signature))


def recover_clob_auth(address: str, signature: str, chain_id: int, timestamp: int, nonce: int) -> str:
    """Who signed an L1 header set (a venue compares it with POLY_ADDRESS)."""
    signable = encode_typed_data(
        full_message=_clob_auth(to_checksum_address(address), chain_id, timestamp, nonce)
    )
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    return recover_hash(digest, bytes.fromhex(signature.removeprefix("0x")))


def l1_headers(private_key: str, chain_id: int, timestamp: int, nonce: int = 0) -> dict[str, str]:
    return {
        "POLY_ADDRESS": address_of(private_key),
        "POLY_SIGNATURE": clob_auth_signature(private_key, chain_id, timestamp, nonce),
        "POLY_TIMESTAMP": str(timestamp),
        "POLY_NONCE": str(nonce),
    }


# --- L2: HMAC over every trading request ---------------------------------------------------------
def hmac_signature(secret: str, timestamp: int | str, method: str, path: str, body: str = "") -> str:
    """urlsafe-b64(HMAC-SHA256(b64decode(secret), timestamp + METHOD + path + body)).

    `body` must be the exact text sent; the official client also swaps ' for " in it, kept here so
    signatures agree byte for byte.
    """
    try:
        key = base64.urlsafe_b64decode(secret)
    except (ValueError, TypeError):
        raise ConfigError("the Polymarket API secret is not base64") from None
    message = f"{timestamp}{method}{path}" + (body.replace("'", '"') if body else "")
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def l2_headers(
    address: str,
    api_key: str,
    secret: str,
    passphrase: str,
    timestamp: int,
    method: str,
    path: str,
    body: str = "",
) -> dict[str, str]:
    return {
        "POLY_ADDRESS": address,
        "POLY_SIGNATURE": hmac_signature(secret, timestamp, method, path, body),
        "POLY_TIMESTAMP": str(timestamp),
        "POLY_API_KEY": api_key,
        "POLY_PASSPHRASE": passphrase,
    }
