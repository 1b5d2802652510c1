"""Peak memory of backtests as the data grows: chunked replay from Parquet keeps it flat.

Data files are built by repetition in a temporary folder (never committed; removed at the end),
each copy shifted in time by the original's span + 1 s, written chunk by chunk (memory holds one copy):

  es1     the ES L2 bench stream (../shared/data/bench/es_l2_bench.csv.gz, 1,095,089 rows)
  es10    the same repeated 10 times (10,950,890 rows)
  day     the bundled Binance USD-M BTCUSDT recording (598,754 rows; each copy starts with its REST
          snapshot) repeated 84 times: 50,295,336 rows, about a day of Binance BTCUSDT-scale traffic

Each scenario runs in a fresh process; its peak RSS (the kernel's high-water mark for that process)
is printed, with the ratio of the 10x stream to the original:

  es-csv-mm       the ES market maker of bench/mm_backtest.py on the CSV loaded whole (for reference)
  es1-mm, es10-mm the same market maker replaying es1 / es10 from Parquet in chunks
  es1-replay, es10-replay   the replay with no strategy (bench/anchors.py B) from Parquet in chunks
  day-mm          the demo's market maker (examples/demo_mm.toml parameters) over the 50 M-row day

    python bench/memory.py [--scenarios es-csv-mm,es1-mm,es10-mm,es1-replay,es10-replay,day-mm]
                           [--day-copies 84] [--chunk-rows 262144]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
from _common import REPO, es_stream, own_peak_rss_mb

from tradewright.data.cache import iter_stream, read_summary, write_stream_chunks
from tradewright.model.columnar import COLUMNS, KIND_CLEAR, MarketStream

SCENARIOS = ("es-csv-mm", "es1-mm", "es10-mm", "es1-replay", "es10-replay", "day-mm")
MS = 1_000_000


def repeated(one: MarketStream, copies: int) -> Iterator[MarketStream]:
    """`copies` time-shifted copies of a stream, one at a time."""
    span = int(one.ts_recv[-1] - one.ts_recv[0]) + 1_000_000_000
    for i in range(copies):
        cols = {name: one.column(name) for name in COLUMNS}
        cols["ts_recv"] = cols["ts_recv"] + i * span
        cols["ts_event"] = cols["ts_event"] + i * span
        yield MarketStream(one.instrument, source=f"{one.source} copy {i + 1}", **cols)


def build(folder: Path, day_copies: int) -> dict[str, Path]:
    from tradewright.data.binance import load_binance

    paths = {"es1": folder / "es1.parquet", "es10": folder / "es10.parquet", "day": folder / "day.parquet"}
    es = es_stream()
    write_stream_chunks([es], paths["es1"])
    write_stream_chunks(repeated(es, 10), paths["es10"])
    del es
    one = load_binance(REPO / "data" / "binance" / "binance_usdm_btcusdt_20240808.jsonl.gz")
    first_clear = int(np.flatnonzero(one.kind == KIND_CLEAR)[0])
    write_stream_chunks(repeated(one.slice(first_clear, len(one)), day_copies), paths["day"])
    return paths


def run_scenario(name: str, paths: dict[str, str], chunk_rows: int) -> dict[str, object]:
    """Child process: run one scenario, return its figures."""
    sys.path.insert(0, str(REPO / "examples"))
    from symmetric_mm import SymmetricMarketMaker, SymmetricMMConfig

    from tradewright.backtest.engine import BacktestEngine
    from tradewright.sim.latency import ConstantLatency

    t0 = time.perf_counter()
    if name == "es-csv-mm":
        source: MarketStream | Iterator[MarketStream] = es_stream()
        inst = source.instrument
    else:
        path = Path(paths["day" if name == "day-mm" else name.split("-")[0]])
        inst = read_summary(path).instrument
        source = iter_stream(path, chunk_rows=chunk_rows)
    if name == "day-mm":
        engine = BacktestEngine(
            source,
            starting_balance=Decimal(10_000),
            latency=ConstantLatency(2 * MS, 2 * MS),
            market_data_latency_ns=MS,
        )
        cfg = SymmetricMMConfig(size=Decimal("0.002"), max_position=Decimal("0.010"), offset_ticks=0)
    else:
        engine = BacktestEngine(source, starting_balance=Decimal(0), latency=ConstantLatency(MS, MS))
        cfg = SymmetricMMConfig(size=inst.lot_size, max_position=inst.lot_size * 5, offset_ticks=0)
    if name.endswith("-mm"):
        engine.add_strategy(SymmetricMarketMaker("MM", [inst.id], cfg))
    result = engine.run()
    return {
        "rows": result.rows,
        "orders": len(result.kernel.orders.all_orders),
        "fills": len(result.recorder.fills),
        "run_s": result.wall_seconds,
        "process_s": time.perf_counter() - t0,
    }


def spawn(name: str, paths: dict[str, Path], chunk_rows: int) -> dict[str, object]:
    arg = json.dumps({k: str(v) for k, v in paths.items()})
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", name, "--paths", arg, "--chunk-rows", str(chunk_rows)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"{name} failed:\n{err[-3000:]}")
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--day-copies", type=int, default=84)
    parser.add_argument("--chunk-rows", type=int, default=1 << 18)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = run_scenario(args.child, json.loads(args.paths), args.chunk_rows)
        result["peak_rss_mb"] = own_peak_rss_mb()
        print(json.dumps(result))
        return
    wanted = [s for s in args.scenarios.split(",") if s]
    for s in wanted:
        if s not in SCENARIOS:
            sys.exit(f"unknown scenario {s!r}; choose from {', '.join(SCENARIOS)}")
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="tw-memory-") as tmp:
        t0 = time.perf_counter()
        paths = build(Path(tmp), args.day_copies)
        sizes = ", ".join(f"{k} {p.stat().st_size / 2**20:,.0f} MB" for k, p in paths.items())
        print(f"built the data files in {time.perf_counter() - t0:.0f} s ({sizes})", flush=True)
        for name in wanted:
            results[name] = spawn(name, paths, args.chunk_rows)
            r = results[name]
            print(
                f"{name:<12} {r['rows']:>12,} rows  peak RSS {r['peak_rss_mb']:>7,.0f} MB  "
                f"orders {r['orders']:>9,}  fills {r['fills']:>8,}  run {r['run_s']:.1f} s",
                flush=True,
            )
    print(f"\n== peak RSS, chunk {args.chunk_rows:,} rows, {os.cpu_count()} CPUs")
    for a, b in (("es1-mm", "es10-mm"), ("es1-replay", "es10-replay")):
        if a in results and b in results:
            ra, rb = float(results[a]["peak_rss_mb"]), float(results[b]["peak_rss_mb"])  # type: ignore[arg-type]
            print(f"  {b} / {a}: {rb:,.0f} / {ra:,.0f} MB = {rb / ra:.2f}x  (target <= 1.2x)")
    if "day-mm" in results:
        print(
            f"  day-mm: {results['day-mm']['rows']:,} rows in {float(results['day-mm']['peak_rss_mb']):,.0f} MB  (target <= 1 GB)"
        )  # type: ignore[arg-type]
    if "es-csv-mm" in results:
        print(
            f"  es-csv-mm (CSV loaded whole): {float(results['es-csv-mm']['peak_rss_mb']):,.0f} MB  (target <= 250 MB)"
        )  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
