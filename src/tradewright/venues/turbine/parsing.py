"""Pure translation of Turbine payloads into tradewright's model.

Units: prices are integer micro-dollars (1..999,999), sizes integer micro-shares; both convert to
exact Decimals (``/ 10**6``) and back only when exactly representable. A quick market is a binary
market with outcomes YES (0, "the price ends above the strike") and NO (1); its instruments are
``{marketId}-YES.TURBINE`` and ``{marketId}-NO.TURBINE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from tradewright.core.errors import VenueError
from tradewright.core.ids import Venue
from tradewright.model.prediction import BinaryMarket, FeeSchedule, OutcomeToken
from tradewright.venues.turbine.rotation import QuickMarket as Rotating
from tradewright.venues.turbine.schemas import QuickMarket, WsMessage

__all__ = [
    "VENUE",
    "decode",
    "from_micro",
    "market_of",
    "rotating",
    "split_frame",
    "to_micro",
]

VENUE = Venue("TURBINE")
_MICRO = Decimal(1_000_000)
_SEC = 1_000_000_000


def decode(kind: type[Any], raw: Any, what: str) -> Any:
    try:
        if isinstance(raw, bytes | str | msgspec.Raw):
            return msgspec.json.decode(raw, type=kind)
        return msgspec.convert(raw, type=kind, strict=False)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise VenueError(f"malformed Turbine {what}: {exc}") from None


def from_micro(value: int | str) -> Decimal:
    return Decimal(int(value)) / _MICRO


def to_micro(value: Decimal, what: str) -> int:
    micro = value * _MICRO
    if micro != micro.to_integral_value():
        raise VenueError(f"{what} {value} has more than 6 decimals")
    return int(micro)


def split_frame(text: str) -> list[WsMessage]:
    """The messages of one frame: several JSON objects may come one a line."""
    out = []
    for line in text.splitlines():
        if line.strip():
            out.append(decode(WsMessage, line, "stream message"))
    return out


def market_of(
    q: QuickMarket, *, tick_size: Decimal, fee_rate: Decimal, collateral: str = "USDC"
) -> BinaryMarket:
    """A quick market as a `BinaryMarket` (strike in the question, end time from the venue)."""
    strike = from_micro(q.startPrice) if q.startPrice else None
    ends = datetime.fromtimestamp(q.endTime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    question = f"{q.asset} above {strike} at {ends}?" if strike is not None else f"{q.asset} up at {ends}?"
    return BinaryMarket(
        venue=VENUE,
        market_id=q.marketId,
        question=question,
        tokens=(
            OutcomeToken(token_id="YES", outcome="Yes", index=0),
            OutcomeToken(token_id="NO", outcome="No", index=1),
        ),
        tick_size=tick_size,
        lot_size=Decimal("0.000001"),
        min_marketable_notional=Decimal(1),
        fees=FeeSchedule(kind="notional", rate=fee_rate, decimals=6) if fee_rate else FeeSchedule(),
        collateral=collateral,
        end_ns=q.endTime * _SEC,
        slug=f"{q.asset.lower()}-{q.intervalMinutes}m-{q.startTime}",
        active=not q.resolved,
        accepting_orders=not q.resolved,
        allows_split_resolution=False,
    )


def rotating(items: Iterable[QuickMarket]) -> list[Rotating]:
    """Quick markets as the rotation scheduler sees them."""
    return [
        Rotating(
            market_id=q.marketId,
            asset=q.asset,
            interval_minutes=q.intervalMinutes,
            start_ns=q.startTime * _SEC,
            end_ns=q.endTime * _SEC,
            start_price=from_micro(q.startPrice) if q.startPrice else None,
            settlement_address=q.settlementAddress,
            contract_address=q.contractAddress,
            resolved=q.resolved,
        )
        for q in items
        if q.endTime > q.startTime
    ]
