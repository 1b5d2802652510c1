"""tradewright side by side with the engines users come from, on the same data and the same rules.

Benchmarks (data: ../shared/data/bench; the CME ES L2 stream of 1,095,089 rows and the 540,372 BTC
one-minute bars that the anchor figures in issue 12 were measured on):

  A  market maker: quote 1 lot post-only at the best bid and the best ask, cancel/replace a side when
     its touch price moves (and re-quote at once when a quote fills or is cancelled), |position| <= 5
     lots, 1 ms order latency and 1 ms response latency, zero fees, PnL = cash + position x final mid
     x 50 USD per point. tradewright runs it twice: strategy called on touch changes only (A-touch)
     and after every book message (A-every, as NautilusTrader and hftbacktest call theirs).
  B  replay the stream with no strategy, reading the top of book at the end.
  C  SMA(10)/SMA(30) cross on close, long-only, all in / all out, zero fees, filled at the next open.

Each (engine, benchmark) runs in a fresh process; loading the data, building the engine's objects
and JIT warm-up are timed apart from the run. Rounds interleave the engines (round 1: A on every
engine, B on every engine, ...; then round 2), so a busy machine slows all of them alike and the
ratios stay meaningful. Printed: median run figures, the ratios, each engine's outcome (orders,
fills, position, PnL), set-up times, whole-process time and peak RSS.

Anchors are optional (`pip install -e ".[anchors]"`, in a virtualenv of their own: they pin older
numpy/pandas); one that is not installed is skipped with a note.

    python bench/anchors.py [--rounds 3] [--engines tradewright,nautilus,hftbacktest,vectorbt]
                            [--benchmarks A-touch,A-every,B-replay,C-sma] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ENGINES = {
    # engine: (module that must import, bench module, label, its cases)
    "tradewright": (
        "tradewright",
        "_anchor_tradewright",
        "tradewright",
        ("A-touch", "A-every", "B-replay", "C-sma"),
    ),
    "nautilus": ("nautilus_trader", "_anchor_nautilus", "NautilusTrader", ("A-every", "B-replay", "C-sma")),
    "hftbacktest": ("hftbacktest", "_anchor_hftbacktest", "hftbacktest", ("A-every", "B-replay")),
    "vectorbt": ("vectorbt", "_anchor_vectorbt", "vectorbt", ("C-sma",)),
}
BENCHMARKS = ("A-touch", "A-every", "B-replay", "C-sma")
# Which anchor case each tradewright benchmark is compared with (anchors call their strategy on every
# book message whichever way tradewright is run, so both A rows compare with their one A run).
COMPARE = {"A-touch": "A-every", "A-every": "A-every", "B-replay": "B-replay", "C-sma": "C-sma"}


def run_case(engine: str, case: str) -> None:
    """Child process: run one case and print its result as JSON on the last line."""
    sys.path.insert(0, str(BENCH))
    from _common import own_peak_rss_mb

    module = __import__(ENGINES[engine][1])
    result: dict[str, Any] = module.CASES[case]()
    result["peak_rss_mb"] = own_peak_rss_mb()
    print(json.dumps(result))


def cases_of(engine: str) -> tuple[str, ...]:
    return ENGINES[engine][3]  # listed here: the parent process imports no engine


def spawn(engine: str, case: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--run", f"{engine}:{case}"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"error": f"exit {proc.returncode}: {tail}", "process_s": wall}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    return result


def _fmt_rate(x: float) -> str:
    return f"{x / 1e6:.2f} M/s" if x >= 1e6 else f"{x / 1e3:,.1f} k/s"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--benchmarks", default=",".join(BENCHMARKS))
    parser.add_argument("--json", help="also write every run's figures to this file")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # ENGINE:CASE, the child process
    args = parser.parse_args()
    if args.run:
        engine, case = args.run.split(":")
        run_case(engine, case)
        return

    engines: list[str] = []
    for name in args.engines.split(","):
        if name not in ENGINES:
            sys.exit(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
        if importlib.util.find_spec(ENGINES[name][0]) is None:
            print(f"skipped {ENGINES[name][2]}: not installed (pip install -e '.[anchors]')")
            continue
        engines.append(name)
    wanted = [b for b in args.benchmarks.split(",") if b]
    plan: list[tuple[str, str]] = []  # (benchmark, engine) in the order one round runs them
    for bench in wanted:
        for engine in engines:
            case = bench if engine == "tradewright" else COMPARE[bench]
            if case in cases_of(engine) and (bench, engine) not in plan:
                if engine != "tradewright" and any(e == engine and COMPARE[b] == case for b, e in plan):
                    continue  # one anchor run serves both A rows
                plan.append((bench, engine))
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {key: [] for key in plan}
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for r in range(args.rounds):
        for bench, engine in plan:
            result = spawn(engine, COMPARE[bench] if engine != "tradewright" else bench)
            runs[(bench, engine)].append(result)
            rate = result["events"] / result["run_s"] if "run_s" in result else 0.0
            status = result.get("error") or f"{_fmt_rate(rate)} ({result['run_s']:.3f} s run)"
            if "run_cpu_s" in result:  # tradewright reports CPU time too: comparable on a busy machine
                status += (
                    f"; CPU {_fmt_rate(result['events'] / result['run_cpu_s'])} ({result['run_cpu_s']:.3f} s)"
                )
            print(f"round {r + 1}: {bench:<8} {ENGINES[engine][2]:<15} {status}", flush=True)

    def median_rate(key: tuple[str, str]) -> float | None:
        ok = [x for x in runs.get(key, []) if "run_s" in x]
        return statistics.median(x["events"] / x["run_s"] for x in ok) if ok else None

    print(f"\n== medians of {args.rounds} interleaved rounds, {started}, {os.cpu_count()} CPUs")
    for bench in wanted:
        tw = median_rate((bench, "tradewright"))
        line = f"{bench:<8} tradewright {_fmt_rate(tw) if tw else '-':>10}"
        for engine in engines[1:] if engines and engines[0] == "tradewright" else engines:
            key = next(((b, e) for b, e in plan if e == engine and COMPARE[b] == COMPARE[bench]), None)
            rate = median_rate(key) if key else None
            if rate:
                ratio = f" = tradewright x{tw / rate:.1f}" if tw else ""
                line += f" | {ENGINES[engine][2]} {_fmt_rate(rate)}{ratio}"
        print(line)
    print(
        "\n== per engine and benchmark (medians): load / build / JIT warm-up / run; whole process; peak RSS"
    )
    for bench, engine in plan:
        ok = [x for x in runs[(bench, engine)] if "run_s" in x]
        if not ok:
            print(f"{bench:<8} {ENGINES[engine][2]:<15} failed: {runs[(bench, engine)][0].get('error')}")
            continue

        def med(field: str, rows: list[dict[str, Any]] = ok) -> float:
            return statistics.median(x.get(field, 0.0) for x in rows)

        print(
            f"{bench:<8} {ENGINES[engine][2]:<15} load {med('load_s'):.2f} s, build {med('build_s'):.2f} s, "
            f"warm-up {med('warmup_s'):.2f} s, run {med('run_s'):.3f} s ({ok[0]['events']:,} events); "
            f"process {med('process_s'):.1f} s; {med('peak_rss_mb'):,.0f} MB"
        )
        if "run_cpu_s" in ok[0]:
            cpu = med("run_cpu_s")
            print(f"{'':<8} {'':<15} run CPU {cpu:.3f} s = {_fmt_rate(ok[0]['events'] / cpu)} (median)")
        print(f"{'':<8} {'':<15} outcome: {json.dumps(ok[-1]['outcome'])}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({f"{b}|{e}": v for (b, e), v in runs.items()}, indent=1), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
