"""Latency models: how long an order takes to reach the venue, and the venue's answer to come back.

All values are integer nanoseconds. Random draws use the model's own seeded generator, so a backtest
with the same seed is byte-for-byte repeatable.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Protocol

from tradewright.core.errors import ConfigError

__all__ = ["ConstantLatency", "EmpiricalLatency", "LatencyModel"]


class LatencyModel(Protocol):
    def entry_ns(self) -> int:
        """Node -> venue for a new order or a modify."""
        ...

    def cancel_ns(self) -> int:
        """Node -> venue for a cancel."""
        ...

    def response_ns(self) -> int:
        """Venue -> node for acks, fills and rejects."""
        ...


class ConstantLatency:
    def __init__(self, entry_ns: int, response_ns: int, cancel_ns: int | None = None) -> None:
        for name, value in (("entry_ns", entry_ns), ("response_ns", response_ns), ("cancel_ns", cancel_ns)):
            if value is not None and value < 0:
                raise ConfigError(f"latency {name} must be >= 0, got {value}")
        self._entry = entry_ns
        self._response = response_ns
        self._cancel = entry_ns if cancel_ns is None else cancel_ns

    def entry_ns(self) -> int:
        return self._entry

    def cancel_ns(self) -> int:
        return self._cancel

    def response_ns(self) -> int:
        return self._response


class EmpiricalLatency:
    """Draw latencies from measured samples: a CSV with header `entry_ns,response_ns` (one row per
    measured round trip). Cancels use the entry column."""

    def __init__(self, entry: list[int], response: list[int], seed: int = 0, source: str = "") -> None:
        if not entry or not response:
            raise ConfigError(f"latency samples {source or ''} are empty")
        if min(entry) < 0 or min(response) < 0:
            raise ConfigError(f"latency samples {source or ''} contain a negative value")
        self._entry = entry
        self._response = response
        self._rng = random.Random(seed)

    @classmethod
    def from_csv(cls, path: str | Path, seed: int = 0) -> EmpiricalLatency:
        path = Path(path)
        entry: list[int] = []
        response: list[int] = []
        try:
            with path.open(newline="") as fh:
                reader = csv.DictReader(fh)
                if reader.fieldnames is None or not {"entry_ns", "response_ns"} <= set(reader.fieldnames):
                    raise ConfigError(f"{path}: latency file needs the header entry_ns,response_ns")
                for lineno, row in enumerate(reader, start=2):
                    try:
                        entry.append(int(row["entry_ns"]))
                        response.append(int(row["response_ns"]))
                    except (TypeError, ValueError):
                        raise ConfigError(f"{path}:{lineno}: latency values must be integers (ns)") from None
        except OSError as exc:
            raise ConfigError(f"cannot read latency file {path}: {exc.strerror}") from None
        return cls(entry, response, seed=seed, source=str(path))

    def entry_ns(self) -> int:
        return self._rng.choice(self._entry)

    def cancel_ns(self) -> int:
        return self._rng.choice(self._entry)

    def response_ns(self) -> int:
        return self._rng.choice(self._response)
