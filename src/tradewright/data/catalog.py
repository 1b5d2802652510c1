"""A folder of cached streams: list them from their footers, add new ones, load one instrument's data.

File names are ``<instrument id>.<first receive time, UTC, %Y%m%dT%H%M%S>.parquet``, so a folder sorts by
instrument then time, and importing the same recording twice replaces the earlier file.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tradewright.core.errors import DataError
from tradewright.data.cache import StreamSummary, read_stream, read_summary, write_stream
from tradewright.model.columnar import COLUMNS, MarketStream

__all__ = ["Catalog", "CatalogEntry"]


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One cached stream: where it is and what it holds."""

    path: Path
    summary: StreamSummary

    @property
    def instrument_id(self) -> str:
        return str(self.summary.instrument.id)

    @property
    def rows(self) -> int:
        return self.summary.rows

    @property
    def start_ns(self) -> int:
        return self.summary.ts_recv_start

    @property
    def end_ns(self) -> int:
        return self.summary.ts_recv_end

    @property
    def kinds(self) -> dict[str, int]:
        return self.summary.kinds

    def load(self) -> MarketStream:
        return read_stream(self.path)


class Catalog:
    """The cached streams in one folder."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def entries(self) -> list[CatalogEntry]:
        """Every cached stream, by instrument then start time; raise `DataError` for an unreadable one."""
        if not self.root.is_dir():
            raise DataError("catalog folder does not exist", source=str(self.root))
        found = [CatalogEntry(p, read_summary(p)) for p in sorted(self.root.glob("*.parquet"))]
        return sorted(found, key=lambda e: (e.instrument_id, e.start_ns))

    def find(self, instrument_id: str) -> list[CatalogEntry]:
        return [e for e in self.entries() if e.instrument_id == instrument_id]

    def path_for(self, stream: MarketStream) -> Path:
        start = int(stream.ts_recv[0]) if len(stream) else 0
        stamp = datetime.fromtimestamp(start / 1e9, tz=UTC).strftime("%Y%m%dT%H%M%S")
        return self.root / f"{stream.instrument.id}.{stamp}.parquet"

    def add(self, stream: MarketStream) -> Path:
        """Write the stream into the folder; return its path."""
        return write_stream(stream, self.path_for(stream))

    def load(self, instrument_id: str) -> MarketStream:
        """One instrument's cached streams joined in time order (they must not overlap)."""
        entries = self.find(instrument_id)
        if not entries:
            raise DataError(f"no cached data for {instrument_id}", source=str(self.root))
        streams = [e.load() for e in entries]
        for before, after in itertools.pairwise(entries):
            if after.start_ns < before.end_ns:
                raise DataError(f"{after.path.name} overlaps {before.path.name}", source=str(self.root))
        if len(streams) == 1:
            return streams[0]
        first = streams[0]
        if any(s.instrument != first.instrument for s in streams):
            raise DataError(
                f"cached files for {instrument_id} disagree about the instrument", source=str(self.root)
            )
        cols = {name: np.concatenate([s.column(name) for s in streams]) for name in COLUMNS}
        stats: dict[str, int] = {}
        for s in streams:
            for key, value in s.stats.items():
                stats[key] = stats.get(key, 0) + value
        return MarketStream(first.instrument, source="+".join(s.source for s in streams), stats=stats, **cols)
