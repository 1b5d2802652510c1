"""Trading states per node, venue and instrument, each set by named causes ("holds").

A scope's state is the most restrictive of the holds on it (a breaker, a daily tripwire, the kill
switch, an operator); an instrument trades under the most restrictive of its own state, its venue's
and the node's. Releasing one cause leaves the others in force, so a cool-down ending on one breaker
never lifts a halt that another still holds.
"""

from __future__ import annotations

from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.events import RiskScope, TradingState

__all__ = ["NODE", "Scope", "TradingStates", "covers", "instrument_scope", "stricter", "venue_scope", "where"]

Scope = tuple[RiskScope, str]
NODE: Scope = ("node", "")

_RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def venue_scope(venue: Venue) -> Scope:
    return ("venue", str(venue))


def instrument_scope(instrument_id: InstrumentId) -> Scope:
    return ("instrument", str(instrument_id))


def where(scope: Scope) -> str:
    """ "node", "venue BINANCE", "instrument BTCUSDT-PERP.BINANCE"."""
    kind, target = scope
    return f"{kind} {target}" if target else kind


def stricter(a: TradingState, b: TradingState) -> TradingState:
    return a if _RANK[a] >= _RANK[b] else b


def covers(scope: Scope, instrument_id: InstrumentId) -> bool:
    """True when `scope` governs the instrument (the node, its venue, or the instrument itself)."""
    kind, target = scope
    if kind == "node":
        return True
    if kind == "venue":
        return target == instrument_id.venue
    return target == str(instrument_id)


class TradingStates:
    """Holds per scope (cause -> state) and the effective state they add up to."""

    __slots__ = ("_effective", "_holds")

    def __init__(self) -> None:
        self._holds: dict[Scope, dict[str, tuple[TradingState, str]]] = {}
        self._effective: dict[Scope, TradingState] = {}

    def state(self, scope: Scope) -> TradingState:
        return self._effective.get(scope, TradingState.ACTIVE)

    def for_instrument(self, instrument_id: InstrumentId) -> TradingState:
        """The state an order on this instrument trades under."""
        eff = self._effective
        if not eff:
            return TradingState.ACTIVE
        active = TradingState.ACTIVE
        state = eff.get(NODE, active)
        state = stricter(state, eff.get(("venue", str(instrument_id.venue)), active))
        return stricter(state, eff.get(("instrument", str(instrument_id)), active))

    def holds(self, scope: Scope) -> dict[str, tuple[TradingState, str]]:
        """cause -> (state, reason) on one scope."""
        return dict(self._holds.get(scope, {}))

    def all_holds(self) -> list[tuple[Scope, str, TradingState, str]]:
        return [
            (scope, cause, state, reason)
            for scope, holds in self._holds.items()
            for cause, (state, reason) in holds.items()
        ]

    def most_restrictive(self) -> TradingState:
        state = TradingState.ACTIVE
        for s in self._effective.values():
            state = stricter(state, s)
        return state

    def hold(
        self, scope: Scope, cause: str, state: TradingState, reason: str
    ) -> tuple[TradingState, TradingState]:
        """Set `cause`'s hold on `scope`; return the scope's (previous, new) effective state."""
        self._holds.setdefault(scope, {})[cause] = (state, reason)
        return self._update(scope)

    def release(self, scope: Scope, cause: str) -> tuple[TradingState, TradingState]:
        holds = self._holds.get(scope)
        if holds is not None:
            holds.pop(cause, None)
        return self._update(scope)

    def _update(self, scope: Scope) -> tuple[TradingState, TradingState]:
        before = self.state(scope)
        after = TradingState.ACTIVE
        for state, _ in self._holds.get(scope, {}).values():
            after = stricter(after, state)
        if after is TradingState.ACTIVE:
            self._effective.pop(scope, None)
            self._holds.pop(scope, None)
        else:
            self._effective[scope] = after
        return before, after
