"""Sweep scaling: a 64-trial sweep of the demo on local processes (1 worker, then one per core) and on
`--ray local`, measured from the outside as a user runs it.

The grid is strategy.params.offset_ticks=0..7 x strategy.params.size=0.001..0.008 (64 backtests of
examples/demo_mm.toml). Each sweep is a fresh `tradewright sweep` process; while it runs, this script
samples every process in its tree (the workers) twice a second and watches results.jsonl grow.

Printed per mode: whole wall time; steady-state throughput (trials between the first and the last
result, which leaves out start-up: interpreter and imports, and for Ray its cluster start); trials/s
per core; each worker's peak RSS, and its RSS after its first trial vs at the end (flat = no growth
from trial to trial). Ray's start-up is the time to its first result minus local's.

    python bench/sweep.py [--trials 64] [--modes 1,2,ray]
"""

from __future__ import annotations

import argparse
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


def _grid(trials: int) -> list[str]:
    offsets = 8 if trials >= 8 else trials
    sizes = max(1, trials // offsets)
    return [
        "--grid",
        f"strategy.params.offset_ticks=0..{offsets - 1}",
        "--grid",
        "strategy.params.size=" + ",".join(f"0.00{i + 1}" for i in range(sizes)),
    ]


def _tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(c) for c in children)
    return out


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def run_mode(mode: str, trials: int, folder: Path) -> dict[str, object]:
    out = folder / f"sweep-{mode}"
    exe = Path(sys.executable).with_name("tradewright")
    cmd = [str(exe), "sweep", str(CONFIG), *_grid(trials), "--out", str(out), "--quiet"]
    cmd += ["--ray", "local"] if mode == "ray" else ["--workers", mode]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO)
    results = out / "results.jsonl"
    done_at: list[float] = []
    workers: dict[int, list[tuple[int, float]]] = {}  # pid -> [(results seen, rss)]
    while proc.poll() is None:
        seen = len(results.read_text().splitlines()) if results.exists() else 0
        while len(done_at) < seen:
            done_at.append(time.perf_counter() - start)
        for pid in _tree(proc.pid)[1:]:
            line = _cmdline(pid)
            if "python" not in line and "ray::" not in line:
                continue
            rss = _rss_mb(pid)
            if rss is not None:
                workers.setdefault(pid, []).append((seen, rss))
        time.sleep(0.5)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr is not None else ""
        sys.exit(f"sweep {mode} failed:\n{err[-3000:]}")
    seen = len(results.read_text().splitlines())
    while len(done_at) < seen:
        done_at.append(wall)
    # Workers: processes that lived through at least two results (not short helpers).
    busy = {pid: s for pid, s in workers.items() if s[-1][0] - s[0][0] >= 2}
    peaks = [max(r for _, r in s) for s in busy.values()]
    growth = [s[-1][1] - next((r for n, r in s if n >= 1), s[0][1]) for s in busy.values()]
    shutil.rmtree(out, ignore_errors=True)
    steady = (len(done_at) - 1) / (done_at[-1] - done_at[0]) if len(done_at) > 1 else 0.0
    return {
        "trials": seen,
        "wall_s": wall,
        "first_result_s": done_at[0] if done_at else wall,
        "steady_trials_per_s": steady,
        "workers": len(busy),
        "worker_peak_mb": statistics.median(peaks) if peaks else 0.0,
        "worker_growth_mb": max(growth) if growth else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--modes", default=f"1,{os.cpu_count()},ray")
    args = parser.parse_args()
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="tw-sweep-") as tmp:
        for mode in args.modes.split(","):
            r = results[mode] = run_mode(mode, args.trials, Path(tmp))
            print(f"{mode:>4}: {r}", flush=True)
    print(f"\n== {args.trials}-trial sweep of the demo, {os.cpu_count()} CPUs")
    for mode, r in results.items():
        cores = os.cpu_count() or 1 if mode == "ray" else int(mode)
        steady = float(r["steady_trials_per_s"])  # type: ignore[arg-type]
        print(
            f"  {'--ray local' if mode == 'ray' else f'--workers {mode}':<12} wall {float(r['wall_s']):6.1f} s, "  # type: ignore[arg-type]
            f"first result {float(r['first_result_s']):5.1f} s, steady {steady:.2f} trials/s = "  # type: ignore[arg-type]
            f"{steady / cores:.2f} per core; {r['workers']} workers, peak {float(r['worker_peak_mb']):.0f} MB each, "  # type: ignore[arg-type]
            f"growth after the first trial {float(r['worker_growth_mb']):+.0f} MB"  # type: ignore[arg-type]
        )
    local = [m for m in results if m != "ray"]
    if "ray" in results and local:
        best = max(local, key=lambda m: float(results[m]["steady_trials_per_s"]))  # type: ignore[arg-type]
        ray, loc = results["ray"], results[best]
        ratio = float(loc["steady_trials_per_s"]) / max(float(ray["steady_trials_per_s"]), 1e-9)  # type: ignore[arg-type]
        startup = float(ray["first_result_s"]) - float(loc["first_result_s"])  # type: ignore[arg-type]
        print(
            f"  Ray after start-up: {ratio:.2f}x the time of --workers {best} (target <= 1.5x); Ray start-up ~{startup:.1f} s"
        )


if __name__ == "__main__":
    main()
