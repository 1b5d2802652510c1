"""On-chain settlement of Polymarket trades: what is confirmed, what is still pending, what failed.

A match is booked as a fill the moment it is MATCHED (the order book has changed), but the tokens
move on chain later: MINED, then CONFIRMED — or RETRYING and, at worst, FAILED, in which case the
trade never happened and the position it made must be taken back. So inventory here has two parts:
`confirmed` (safe to sell, merge, convert or redeem) and `pending` (matched, not yet final). Only
confirmed inventory counts as settled; a FAILED trade is reported so the node reconciles with the
venue's balances.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["SettlementLedger", "TradeRecord"]

_ZERO = Decimal(0)
_FINAL = frozenset({"CONFIRMED", "FAILED"})
_KNOWN = frozenset({"MATCHED", "MATCHED_NOT_BROADCASTED", "MINED", "RETRYING", "CONFIRMED", "FAILED"})


@dataclass(slots=True)
class TradeRecord:
    """One of our fills: `signed_qty` > 0 bought tokens of `token_id`; `status` its latest on-chain state."""

    trade_id: str
    token_id: str
    signed_qty: Decimal
    status: str
    history: list[str] = field(default_factory=list)


class SettlementLedger:
    """Token inventory split into confirmed and pending, per token id."""

    def __init__(self, confirmed: Mapping[str, Decimal] | None = None) -> None:
        self._confirmed: dict[str, Decimal] = dict(confirmed or {})
        self.trades: dict[str, TradeRecord] = {}
        self.failed: list[TradeRecord] = []

    def seed(self, token_id: str, balance: Decimal) -> None:
        """Start from the venue's confirmed balance of a token (at connect or after reconciling)."""
        self._confirmed[token_id] = balance

    def on_status(self, trade_id: str, token_id: str, signed_qty: Decimal, status: str) -> tuple[bool, bool]:
        """Record a status of one of our fills; return (new fill to book, the trade has just failed).

        A fill is new the first time it is seen in any status but FAILED; a later status only moves
        it. Statuses never go back (a late MINED after CONFIRMED is ignored).
        """
        status = status.upper()
        if status not in _KNOWN:
            status = "MATCHED"  # an unknown intermediate state: not final
        record = self.trades.get(trade_id)
        if record is None:
            if status == "FAILED":
                record = TradeRecord(trade_id, token_id, signed_qty, status, [status])
                self.trades[trade_id] = record
                return False, False  # never booked: nothing to take back
            record = TradeRecord(trade_id, token_id, signed_qty, status, [status])
            self.trades[trade_id] = record
            if status == "CONFIRMED":
                self._confirmed[token_id] = self._confirmed.get(token_id, _ZERO) + signed_qty
            return True, False
        if record.status in _FINAL or status == record.status:
            return False, False
        record.history.append(status)
        record.status = status
        if status == "CONFIRMED":
            self._confirmed[token_id] = self._confirmed.get(token_id, _ZERO) + record.signed_qty
        elif status == "FAILED":
            self.failed.append(record)
            return False, True
        return False, False

    def confirmed(self, token_id: str) -> Decimal:
        return self._confirmed.get(token_id, _ZERO)

    def pending(self, token_id: str) -> Decimal:
        """Matched but not yet final (signed)."""
        return sum(
            (t.signed_qty for t in self.trades.values() if t.token_id == token_id and t.status not in _FINAL),
            _ZERO,
        )

    def is_settled(self, trade_id: str) -> bool:
        record = self.trades.get(trade_id)
        return record is not None and record.status == "CONFIRMED"
