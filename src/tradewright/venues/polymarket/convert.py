"""Neg-risk conversion on Polymarket: turn NO tokens of several outcomes of one mutually exclusive
event into collateral and the YES tokens of the other outcomes (NegRiskAdapter.convertPositions).

Converting `amount` of the NO tokens of a set S of m outcomes (bit i of `index_set` = question i)
burns them and returns ``amount × (m − 1)`` collateral, less the adapter's fee, plus `amount` YES of
every outcome not in S — what a Dutch-book "buy all NO" or mixed basket realises before resolution.
`conversion` says exactly what one conversion yields; `conversion_tx` builds the transaction, which
`tradewright polymarket convert` prints and sends only with `--execute` (as approvals are sent).
Only CONFIRMED inventory may be converted: tokens of a match still MINED can be taken back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from tradewright.core.errors import ConfigError
from tradewright.venues.polymarket.approve import ApprovalTx
from tradewright.venues.polymarket.signing import contracts

__all__ = ["Conversion", "conversion", "conversion_tx", "index_set"]

_CONVERT = bytes(keccak(text="convertPositions(bytes32,uint256,uint256)")[:4])
_MICRO = Decimal(1_000_000)


def index_set(questions: list[int]) -> int:
    """The bit set of question indexes (question i is bit i)."""
    if not questions or len(set(questions)) != len(questions) or min(questions) < 0:
        raise ConfigError(f"questions must be distinct indexes >= 0, got {questions}")
    return sum(1 << q for q in questions)


@dataclass(frozen=True, slots=True)
class Conversion:
    """What converting `amount` NO of the questions in `burned` yields among `n` outcomes."""

    burned: tuple[int, ...]
    amount: Decimal
    collateral: Decimal
    fee: Decimal
    yes_of: tuple[int, ...]


def conversion(
    questions: list[int], outcomes: int, amount: Decimal, fee_rate: Decimal = Decimal(0)
) -> Conversion:
    """Exact result of one conversion (the fee is a share of the collateral returned)."""
    index_set(questions)
    if max(questions) >= outcomes:
        raise ConfigError(f"question {max(questions)} does not exist among {outcomes} outcomes")
    if len(questions) < 2:
        raise ConfigError("a conversion needs the NO tokens of at least two questions (one returns nothing)")
    if amount <= 0 or amount != (amount * _MICRO).to_integral_value() / _MICRO:
        raise ConfigError(f"amount must be > 0 with at most 6 decimals, got {amount}")
    gross = amount * (len(questions) - 1)
    fee = gross * fee_rate
    others = tuple(i for i in range(outcomes) if i not in questions)
    return Conversion(tuple(sorted(questions)), amount, gross - fee, fee, others)


def conversion_tx(
    chain_id: int, neg_risk_market_id: str, questions: list[int], amount: Decimal
) -> ApprovalTx:
    """The NegRiskAdapter call converting `amount` NO of `questions` (amount in tokens, 6 decimals)."""
    market = bytes.fromhex(neg_risk_market_id.removeprefix("0x"))
    if len(market) != 32:
        raise ConfigError(f"the neg-risk market id must be 32 bytes of hex, got {neg_risk_market_id!r}")
    bits = index_set(questions)
    micro = int(amount * _MICRO)
    data = _CONVERT + abi_encode(["bytes32", "uint256", "uint256"], [market, bits, micro])
    adapter = contracts(chain_id).neg_risk_adapter
    return ApprovalTx(
        adapter,
        "0x" + data.hex(),
        f"NegRiskAdapter.convertPositions(market {neg_risk_market_id[:10]}…, NO of questions {sorted(questions)}, {amount})",
    )
