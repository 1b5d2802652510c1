"""Circuit breakers (C4): what they measure. The engine decides what a trip does to trading state.

Each method returns the trips it found as `Trip`s (breaker name, scope, why in a sentence); it never
changes state itself. All times are the kernel clock's, so a backtest and a live node measure alike.

- consecutive rejects: N venue rejections in a row on one venue (an accept or fill resets the count)
- reject burst: N rejections on one venue within a window
- ack latency: submit -> accept (or first fill) above a threshold, N times in a row; an order still
  unanswered after the threshold counts as well (a silent venue)
- market anomaly, per instrument: the reference price moved more than X % within a window, or the book
  is crossed, or a side that had levels is now empty
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from tradewright.config.run import RiskConfig
from tradewright.core.ids import ClientOrderId, InstrumentId, Venue
from tradewright.model.book import OrderBook
from tradewright.risk.state import Scope, instrument_scope, venue_scope

__all__ = ["Breakers", "Trip"]

_MS = 1_000_000
_HUNDRED = Decimal(100)

CONSECUTIVE_REJECTS = "consecutive_rejects"
REJECT_BURST = "reject_burst"
ACK_LATENCY = "ack_latency"
PRICE_MOVE = "price_move"
CROSSED_BOOK = "crossed_book"
EMPTY_BOOK = "empty_book"


@dataclass(slots=True, frozen=True)
class Trip:
    breaker: str
    scope: Scope
    reason: str


class Breakers:
    """The measuring side of every C4 breaker."""

    def __init__(self, config: RiskConfig) -> None:
        self.cfg = config
        self._ignore = frozenset(config.breaker_ignore_reject_reasons)
        self._streak: dict[Venue, int] = {}
        self._rejects: dict[Venue, deque[int]] = {}
        self._pending: dict[ClientOrderId, tuple[Venue, int]] = {}  # submitted, not yet acknowledged
        self._slow: dict[Venue, int] = {}
        self._prices: dict[InstrumentId, deque[tuple[int, Decimal]]] = {}
        self._two_sided: set[InstrumentId] = set()
        self.watch_latency = config.breaker_ack_latency_ms is not None
        self.watch_rejects = (
            config.breaker_consecutive_rejects is not None or config.breaker_reject_burst_count is not None
        )
        self.watch_market = (
            config.breaker_price_move_pct is not None
            or config.breaker_crossed_book
            or config.breaker_empty_book
        )

    # --- venue answers ----------------------------------------------------------------------
    def on_submitted(self, cid: ClientOrderId, venue: Venue, now_ns: int) -> None:
        if self.watch_latency:
            self._pending[cid] = (venue, now_ns)

    def on_answered(self, cid: ClientOrderId, venue: Venue, now_ns: int, *, accepted: bool) -> list[Trip]:
        """An accept or fill (`accepted`), or any other end of the wait for an answer."""
        trips: list[Trip] = []
        if accepted:
            self._streak[venue] = 0
        sent = self._pending.pop(cid, None)
        threshold = self.cfg.breaker_ack_latency_ms
        if sent is None or threshold is None or not accepted:
            return trips
        latency_ns = now_ns - sent[1]
        if latency_ns > threshold * _MS:
            self._slow[venue] = self._slow.get(venue, 0) + 1
            if self._slow[venue] >= self.cfg.breaker_ack_latency_count:
                trips.append(
                    Trip(
                        ACK_LATENCY,
                        venue_scope(venue),
                        f"order {cid} was acknowledged {latency_ns / _MS:g} ms after it was sent "
                        f"(breaker_ack_latency_ms {threshold}, {self._slow[venue]} slow in a row)",
                    )
                )
        else:
            self._slow[venue] = 0
        return trips

    def on_rejected(self, cid: ClientOrderId, venue: Venue, reason: str, now_ns: int) -> list[Trip]:
        self._pending.pop(cid, None)
        if reason in self._ignore or not self.watch_rejects:
            return []
        cfg = self.cfg
        trips: list[Trip] = []
        streak = self._streak[venue] = self._streak.get(venue, 0) + 1
        if cfg.breaker_consecutive_rejects is not None and streak >= cfg.breaker_consecutive_rejects:
            trips.append(
                Trip(
                    CONSECUTIVE_REJECTS,
                    venue_scope(venue),
                    f"{streak} orders in a row rejected by {venue} (last: {reason}); "
                    f"breaker_consecutive_rejects is {cfg.breaker_consecutive_rejects}",
                )
            )
        if cfg.breaker_reject_burst_count is not None:
            window_ns = cfg.breaker_reject_burst_window_ms * _MS
            times = self._rejects.setdefault(venue, deque())
            times.append(now_ns)
            while times and times[0] <= now_ns - window_ns:
                times.popleft()
            if len(times) >= cfg.breaker_reject_burst_count:
                trips.append(
                    Trip(
                        REJECT_BURST,
                        venue_scope(venue),
                        f"{len(times)} rejections from {venue} within {cfg.breaker_reject_burst_window_ms} ms "
                        f"(breaker_reject_burst_count {cfg.breaker_reject_burst_count})",
                    )
                )
        return trips

    def overdue(self, now_ns: int) -> list[Trip]:
        """Orders still unanswered past the latency threshold (each venue reported once)."""
        threshold = self.cfg.breaker_ack_latency_ms
        if threshold is None:
            return []
        trips: dict[Venue, Trip] = {}
        for cid, (venue, sent) in self._pending.items():
            if now_ns - sent > threshold * _MS and venue not in trips:
                trips[venue] = Trip(
                    ACK_LATENCY,
                    venue_scope(venue),
                    f"order {cid} has had no answer from {venue} for {(now_ns - sent) / _MS:g} ms "
                    f"(breaker_ack_latency_ms {threshold})",
                )
        return list(trips.values())

    # --- market -----------------------------------------------------------------------------
    def market(
        self, iid: InstrumentId, book: OrderBook, reference: Decimal | None, now_ns: int
    ) -> list[Trip]:
        """Look at one instrument's book now (called per command and per monitor tick, never per row)."""
        cfg = self.cfg
        trips: list[Trip] = []
        scope = instrument_scope(iid)
        bid, ask = book.best_bid_tick, book.best_ask_tick
        if bid is not None and ask is not None:
            self._two_sided.add(iid)
            if cfg.breaker_crossed_book and bid >= ask:
                trips.append(
                    Trip(
                        CROSSED_BOOK,
                        scope,
                        f"the book is crossed: bid {book.best_bid} >= ask {book.best_ask}",
                    )
                )
        elif cfg.breaker_empty_book and iid in self._two_sided:
            side = "bid" if bid is None else "ask"
            trips.append(Trip(EMPTY_BOOK, scope, f"the book has no {side} side any more"))
        pct = cfg.breaker_price_move_pct
        if pct is not None and reference is not None:
            window_ns = cfg.breaker_price_move_window_ms * _MS
            samples = self._prices.setdefault(iid, deque())
            samples.append((now_ns, reference))
            while samples and samples[0][0] < now_ns - window_ns:
                samples.popleft()
            lo = min(px for _, px in samples)
            hi = max(px for _, px in samples)
            if (reference - lo) * _HUNDRED > pct * lo or (hi - reference) * _HUNDRED > pct * hi:
                start = lo if reference - lo >= hi - reference else hi
                moved = ((reference - start) * _HUNDRED / start).quantize(Decimal("0.01"))
                trips.append(
                    Trip(
                        PRICE_MOVE,
                        scope,
                        f"price moved {moved} % ({start} -> {reference}) within "
                        f"{cfg.breaker_price_move_window_ms} ms; breaker_price_move_pct is {pct}",
                    )
                )
        return trips

    # --- resets -----------------------------------------------------------------------------
    def reset(self, breaker: str, scope: Scope) -> None:
        """Forget what a breaker measured on a scope, so its cool-down starts it afresh."""
        kind, target = scope
        if kind == "venue":
            venue = Venue(target)
            if breaker == CONSECUTIVE_REJECTS:
                self._streak.pop(venue, None)
            elif breaker == REJECT_BURST:
                self._rejects.pop(venue, None)
            elif breaker == ACK_LATENCY:
                self._slow.pop(venue, None)
                for cid in [c for c, (v, _) in self._pending.items() if v == venue]:
                    del self._pending[cid]
        elif kind == "instrument" and breaker == PRICE_MOVE:
            self._prices.pop(InstrumentId.parse(target), None)
