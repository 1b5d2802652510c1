"""The demo's first run, as a new user meets it: whole process, cold and warm.

`tradewright backtest examples/demo_mm.toml` is run as a fresh process each time:

  cold  — as after a fresh install: numba's cache empty and no compiled Python bytecode
          (NUMBA_CACHE_DIR and PYTHONPYCACHEPREFIX point at a new empty folder each round), so the
          process compiles every numba function the demo uses and every module it imports;
  warm  — the same command again with that cache in place (what every later run costs).

Whole process = from starting the command to its exit (interpreter start, imports, loading the
recording, compiling or loading compiled code, the replay, the run folder and the report). Printed:
the median of --rounds of each, with its CPU time (user + system: what a loaded machine inflates least)
and peak RSS; the demo's fills and orders are checked to be the same in every run.

    python bench/first_run.py [--rounds 3] [--warm 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "examples" / "demo_mm.toml"


def _tradewright() -> list[str]:
    exe = Path(sys.executable).with_name("tradewright")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "tradewright.cli.main"]


def one_run(cache: Path, out: Path) -> tuple[float, float, float, str]:
    """Run the demo once; return (wall s, CPU s, peak RSS MB, digest of fills.csv + orders.csv)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache / "numba"), "PYTHONPYCACHEPREFIX": str(cache / "pyc")}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*_tradewright(), "backtest", str(CONFIG), "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr is not None else ""
        sys.exit(f"the demo failed:\n{err}")
    digest = hashlib.sha256((out / "fills.csv").read_bytes() + (out / "orders.csv").read_bytes()).hexdigest()
    shutil.rmtree(out)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, digest


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="cold runs (each with a new empty cache)")
    parser.add_argument("--warm", type=int, default=3, help="warm runs after each cold one")
    args = parser.parse_args()
    cold: list[tuple[float, float, float]] = []
    warm: list[tuple[float, float, float]] = []
    digests: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="tw-first-run-") as tmp:
        for r in range(args.rounds):
            cache = Path(tmp) / f"cache{r}"
            wall, cpu, rss, digest = one_run(cache, Path(tmp) / "run")
            cold.append((wall, cpu, rss))
            digests.add(digest)
            print(f"round {r + 1}: cold {wall:.2f} s (CPU {cpu:.2f} s, {rss:,.0f} MB)", end="", flush=True)
            for _ in range(args.warm):
                wall, cpu, rss, digest = one_run(cache, Path(tmp) / "run")
                warm.append((wall, cpu, rss))
                digests.add(digest)
                print(f", warm {wall:.2f} s (CPU {cpu:.2f} s)", end="", flush=True)
            print()
    print(
        f"\n== the demo (`tradewright backtest examples/demo_mm.toml`), whole process, {os.cpu_count()} CPUs"
    )
    for name, runs in (("cold (empty numba cache, no bytecode)", cold), ("warm", warm)):
        print(
            f"  {name}: median {statistics.median(w for w, _, _ in runs):.2f} s, "
            f"CPU {statistics.median(c for _, c, _ in runs):.2f} s, "
            f"peak RSS {statistics.median(m for _, _, m in runs):,.0f} MB  "
            f"(runs: {', '.join(f'{w:.2f}' for w, _, _ in runs)}; load average {os.getloadavg()[0]:.1f})"
        )
    print(f"  fills.csv + orders.csv identical in every run: {'yes' if len(digests) == 1 else 'NO'}")


if __name__ == "__main__":
    main()
