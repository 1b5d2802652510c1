"""Quick-market rotation, as a pure clock-driven component: which market to subscribe to, quote, stop
quoting and follow to resolution, and when.

Turbine runs one market per (asset, interval) at a time — BTC every 15 minutes — and opens the next,
with a fresh strike, as the current one ends. A market maker must be in the next market's book before
the current one expires and must be out of the expiring one (orders cancelled, no new quotes) a little
before it ends, when its price collapses towards 0 or 1 and fills are one-sided.

`Rotation` is fed what discovery finds (`on_markets`) and the time (`on_time`), and answers with the
actions due, each at most once per market and always in the order

    SUBSCRIBE → START_QUOTING → STOP_QUOTING → FOLLOW_RESOLUTION → UNSUBSCRIBE

so that no order is ever left on an expired market as long as the caller carries out STOP_QUOTING
(cancel everything in that market, stop quoting it). `next_wakeup_ns` says when to call it again.
It reads no clock and does no I/O: the live node drives it; the tests drive it through simulated time.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated

import msgspec

__all__ = ["Action", "ActionKind", "QuickMarket", "Rotation", "RotationConfig"]

_MS = 1_000_000


class RotationConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Lead times before a market's end. `subscribe_next_lead_ms`: be subscribed to the next market's
    book this long before the current one ends (as soon as it is known); `stop_quoting_lead_ms`: cancel
    and stop quoting this long before the end; `start_quoting_delay_ms`: wait after a market opens."""

    asset: str = "BTC"
    interval_minutes: Annotated[int, msgspec.Meta(ge=1)] = 15
    subscribe_next_lead_ms: Annotated[int, msgspec.Meta(ge=0)] = 60_000
    stop_quoting_lead_ms: Annotated[int, msgspec.Meta(ge=0)] = 30_000
    start_quoting_delay_ms: Annotated[int, msgspec.Meta(ge=0)] = 0
    unsubscribe_after_end_ms: Annotated[int, msgspec.Meta(ge=0)] = 5_000

    def __post_init__(self) -> None:
        window_ms = self.interval_minutes * 60_000
        if self.stop_quoting_lead_ms + self.start_quoting_delay_ms >= window_ms:
            raise ValueError(
                f"`stop_quoting_lead_ms` + `start_quoting_delay_ms` leave no time to quote in a "
                f"{self.interval_minutes}-minute market"
            )


@dataclass(frozen=True, slots=True)
class QuickMarket:
    """One quick market as discovery reports it (times in UTC ns; `start_price` is the strike)."""

    market_id: str
    asset: str
    interval_minutes: int
    start_ns: int
    end_ns: int
    start_price: Decimal | None = None
    settlement_address: str = ""
    contract_address: str = ""
    resolved: bool = False

    def __post_init__(self) -> None:
        if self.end_ns <= self.start_ns:
            raise ValueError(f"quick market {self.market_id} ends before it starts")


class ActionKind(enum.StrEnum):
    SUBSCRIBE = "subscribe"  # open the market's book (and trades) feed
    START_QUOTING = "start_quoting"
    STOP_QUOTING = "stop_quoting"  # cancel every order in the market; quote it no more
    UNSUBSCRIBE = "unsubscribe"
    FOLLOW_RESOLUTION = "follow_resolution"  # poll its resolution, then claim what it pays


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    market: QuickMarket
    due_ns: int


@dataclass(slots=True)
class _Track:
    market: QuickMarket
    done: set[ActionKind] = field(default_factory=set)  # considered (due and handled)
    emitted: set[ActionKind] = field(default_factory=set)  # handed to the caller


_ORDER = (
    ActionKind.SUBSCRIBE,
    ActionKind.START_QUOTING,
    ActionKind.STOP_QUOTING,
    ActionKind.FOLLOW_RESOLUTION,
    ActionKind.UNSUBSCRIBE,
)


class Rotation:
    """See the module docstring."""

    def __init__(self, config: RotationConfig) -> None:
        self.cfg = config
        self._tracks: dict[str, _Track] = {}

    def _due(self, kind: ActionKind, m: QuickMarket) -> int:
        cfg = self.cfg
        if kind is ActionKind.SUBSCRIBE:
            return m.start_ns - cfg.subscribe_next_lead_ms * _MS
        if kind is ActionKind.START_QUOTING:
            return m.start_ns + cfg.start_quoting_delay_ms * _MS
        if kind is ActionKind.STOP_QUOTING:
            return m.end_ns - cfg.stop_quoting_lead_ms * _MS
        if kind is ActionKind.UNSUBSCRIBE:
            return m.end_ns + cfg.unsubscribe_after_end_ms * _MS
        return m.end_ns

    def on_markets(self, now_ns: int, markets: Iterable[QuickMarket]) -> list[Action]:
        """Take in what discovery found (other assets and intervals are ignored); return what is due."""
        for m in markets:
            if m.asset != self.cfg.asset or m.interval_minutes != self.cfg.interval_minutes:
                continue
            known = self._tracks.get(m.market_id)
            if known is None:
                self._tracks[m.market_id] = _Track(m)
            else:
                known.market = m  # a later report (e.g. resolved) replaces the earlier one
        return self.on_time(now_ns)

    def on_time(self, now_ns: int) -> list[Action]:
        """Every action due by `now_ns`, market by market in start order, each in lifecycle order.

        A market discovered late skips what can no longer help: it is never quoted once its
        stop-quoting time has passed, and never subscribed once it has ended.
        """
        actions: list[Action] = []
        for track in sorted(self._tracks.values(), key=lambda t: t.market.start_ns):
            m = track.market
            for kind in _ORDER:
                if kind in track.done:
                    continue
                due = self._due(kind, m)
                if due > now_ns:
                    break
                track.done.add(kind)
                stop_at = self._due(ActionKind.STOP_QUOTING, m)
                if kind is ActionKind.START_QUOTING and now_ns >= stop_at:
                    continue  # too late to quote it at all
                if kind is ActionKind.SUBSCRIBE and now_ns >= m.end_ns:
                    continue  # over already: nothing to watch
                if kind is ActionKind.STOP_QUOTING and ActionKind.START_QUOTING not in track.emitted:
                    continue
                if kind is ActionKind.UNSUBSCRIBE and ActionKind.SUBSCRIBE not in track.emitted:
                    continue
                track.emitted.add(kind)
                actions.append(Action(kind, m, due))
        self._forget(now_ns)
        return actions

    def _forget(self, now_ns: int) -> None:
        """Drop markets whose whole lifecycle is done (keeps the state small over days of rotation)."""
        for market_id in [k for k, t in self._tracks.items() if len(t.done) == len(_ORDER)]:
            del self._tracks[market_id]

    def next_wakeup_ns(self) -> int | None:
        """When the next action falls due (None when nothing is pending)."""
        pending = [
            self._due(kind, t.market) for t in self._tracks.values() for kind in _ORDER if kind not in t.done
        ]
        return min(pending) if pending else None

    def quoting(self, now_ns: int) -> list[QuickMarket]:
        """The markets that may be quoted now."""
        return [
            t.market
            for t in self._tracks.values()
            if ActionKind.START_QUOTING in t.emitted
            and ActionKind.STOP_QUOTING not in t.done
            and now_ns < self._due(ActionKind.STOP_QUOTING, t.market)
        ]
