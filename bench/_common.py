"""Shared helpers for the benchmarks: the two benchmark streams, timing, peak memory."""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tradewright.model.columnar import COLUMNS, KIND_CLEAR, KIND_DELTA, MarketStream

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
PROCESS_START = time.perf_counter()


def shared(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        sys.exit(f"benchmark needs ../shared/data/{relative}, which is not present")
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def own_peak_rss_mb() -> float:
    """This process's own high-water mark (VmHWM). Unlike ru_maxrss, which Linux carries over from the
    parent at fork, it counts only this program's memory, so a child started by a big parent is fair."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mb()


def es_stream() -> MarketStream:
    """CME ES L2 bench stream: 1,095,088 rows (1,043,119 level updates, 50,507 trades)."""
    from tradewright.data.es_bench import load_es_l2

    return load_es_l2(shared("bench/es_l2_bench.csv.gz"))


def binance_stream(copies: int = 3) -> MarketStream:
    """>= 1 M level updates from the Binance USD-M BTCUSDT recording: the whole recording `copies` times,
    each copy shifted by the recording's span + 1 s. Every copy starts with the recording's REST snapshot
    (a KIND_CLEAR row and its levels), so the book is rebuilt from scratch at each copy boundary."""
    from tradewright.data.binance import load_binance

    one = load_binance(REPO / "data" / "binance" / "binance_usdm_btcusdt_20240808.jsonl.gz")
    first_clear = int(np.flatnonzero(one.kind == KIND_CLEAR)[0])
    one = one.slice(first_clear, len(one))
    span = int(one.ts_recv[-1] - one.ts_recv[0]) + 1_000_000_000
    cols = {}
    for name in COLUMNS:
        col = one.column(name)
        if name in ("ts_recv", "ts_event"):
            cols[name] = np.concatenate([col + i * span for i in range(copies)])
        else:
            cols[name] = np.concatenate([col] * copies)
    return MarketStream(one.instrument, source=f"{one.source} x{copies}", **cols)


def level_updates(stream: MarketStream) -> int:
    return int(np.count_nonzero(stream.kind == KIND_DELTA))


def median_run(fn: Callable[[], float], repeats: int) -> tuple[float, list[float]]:
    times = [fn() for _ in range(repeats)]
    return statistics.median(times), times


def report(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n== {title}")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
