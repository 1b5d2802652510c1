"""Turbine signing equals the official client (ojo-network/turbine-py-client) where it exists, and
follows the EIP-712 / EIP-2612 standards where the official PyPI release has no method yet.

There are no published fixed test vectors for Turbine: the official client's own tests only check
shapes. So orders and bearer tokens are compared with the official client on the same inputs, every
signature is recovered to its signer, the EIP-2612 digest is rebuilt by hand from the standard's type
hash, and our outputs for fixed inputs are frozen below as regression vectors.
"""

from __future__ import annotations

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewright.core.errors import VenueError
from tradewright.venues.turbine.signing import (
    MAX_UINT256,
    TurbineOrder,
    api_public_key,
    bearer_token,
    chain,
    order_digest,
    order_hash,
    read_bearer_token,
    recover,
    recover_registration,
    redeem_typed_data,
    registration_signature,
    sign_order,
    sign_permit,
    sign_redeem,
    typed_digest,
    wallet_address,
)

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Hardhat #0 (public)
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
POLYGON = chain(137)
API_KEY = "11" * 32  # an Ed25519 seed for tests
MARKET = "0x" + "ab" * 32


def _order(**kw: int) -> TurbineOrder:
    fields = {
        "side": 0,
        "outcome": 0,
        "price": 500_000,
        "size": 1_000_000,
        "nonce": 99_999,
        "expiration": 1_735_689_600,
    }
    fields.update(kw)
    return TurbineOrder(market_id=MARKET, trader=ADDRESS, **fields)  # type: ignore[arg-type]


def test_order_and_permit_signatures_are_frozen_for_fixed_inputs() -> None:
    # Regression vectors (equal to the official client's output for the order; see the next test).
    order = _order()
    assert sign_order(order, KEY, 137, POLYGON.settlement) == (
        "0x021dc27e8f9a39b82a955464e383800fad281432e8ce30cc118fb7bce1300b62"
        "2f22197d9ca7f8329b3e8f6d5cb283069055df63a5bc6bf7ec0ac1d5be976cc51b"
    )
    assert order_hash(order, 137, POLYGON.settlement) == (
        "0xc3f4542663b5b0e74b8050c6df4c6a790c01f68c9eab882c707f67802787b8f2"
    )
    permit = sign_permit(KEY, POLYGON, POLYGON.settlement, 1_000_000, nonce=3, deadline=1_800_000_000)
    assert permit.signature == (
        "0xd0eaa9f855ff9742cea0c3a92eef34d5add72ca0317f98b182965691ef068688"
        "3faba23c288f9b6f0af182e13b2fbc28d5294f31356e612780d4c8c92f8202921b"
    )


@settings(max_examples=30, deadline=None)
@given(
    side=st.sampled_from([0, 1]),
    outcome=st.sampled_from([0, 1]),
    price=st.integers(1, 999_999),
    size=st.integers(1, 10**12),
    nonce=st.integers(1, 2**64 - 1),
    chain_id=st.sampled_from([137, 43114]),
)
def test_orders_sign_exactly_as_the_official_client_does(
    side: int, outcome: int, price: int, size: int, nonce: int, chain_id: int
) -> None:
    pytest.importorskip("turbine_client", reason="the official client is the oracle here")
    from turbine_client.signer import Signer
    from turbine_client.types import OrderArgs, Outcome, Side

    settlement = chain(chain_id).settlement
    theirs = Signer(KEY, chain_id).sign_order(
        OrderArgs(
            market_id=MARKET,
            side=Side(side),
            outcome=Outcome(outcome),
            price=price,
            size=size,
            expiration=1_735_689_600,
            nonce=nonce,
        ),
        settlement_address=settlement,
    )
    ours = _order(side=side, outcome=outcome, price=price, size=size, nonce=nonce)
    signature = sign_order(ours, KEY, chain_id, settlement)
    assert signature.removeprefix("0x") == theirs.signature.removeprefix("0x")  # theirs may lack the 0x
    assert order_hash(ours, chain_id, settlement) == theirs.order_hash
    assert recover(order_digest(ours, chain_id, settlement), signature) == ADDRESS


