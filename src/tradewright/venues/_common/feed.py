"""Market-data health, counted per instrument: what the node's status, metrics and alerts read."""

from __future__ import annotations

from dataclasses import dataclass, field

from tradewright.core.ids import InstrumentId

__all__ = ["FeedStats", "InstrumentFeedStats"]


@dataclass(slots=True)
class InstrumentFeedStats:
    """Counters for one instrument's feed. `resyncs` counts book rebuilds after a gap or a checksum
    failure; `last_update_ns` is our receive time of the last verified book update."""

    updates: int = 0
    resyncs: int = 0
    sequence_gaps: int = 0
    checksum_failures: int = 0
    malformed: int = 0
    trades: int = 0
    last_update_ns: int = 0
    last_problem: str = ""


@dataclass(slots=True)
class FeedStats:
    """Every instrument's counters plus connection-level ones for one venue's market data."""

    reconnects: int = 0
    instruments: dict[InstrumentId, InstrumentFeedStats] = field(default_factory=dict)

    def of(self, instrument_id: InstrumentId) -> InstrumentFeedStats:
        stats = self.instruments.get(instrument_id)
        if stats is None:
            stats = self.instruments[instrument_id] = InstrumentFeedStats()
        return stats
