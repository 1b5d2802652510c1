"""A run's risk summary: the state in force, what holds it, every trip/reset/kill switch, denials."""

from __future__ import annotations

from typing import Any

from tradewright.core.clock import ns_to_iso
from tradewright.model.events import (
    BreakerReset,
    BreakerTripped,
    FlattenFinished,
    FlattenStarted,
    RiskEvent,
    TradingStateChanged,
)
from tradewright.risk.state import TradingStates, where

__all__ = ["describe", "run_summary"]

SUMMARY_EVENTS = 50


def run_summary(states: TradingStates, journal: list[RiskEvent], denials: dict[str, int]) -> dict[str, Any]:
    """The summary fields `trading_state`, `risk_holds`, `risk_events` (first 50) and `orders_denied_by_reason`."""
    lines = [describe(e) for e in journal]
    if len(lines) > SUMMARY_EVENTS:
        lines = [*lines[:SUMMARY_EVENTS], f"... and {len(lines) - SUMMARY_EVENTS} more in events.jsonl"]
    return {
        "trading_state": states.most_restrictive().value,
        "risk_holds": [
            f"{where(scope)}: {state} ({cause}: {reason})"
            for scope, cause, state, reason in states.all_holds()
        ],
        "risk_events": lines,
        "orders_denied_by_reason": dict(sorted(denials.items())),
    }


def describe(event: RiskEvent) -> str:
    """One time-stamped line for a risk event."""
    at = ns_to_iso(event.ts_event)
    if isinstance(event, BreakerTripped):
        at_scope = where((event.scope, event.target))
        return f"{at} {event.breaker} tripped: {at_scope} -> {event.action} ({event.reason})"
    if isinstance(event, BreakerReset):
        at_scope = where((event.scope, event.target))
        return f"{at} {event.breaker} reset on {at_scope} ({event.reason})"
    if isinstance(event, TradingStateChanged):
        at_scope = where((event.scope, event.target))
        return f"{at} {at_scope}: {event.previous} -> {event.state} ({event.cause})"
    if isinstance(event, FlattenStarted):
        return (
            f"{at} flatten all ({event.actor}): {event.reason}; {event.orders_canceled} orders to cancel, "
            f"positions {', '.join(f'{k} {v}' for k, v in event.positions.items()) or 'none'}"
        )
    if isinstance(event, FlattenFinished):
        state = "flat" if event.complete else f"INCOMPLETE, left {event.residual}"
        return f"{at} flatten finished after {event.attempts} attempt(s): {state}, {event.open_orders} open orders"
    return f"{at} {type(event).__name__}"
