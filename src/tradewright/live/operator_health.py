"""Health and status reads of `KernelOperator`: venues, readiness, latency, `tradewright status`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from tradewright.core.ids import InstrumentId
from tradewright.engine.kernel import Kernel
from tradewright.live.latency import LatencyProbe
from tradewright.live.operator_views import (
    HealthInfo,
    LatencyStats,
    MarketStatus,
    Offender,
    StatusReport,
    StrategyInfo,
    SystemInfo,
    VenueInfo,
    WorkflowView,
)
from tradewright.risk.engine import RiskEngine

if TYPE_CHECKING:
    from decimal import Decimal

    from tradewright.live.operator_adapter import InstrumentCounters, VenueReading

__all__ = ["HealthMixin"]


class HealthMixin:
    """Health reads (attributes set by `KernelOperator`; the other reads come from `ReadsMixin`)."""

    kernel: Kernel
    risk: RiskEngine
    probe: LatencyProbe
    counters: dict[str, InstrumentCounters]
    venue_sources: dict[str, Callable[[], VenueReading]]

    if TYPE_CHECKING:

        def system(self) -> SystemInfo: ...

        def strategies(self) -> list[StrategyInfo]: ...

        def _quantity(self, iid: InstrumentId) -> Decimal: ...

        def workflows(self, *, open_only: bool = True, limit: int = 100) -> list[WorkflowView]: ...

    def health(self) -> HealthInfo:
        reasons: list[str] = []
        if self.kernel.store_failure is not None:
            reasons.append(self.kernel.store_failure)
        for name, source in self.venue_sources.items():
            reading = source()
            if reading.health.value != "UP":
                reasons.append(f"venue {name} is {reading.health.value}: {reading.reason}")
        return HealthInfo(status="ok", ready=not reasons, reasons=reasons)

    def venues(self) -> list[VenueInfo]:
        now = time.time_ns()
        out = []
        for name, source in sorted(self.venue_sources.items()):
            reading = source()
            feed = reading.feed
            last = 0
            updates = resyncs = gaps = malformed = 0
            if feed is not None:
                for stats in feed.instruments.values():
                    last = max(last, stats.last_update_ns)
                    updates += stats.updates
                    resyncs += stats.resyncs
                    gaps += stats.sequence_gaps
                    malformed += stats.malformed
            else:
                updates = sum(n for iid, n in self.probe.ticks.items() if iid.venue == name)
            p50, p99 = self.probe.order_ack.quantile(0.5), self.probe.order_ack.quantile(0.99)
            out.append(
                VenueInfo(
                    venue=name,
                    health=reading.health.value,
                    reason=reading.reason,
                    simulated=reading.simulated,
                    last_update_age_ms=None if not last else max(0, (now - last) // 1_000_000),
                    book_updates=updates,
                    book_resyncs=resyncs,
                    sequence_gaps=gaps,
                    malformed=malformed,
                    reconnects=0 if feed is None else feed.reconnects,
                    ack_p50_ms=None if p50 is None else round(p50 * 1e3, 3),
                    ack_p99_ms=None if p99 is None else round(p99 * 1e3, 3),
                )
            )
        return out

    def latency(self) -> list[LatencyStats]:
        probe = self.probe
        named = [("tick_to_quote", probe.tick_to_quote), ("order_ack", probe.order_ack)]
        named += [(f"stage_{k}", h) for k, h in probe.stages.items()]
        out = []
        for name, hist in named:
            p50, p99 = hist.quantile(0.5), hist.quantile(0.99)
            out.append(
                LatencyStats(
                    name=name,
                    count=hist.count,
                    p50_us=None if p50 is None else round(p50 * 1e6, 1),
                    p99_us=None if p99 is None else round(p99 * 1e6, 1),
                    max_us=None if not hist.recent else round(max(hist.recent) * 1e6, 1),
                )
            )
        return out

    # --- status (tradewright status) --------------------------------------------------------
    def status(self) -> StatusReport:
        from tradewright.live.operator_adapter import InstrumentCounters

        feeds: dict[str, tuple[int, int]] = {}
        for source in self.venue_sources.values():
            feed = source().feed
            if feed is not None:
                for iid, st in feed.instruments.items():
                    feeds[str(iid)] = (st.updates, st.resyncs)
        denials = self.risk.denials
        markets = []
        offenders: list[Offender] = []
        for iid in self.kernel.instruments:
            key = str(iid)
            c = self.counters.get(key, InstrumentCounters())
            updates, resyncs = feeds.get(key, (self.probe.ticks.get(iid, 0), 0))
            own_bid, own_ask = self.kernel.orders.best_prices(iid)
            markets.append(
                MarketStatus(
                    instrument_id=key,
                    trading_state=self.risk.state_for(iid).value,
                    quoting=own_bid is not None or own_ask is not None,
                    own_bid=own_bid,
                    own_ask=own_ask,
                    position=self._quantity(iid),
                    open_orders=len(self.kernel.orders.open_orders(iid)),
                    book_updates=updates,
                    book_resyncs=resyncs,
                    resync_ratio=0.0 if not updates else round(resyncs / updates, 6),
                    orders_submitted=c.orders_submitted,
                    cancels_sent=c.cancels,
                    cancel_rate_denials=0,
                    rejects=c.orders_rejected,
                    fills=c.fills,
                )
            )
            offenders += [
                Offender("rejects", key, c.orders_rejected),
                Offender("denials", key, c.orders_denied),
                Offender("book_resyncs", key, resyncs),
            ]
        cancel_denials = sum(n for reason, n in denials.items() if reason.startswith("cancel_rate"))
        offenders.append(Offender("cancel_rate_denials", "node", cancel_denials))
        offenders += [Offender("denial_reason", reason, n) for reason, n in denials.items()]
        offenders = sorted((o for o in offenders if o.count > 0), key=lambda o: -o.count)[:10]
        if cancel_denials and markets:
            markets = [replace(m, cancel_rate_denials=cancel_denials) for m in markets] if len(markets) == 1 else markets
        return StatusReport(
            system=self.system(),
            venues=self.venues(),
            markets=markets,
            strategies=self.strategies(),
            latency=self.latency(),
            offenders=offenders,
            workflows=self.workflows(open_only=True, limit=50),
        )
