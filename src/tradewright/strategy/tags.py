"""Trade tags: why an order was sent, in a form the run outputs and the trade journal can read.

A strategy passes a tag with an order (``ctx.submit(..., tag=trade_tag(regime="trend", reason="orb_retest",
risk=one_r))``). The tag travels in the command's `actor` (``"S1:regime=trend;reason=orb_retest;risk=100.00"``),
so it is in events.jsonl for every run; bar runs also copy it into fills.csv's `tag_regime`,
`tag_reason` and `risk_r` columns (see `tradewright.analysis.journal`). `risk` is the money an entry
order puts at risk (1 R: stop distance x size x multiplier, in the settlement currency).
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["parse_tag", "trade_tag"]

_FORBIDDEN = frozenset(";=:\n")


def trade_tag(*, regime: str = "", reason: str = "", risk: Decimal | None = None) -> str:
    """Build a tag: the market regime, the reason for the order, and (for entries) the money at risk."""
    parts = []
    for key, value in (("regime", regime), ("reason", reason)):
        if value:
            if _FORBIDDEN & set(value):
                raise ValueError(f"tag {key} {value!r} must not contain ';', '=', ':' or a newline")
            parts.append(f"{key}={value}")
    if risk is not None:
        if not risk.is_finite() or risk <= 0:
            raise ValueError(f"tag risk must be a number > 0, got {risk}")
        parts.append(f"risk={risk}")
    return ";".join(parts)


def parse_tag(text: str) -> dict[str, str]:
    """Read a tag back into its fields (unknown or malformed parts are kept as they are, or skipped)."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, eq, value = part.partition("=")
        if eq and key:
            fields[key.strip()] = value.strip()
    return fields
