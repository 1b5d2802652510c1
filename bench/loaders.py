"""Loader speed: seconds to turn the recordings into columnar streams (median of --repeats, warm).

python bench/loaders.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import REPO, peak_rss_mb, report, shared

from tradewright.data.binance import load_binance
from tradewright.data.es_bench import load_es_l2


def timed(fn, repeats: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    fn()  # warm: compiled kernels loaded, file in the page cache
    runs = []
    rows = 0
    for _ in range(repeats):
        start = time.perf_counter()
        rows = len(fn())
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    usdm = REPO / "data" / "binance" / "binance_usdm_btcusdt_20240808.jsonl.gz"
    es = shared("bench/es_l2_bench.csv.gz")
    for name, fn in (
        ("Binance USD-M BTCUSDT recording (93,954 messages)", lambda: load_binance(usdm)),
        ("CME ES bench CSV (1,095,088 rows)", lambda: load_es_l2(es)),
    ):
        seconds, rows = timed(fn, args.repeats)
        report(
            name,
            [
                ("median load", f"{seconds:.3f} s"),
                ("rows", f"{rows:,}"),
                ("rows/s", f"{rows / seconds:,.0f}"),
            ],
        )
    report("whole process", [("peak RSS", f"{peak_rss_mb():,.0f} MB")])


if __name__ == "__main__":
    main()
