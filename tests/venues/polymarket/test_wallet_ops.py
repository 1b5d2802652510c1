"""Allowance and neg-risk conversion transactions: exactly the calls the contracts expect."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak

from tradewright.core.errors import ConfigError
from tradewright.venues.polymarket.approve import MAX_UINT256, plan
from tradewright.venues.polymarket.convert import conversion, conversion_tx, index_set
from tradewright.venues.polymarket.signing import CONTRACTS

D = Decimal
C = CONTRACTS[137]


def _selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def test_v2_approvals_cover_pusd_and_outcome_tokens_for_every_exchange_and_the_adapter() -> None:
    txs = plan(137, 2)
    approvals = [t for t in txs if t.data.startswith(_selector("approve(address,uint256)"))]
    operators = [t for t in txs if t.data.startswith(_selector("setApprovalForAll(address,bool)"))]
    assert {t.to for t in approvals} == {C.collateral} and {t.to for t in operators} == {C.conditional_tokens}
    spenders = {abi_decode(["address", "uint256"], bytes.fromhex(t.data[10:]))[0].lower() for t in approvals}
    assert spenders == {a.lower() for a in (C.exchange_v2, C.neg_risk_exchange_v2, C.neg_risk_adapter)}
    assert all(
        abi_decode(["address", "uint256"], bytes.fromhex(t.data[10:]))[1] == MAX_UINT256 for t in approvals
    )
    assert all(abi_decode(["address", "bool"], bytes.fromhex(t.data[10:]))[1] is True for t in operators)


def test_v1_approvals_use_usdce_and_the_v1_exchanges_and_neg_risk_can_be_left_out() -> None:
    txs = plan(137, 1, neg_risk=False)
    assert len(txs) == 2 and txs[0].to == C.collateral_v1
    assert (
        abi_decode(["address", "uint256"], bytes.fromhex(txs[0].data[10:]))[0].lower()
        == C.exchange_v1.lower()
    )


def test_converting_no_of_two_of_three_outcomes_returns_one_collateral_and_the_third_yes() -> None:
    result = conversion([0, 1], 3, D(10))
    assert (result.collateral, result.fee, result.yes_of) == (D(10), D(0), (2,))
    taxed = conversion([0, 1, 2], 3, D(10), D("0.01"))
    assert (taxed.collateral, taxed.fee, taxed.yes_of) == (D("19.80"), D("0.20"), ())


def test_conversion_call_data_is_the_adapters_signature() -> None:
    market = "0x" + "ab" * 32
    tx = conversion_tx(137, market, [0, 2], D("1.5"))
    assert tx.to == C.neg_risk_adapter and tx.data.startswith(
        _selector("convertPositions(bytes32,uint256,uint256)")
    )
    mid, bits, amount = abi_decode(["bytes32", "uint256", "uint256"], bytes.fromhex(tx.data[10:]))
    assert (mid.hex(), bits, amount) == ("ab" * 32, 0b101, 1_500_000)


def test_bad_conversions_are_refused_naming_the_problem() -> None:
    with pytest.raises(ConfigError, match="at least two"):
        conversion([1], 3, D(1))
    with pytest.raises(ConfigError, match="does not exist"):
        conversion([0, 5], 3, D(1))
    with pytest.raises(ConfigError, match="6 decimals"):
        conversion([0, 1], 3, D("0.0000001"))
    with pytest.raises(ConfigError, match="distinct"):
        index_set([1, 1])