def test_a_changed_order_does_not_recover_the_trader() -> None:
    order = _order()
    sig = sign_order(order, KEY, 137, POLYGON.settlement)
    assert recover(order_digest(_order(price=500_001), 137, POLYGON.settlement), sig) != ADDRESS


def test_permit_digest_follows_eip_2612_and_recovers_the_owner() -> None:
    permit = sign_permit(KEY, POLYGON, POLYGON.settlement, 1_000_000, nonce=3, deadline=1_800_000_000)
    permit_typehash = keccak(
        text="Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    )
    assert permit_typehash.hex() == "6e71edae12b1b97f4d1f60370fef10105fa2faae0126114a169c64845d6126c9"
    domain = keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak(
                    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak(text="USD Coin"),
                keccak(text="2"),
                137,
                POLYGON.usdc,
            ],
        )
    )
    struct = keccak(
        abi_encode(
            ["bytes32", "address", "address", "uint256", "uint256", "uint256"],
            [permit_typehash, ADDRESS, POLYGON.settlement, 1_000_000, 3, 1_800_000_000],
        )
    )
    digest = keccak(b"\x19\x01" + domain + struct)
    assert recover(digest, permit.signature) == ADDRESS
    assert (permit.owner, permit.value, permit.nonce, permit.v in (27, 28)) == (ADDRESS, 1_000_000, 3, True)
    assert len(permit.r) == len(permit.s) == 66


def test_a_max_permit_for_the_relayer_uses_max_value_and_deadline() -> None:
    permit = sign_permit(KEY, POLYGON, POLYGON.settlement, MAX_UINT256, nonce=0, deadline=MAX_UINT256)
    assert permit.to_json()["value"] == MAX_UINT256
    with pytest.raises(VenueError):
        sign_permit(KEY, POLYGON, POLYGON.settlement, MAX_UINT256 + 1, nonce=0, deadline=0)


def test_redemption_permit_recovers_the_owner_and_names_the_winning_index_set() -> None:
    typed = redeem_typed_data(
        POLYGON, ADDRESS, POLYGON.usdc, "0x" + "cd" * 32, [1], nonce=7, deadline=1_800_000_000
    )
    v, r, s = sign_redeem(KEY, typed)
    assert recover(typed_digest(typed), r + s.removeprefix("0x") + f"{v:02x}") == ADDRESS
    assert typed["message"]["indexSets"] == [1]


def test_api_key_registration_signature_has_one_0x_and_recovers_the_wallet() -> None:
    sig = registration_signature(KEY)
    assert sig.startswith("0x") and not sig.startswith("0x0x") and len(sig) == 132
    assert recover_registration(ADDRESS, sig) == ADDRESS


def test_bearer_tokens_verify_and_equal_the_official_clients_for_the_same_payload() -> None:
    token = bearer_token("kid-1", API_KEY, 1_700_000_000, nonce="00" * 16)
    payload = read_bearer_token(token, api_public_key(API_KEY))
    assert payload == {"kid": "kid-1", "n": "00" * 16, "ts": 1_700_000_000}
    pytest.importorskip("turbine_client", reason="the official client is the oracle here")
    from turbine_client.auth import create_bearer_auth

    theirs = create_bearer_auth("kid-1", API_KEY).generate_token()
    seen = read_bearer_token(theirs, api_public_key(API_KEY))  # the official token verifies with our reader
    assert bearer_token("kid-1", API_KEY, seen["ts"], nonce=seen["n"]) == theirs  # and ours is byte-identical


def test_a_forged_bearer_token_is_refused() -> None:
    token = bearer_token("kid-1", API_KEY, 1_700_000_000)
    other = bearer_token("kid-1", "22" * 32, 1_700_000_000)
    forged = token.split(".")[0] + "." + other.split(".")[1]
    with pytest.raises(VenueError, match="bearer"):
        read_bearer_token(forged, api_public_key(API_KEY))


def test_a_64_byte_api_key_signs_with_its_seed() -> None:
    assert bearer_token("k", API_KEY + api_public_key(API_KEY), 1, nonce="n") == bearer_token(
        "k", API_KEY, 1, nonce="n"
    )


def test_wallet_address_of_the_public_test_key() -> None:
    assert wallet_address(KEY) == ADDRESS
