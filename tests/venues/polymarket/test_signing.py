"""Polymarket signing reproduces the official test vectors, offline.

Vectors: py-clob-client-v2 (tests/order_utils/test_exchange_order_builder_v1.py and _v2.py,
tests/signing/test_eip712.py, tests/signing/test_hmac.py; the key is Hardhat's public account #0) and
ccxt's static request test for Polymarket (../shared/data/signing/ccxt_static_request_polymarket.json;
the key is ccxt's offline test-harness key, set in ccxt's ts/src/test/tests.ts `initOfflineExchange`).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import shared_data
from tradewright.core.errors import VenueError
from tradewright.venues.polymarket.auth import clob_auth_signature, hmac_signature, recover_clob_auth
from tradewright.venues.polymarket.signing import (
    ZERO_ADDRESS,
    OrderV1,
    OrderV2,
    SignatureType,
    address_of,
    exchange_address,
    order_hash,
    recover_order_signer,
    sign_order,
)

HARDHAT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
HARDHAT_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
CCXT_KEY = "0xff3bdd43534543d421f05aec535965b5050ad6ac15345435345435453495e771"
AMOY = 80002


def _v1_order() -> OrderV1:
    return OrderV1(
        salt=479249096354,
        maker=HARDHAT_ADDRESS,
        signer=HARDHAT_ADDRESS,
        taker=ZERO_ADDRESS,
        token_id=1234,
        maker_amount=100_000_000,
        taker_amount=50_000_000,
        expiration=0,
        nonce=0,
        fee_rate_bps=100,
        side=0,
        signature_type=SignatureType.EOA,
    )


def test_v1_order_signature_and_hash_match_the_official_ctf_exchange_vector() -> None:
    exchange = exchange_address(AMOY, 1, neg_risk=False)
    assert sign_order(_v1_order(), HARDHAT_KEY, AMOY, exchange) == (
        "0x302cd9abd0b5fcaa202a344437ec0b6660da984e24ae9ad915a592a90facf5a5"
        "1bb8a873cd8d270f070217fea1986531d5eec66f1162a81f66e026db653bf7ce1c"
    )
    assert order_hash(_v1_order(), AMOY, exchange) == (
        "0x02ca1d1aa31103804173ad1acd70066cb6c1258a4be6dada055111f9a7ea4e55"
    )


def test_v1_order_signature_and_hash_match_the_official_neg_risk_exchange_vector() -> None:
    exchange = exchange_address(AMOY, 1, neg_risk=True)
    assert sign_order(_v1_order(), HARDHAT_KEY, AMOY, exchange) == (
        "0x1b3646ef347e5bd144c65bd3357ba19c12c12abaeedae733cf8579bc51a2752c"
        "0454c3bc6b236957e393637982c769b8dc0706c0f5c399983d933850afd1cbcd1c"
    )
    assert order_hash(_v1_order(), AMOY, exchange) == (
        "0xf15790d3edc4b5aed427b0b543a9206fcf4b1a13dfed016d33bfb313076263b8"
    )


def test_v2_deposit_wallet_signature_matches_the_official_poly_1271_vector() -> None:
    wallet = "0x1111111111111111111111111111111111111111"
    order = OrderV2(
        salt=479249096354,
        maker=wallet,
        signer=wallet,
        token_id=1234,
        maker_amount=100_000_000,
        taker_amount=50_000_000,
        side=0,
        signature_type=SignatureType.POLY_1271,
        timestamp_ms=1710000000000,
    )
    signature = sign_order(order, HARDHAT_KEY, AMOY, exchange_address(AMOY, 2, neg_risk=False))
    assert signature == (
        "0xa3a093c83b6c20c83355c16ce94c92e6e9fcbdeb840618cc74f6c57a42ad145b"
        "2b98db73d2c73cbf1f2b6af288566ae81960ddbc3a13921027358a8bff3be6ff1c"
        "a440cbd865bc0c6243d7a8df9a8bf48a8827b0a4abbb61c30e96d305423af148"
        "d23d42d3ad94e65d78258cecaf8dcbaddac0f73dc085040f2c12bb595dd83804"
        "4f726465722875696e743235362073616c742c61646472657373206d616b65722c"
        "61646472657373207369676e65722c75696e7432353620746f6b656e49642c75"
        "696e74323536206d616b6572416d6f756e742c75696e743235362074616b6572"
        "416d6f756e742c75696e743820736964652c75696e7438207369676e61747572"
        "65547970652c75696e743235362074696d657374616d702c6279746573333220"
        "6d657461646174612c62797465733332206275696c6465722900ba"
    )


def test_v2_signed_order_body_matches_ccxt_static_request_byte_for_byte() -> None:
    fixture = json.loads(shared_data("signing/ccxt_static_request_polymarket.json").read_text())
    case = fixture["methods"]["createOrder"][0]
    params = case["input"][5]
    expected = json.loads(case["output"])["order"]
    order = OrderV2(
        salt=int(params["salt"]),
        maker=params["funder"],
        signer=params["funder"],
        token_id=int(expected["tokenId"]),
        maker_amount=2_500_000,  # buy 5 at 0.5
        taker_amount=5_000_000,
        side=0,
        signature_type=params["signatureType"],
        timestamp_ms=int(params["timestamp"]),
    )
    signature = sign_order(order, CCXT_KEY, 137, exchange_address(137, 2, neg_risk=False))
    ours = order.to_json(signature)
    for key in (
        "salt",
        "maker",
        "signer",
        "tokenId",
        "makerAmount",
        "takerAmount",
        "side",
        "signatureType",
        "timestamp",
        "expiration",
        "metadata",
        "builder",
        "signature",
    ):
        assert ours[key] == expected[key], key


def test_l1_clob_auth_signature_matches_the_official_vector_and_recovers_the_wallet() -> None:
    signature = clob_auth_signature(HARDHAT_KEY, AMOY, 10_000_000, 23)
    assert signature == (
        "0xf62319a987514da40e57e2f4d7529f7bac38f0355bd88bb5adbb3768d80de6c1"
        "682518e0af677d5260366425f4361e7b70c25ae232aff0ab2331e2b164a1aedc1b"
    )
    assert recover_clob_auth(HARDHAT_ADDRESS, signature, AMOY, 10_000_000, 23) == HARDHAT_ADDRESS


def test_l2_hmac_matches_the_official_vector() -> None:
    secret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    assert hmac_signature(secret, "1000000", "test-sign", "/orders", '{"hash": "0x123"}') == (
        "ZwAdJKvoYRlEKDkNMwd5BuwNNtg93kNaR_oU2HrfVvc="
    )
    assert hmac_signature(secret, 1000000, "GET", "/orders") != hmac_signature(
        secret, 1000000, "POST", "/orders"
    )


def test_a_tampered_order_recovers_a_different_signer() -> None:
    exchange = exchange_address(137, 2, neg_risk=False)
    order = OrderV2(
        salt=7,
        maker=HARDHAT_ADDRESS,
        signer=HARDHAT_ADDRESS,
        token_id=99,
        maker_amount=5_000_000,
        taker_amount=10_000_000,
        side=0,
        signature_type=SignatureType.EOA,
        timestamp_ms=1,
    )
    signature = sign_order(order, HARDHAT_KEY, 137, exchange)
    assert recover_order_signer(order, signature, 137, exchange) == HARDHAT_ADDRESS
    worse = replace(order, maker_amount=5_000_001)
    assert recover_order_signer(worse, signature, 137, exchange) != HARDHAT_ADDRESS


def test_a_deposit_wallet_signature_for_another_exchange_is_refused() -> None:
    wallet = "0x2222222222222222222222222222222222222222"
    order = OrderV2(
        salt=1,
        maker=wallet,
        signer=wallet,
        token_id=5,
        maker_amount=1,
        taker_amount=2,
        side=1,
        signature_type=SignatureType.POLY_1271,
        timestamp_ms=3,
    )
    signature = sign_order(order, HARDHAT_KEY, 137, exchange_address(137, 2, neg_risk=False))
    with pytest.raises(VenueError, match="wrapper"):
        recover_order_signer(order, signature, 137, exchange_address(137, 2, neg_risk=True))


def test_signature_type_3_does_not_exist_for_version_1_orders() -> None:
    order = replace(_v1_order(), signature_type=SignatureType.POLY_1271)
    with pytest.raises(VenueError, match="version 2"):
        sign_order(order, HARDHAT_KEY, AMOY, exchange_address(AMOY, 1, neg_risk=False))


@settings(max_examples=25, deadline=None)
@given(
    salt=st.integers(1, 2**64),
    token=st.integers(1, 2**256 - 1),
    maker=st.integers(1, 10**12),
    taker=st.integers(1, 10**12),
    side=st.sampled_from([0, 1]),
    sig_type=st.sampled_from([0, 3]),
    neg_risk=st.booleans(),
)
def test_v2_signatures_equal_the_official_python_client_on_random_orders(
    salt: int, token: int, maker: int, taker: int, side: int, sig_type: int, neg_risk: bool
) -> None:
    pytest.importorskip("py_clob_client_v2", reason="the official client is the oracle here")
    from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
    from py_clob_client_v2.order_utils.model.order_data_v2 import OrderDataV2
    from py_clob_client_v2.order_utils.model.side import Side
    from py_clob_client_v2.order_utils.model.signature_type_v2 import SignatureTypeV2
    from py_clob_client_v2.signer import Signer

    exchange = exchange_address(137, 2, neg_risk=neg_risk)
    who = "0x3333333333333333333333333333333333333333" if sig_type == 3 else address_of(HARDHAT_KEY)
    official = ExchangeOrderBuilderV2(
        exchange, 137, Signer(HARDHAT_KEY, 137), generate_salt=lambda: str(salt)
    )
    signed = official.build_signed_order(
        OrderDataV2(
            maker=who,
            tokenId=str(token),
            makerAmount=str(maker),
            takerAmount=str(taker),
            side=Side(side),
            signer=who,
            signatureType=SignatureTypeV2(sig_type),
            timestamp="1780449126930",
        )
    )
    ours = OrderV2(
        salt=salt,
        maker=who,
        signer=who,
        token_id=token,
        maker_amount=maker,
        taker_amount=taker,
        side=side,
        signature_type=sig_type,
        timestamp_ms=1780449126930,
    )
    assert sign_order(ours, HARDHAT_KEY, 137, exchange) == signed.signature
    typed = official.build_order_typed_data(
        official.build_order(
            OrderDataV2(
                maker=who,
                tokenId=str(token),
                makerAmount=str(maker),
                takerAmount=str(taker),
                side=Side(side),
                signer=who,
                signatureType=SignatureTypeV2(sig_type),
                timestamp="1780449126930",
            )
        )
    )
    assert order_hash(ours, 137, exchange) == official.build_order_hash(typed)


@settings(max_examples=30, deadline=None)
@given(
    salt=st.integers(0, 2**256 - 1),
    token=st.integers(0, 2**256 - 1),
    amounts=st.tuples(st.integers(0, 2**128), st.integers(0, 2**128)),
    side=st.sampled_from([0, 1]),
    version=st.sampled_from([1, 2]),
    neg_risk=st.booleans(),
)
def test_the_direct_digest_equals_the_generic_eip712_encoding(
    salt: int, token: int, amounts: tuple[int, int], side: int, version: int, neg_risk: bool
) -> None:
    from eth_account.messages import encode_typed_data
    from eth_utils.crypto import keccak

    from tradewright.venues.polymarket.signing import order_digest, typed_data

    exchange = exchange_address(137, version, neg_risk)
    order: OrderV1 | OrderV2
    if version == 2:
        order = OrderV2(
            salt=salt, maker=HARDHAT_ADDRESS, signer=HARDHAT_ADDRESS, token_id=token, maker_amount=amounts[0],
            taker_amount=amounts[1], side=side, signature_type=0, timestamp_ms=1_700_000_000_000,
        )  # fmt: skip
    else:
        order = replace(
            _v1_order(),
            salt=salt,
            token_id=token,
            maker_amount=amounts[0],
            taker_amount=amounts[1],
            side=side,
        )
    signable = encode_typed_data(full_message=typed_data(order, 137, exchange))
    assert order_digest(order, 137, exchange) == keccak(
        b"\x19" + signable.version + signable.header + signable.body
    )
