"""The live node's view of its connection to the venue: while a stream is down, no new orders for that
venue; once every stream is back, reconcile with the venue's REST view first, then trade again.

A stream (the order book, the user stream) reports `lost(stream, why)` when its connection fails and
`back(stream)` once it is connected again. The first loss puts a HALTED hold on the venue's risk scope
(cause "venue_down": new orders are denied, cancels still pass; `tradewright status` shows HALTED with the
reason). When the last stream is back, a reconciliation is requested: what the venue said while we were
not listening (fills, cancels, acks) is recovered from REST. Only a reconciliation that *started* after
the last change of the link lifts the hold, so a reconciliation already under way when a stream came
back (it may have read the venue before) does not count.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tradewright.core.ids import Venue
from tradewright.model.events import TradingState
from tradewright.risk.engine import RiskEngine
from tradewright.risk.state import venue_scope

__all__ = ["VENUE_DOWN", "VenueLink"]

VENUE_DOWN = "venue_down"


class VenueLink:
    """Which of the venue's streams are down, and the hold that follows (module docstring)."""

    def __init__(
        self,
        venue: Venue,
        risk: RiskEngine,
        reconcile: Callable[[str], None],
        log: logging.Logger | None = None,
    ) -> None:
        self.venue = venue
        self._risk = risk
        self._reconcile = reconcile
        self._log = log or logging.getLogger("tradewright.live.link")
        self.down: dict[str, str] = {}  # stream -> why it is down
        self.held = False
        self.generation = 0  # changes each time a stream goes down or comes back
        self.outages = 0  # times the venue was held for a lost connection

    def lost(self, stream: str, why: str) -> None:
        """A stream's connection failed (called on every failed attempt; the first one counts)."""
        first = stream not in self.down
        self.down[stream] = why
        if first:
            self.generation += 1
            self._log.error("venue %s: the %s connection is down (%s)", self.venue, stream, why)
        if not self.held:
            self.held = True
            self.outages += 1
            reason = (
                f"the {stream} connection to {self.venue} is down ({why[:160]}); "
                "no new orders until it is back and reconciled"
            )
            self._risk.hold(venue_scope(self.venue), VENUE_DOWN, TradingState.HALTED, reason)

    def back(self, stream: str) -> None:
        """A stream is connected again; once none is down, reconcile before trading again."""
        if stream not in self.down:
            return
        del self.down[stream]
        self.generation += 1
        self._log.warning("venue %s: the %s connection is back", self.venue, stream)
        if not self.down and self.held:
            self._reconcile(f"the {stream} connection to {self.venue} is back")

    def describe(self) -> str:
        """The streams that are down and why, in words (for status and health)."""
        return "; ".join(
            f"the {stream} connection is down ({why[:120]})" for stream, why in self.down.items()
        )

    def watch(self, stream: str) -> Callable[[bool, str], None]:
        """A callback for one stream: (True, "") when connected again, (False, why) when it failed."""

        def report(up: bool, why: str) -> None:
            if up:
                self.back(stream)
            else:
                self.lost(stream, why)

        return report

    def reconciled(self, generation: int) -> None:
        """A reconciliation that started at `generation` has finished: lift the hold if nothing changed since."""
        if not self.held or self.down or generation != self.generation:
            return
        self.held = False
        self._risk.release(
            venue_scope(self.venue), VENUE_DOWN, f"every connection to {self.venue} is back and reconciled"
        )
        self._log.warning("venue %s: reconnected and reconciled; trading again", self.venue)
