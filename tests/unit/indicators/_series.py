"""Run a streaming indicator over arrays and compare it with a reference, NaN positions included."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tests.conftest import shared_data
from tradewright.data.bars import BarSeries, load_bars

RTOL = 1e-9

# At least three real bar files of different shape: US equity daily, CME future 1-minute (prices
# near 1.1 in 0.00005 ticks), a 2017 alt/BTC pair at 0.0016 BTC (long flat stretches), FTX perp 1-minute.
BAR_FILES: dict[str, tuple[str, str | None]] = {
    "nvda-daily": ("bars/backtrader/nvda-1999-2014.txt", None),
    "6EH4-1m": ("bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz", "close"),
    "unittest-btc-1m": ("bars/freqtrade/UNITTEST_BTC-1m.feather", None),
    "btc-perp-1m": ("bars/nautilus/btc-perp-20211231-20220201_1m.csv.gz", None),
    "gbpusd-bid-1m": ("bars/nautilus/gbpusd-m1-bid-2012.csv.gz", None),
}


def load(name: str) -> BarSeries:
    relative, stamped_at = BAR_FILES[name]
    return load_bars(shared_data(relative), stamped_at=stamped_at)  # type: ignore[arg-type]


def stream(
    n: int,
    inputs: Sequence[np.ndarray],
    update: Callable[..., None],
    read: Callable[[], float],
    ready: Callable[[], bool],
) -> np.ndarray:
    """Feed row i of `inputs` to `update` and record `read()` once `ready()`, else NaN."""
    out = np.full(n, np.nan)
    columns = [column.tolist() for column in inputs]
    for i, row in enumerate(zip(*columns, strict=True)):
        update(*row)
        if ready():
            out[i] = read()
    return out


@dataclass
class Comparison:
    max_rel_error: float
    compared: int


def compare(ours: np.ndarray, ref: np.ndarray, *, atol: float) -> Comparison:
    """Assert NaN positions agree and |ours - ref| <= RTOL * max(|ref|, atol / RTOL); return the worst error."""
    ours_defined = ~np.isnan(ours)
    ref_defined = ~np.isnan(ref)
    mismatched = np.flatnonzero(ours_defined != ref_defined)
    assert len(mismatched) == 0, (
        f"defined at different rows, first {mismatched[:5]}: ours {ours[mismatched[:5]]}, ref {ref[mismatched[:5]]}"
    )
    a, b = ours[ref_defined], ref[ref_defined]
    assert len(b) > 0, "the reference produced no values"
    scale = np.maximum(np.abs(b), atol / RTOL)
    rel = np.abs(a - b) / scale
    worst = int(np.argmax(rel))
    assert rel[worst] <= RTOL, (
        f"row {np.flatnonzero(ref_defined)[worst]}: ours {a[worst]!r}, ref {b[worst]!r}"
    )
    return Comparison(float(rel.max()), len(b))
