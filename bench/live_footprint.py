"""A live node's memory: what importing costs, and whether a running node grows.

1. Import cost, each in a fresh interpreter (RSS after the import minus RSS of a bare interpreter):
   `import ccxt.pro` alone (the venue library), `import tradewright.live.node`, and whether numba,
   llvmlite, pandas or pyarrow got loaded (they must not be).
2. A running node: `tradewright emulator serve` (the local Binance USD-M exchange, replaying the
   recording at --speed) and `tradewright live` quoting on it (the live-node tests' quoter). The node's
   RSS is sampled every 5 s for --minutes; printed: its peak, and its growth from the end of the first
   minute (start-up done) to the end. Nothing leaves 127.0.0.1; both processes are stopped at the end.

    python bench/live_footprint.py [--minutes 30] [--speed 0.2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PROBE = """
import json, sys
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
base = rss()
{imports}
print(json.dumps({{"mb": rss() - base, "total_mb": rss(),
  "heavy": sorted(m for m in ("numba", "llvmlite", "pandas", "pyarrow") if m in sys.modules)}}))
"""


def import_cost(imports: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def rss_of(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_node(minutes: float, speed: float) -> tuple[list[tuple[float, float]], str]:
    from tests.integration.crash.harness import Emulator, Node, write_config

    with tempfile.TemporaryDirectory(prefix="tw-live-") as tmp:
        folder = Path(tmp)
        emulator = Emulator(folder / "emu", speed=speed)
        node = None
        try:
            config = write_config(folder, emulator, f"sqlite:///{folder / 'node.sqlite'}")
            node = Node(config, folder / "node.log")
            samples: list[tuple[float, float]] = []
            start = time.perf_counter()
            while time.perf_counter() - start < minutes * 60:
                if node.proc.poll() is not None:
                    return samples, (folder / "node.log").read_text()[-2000:]
                rss = rss_of(node.proc.pid)
                if rss is not None:
                    samples.append((time.perf_counter() - start, rss))
                time.sleep(5)
            return samples, ""
        finally:
            if node is not None:
                node.proc.terminate()
                node.proc.wait(timeout=60)
            emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument(
        "--speed", type=float, default=0.2, help="emulator replay speed (0.2: 6 min of data last 30)"
    )
    args = parser.parse_args()
    bare = import_cost("")
    ccxt = import_cost("import ccxt.pro")
    node = import_cost("import tradewright.live.node")
    print("== import cost (fresh interpreter; RSS added by the import)")
    print(f"  bare interpreter:             {float(bare['total_mb']):6.0f} MB")  # type: ignore[arg-type]
    print(f"  import ccxt.pro alone:        {float(ccxt['mb']):+6.0f} MB")  # type: ignore[arg-type]
    print(
        f"  import tradewright.live.node: {float(node['mb']):+6.0f} MB (includes ccxt.pro); heavy modules: {node['heavy'] or 'none'}"
    )  # type: ignore[arg-type]
    print(f"  the node's own part:          {float(node['mb']) - float(ccxt['mb']):+6.0f} MB")  # type: ignore[arg-type]
    samples, failure = run_node(args.minutes, args.speed)
    if failure:
        sys.exit(f"the node stopped early:\n{failure}")
    peak = max(r for _, r in samples)
    after_start = next((r for t, r in samples if t >= 60), samples[0][1])
    print(f"\n== a live node quoting on the emulator for {args.minutes:g} min (speed {args.speed:g})")
    print(
        f"  peak RSS {peak:.0f} MB; RSS after the first minute {after_start:.0f} MB, at the end {samples[-1][1]:.0f} MB"
    )
    print(f"  growth after start-up: {samples[-1][1] - after_start:+.1f} MB  (target: <= 5 MB over 30 min)")


if __name__ == "__main__":
    main()
