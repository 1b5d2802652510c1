"""The live node's own order path, per stage, against the local Binance USD-M emulator.

A real `tradewright live` process (demo market maker, SQLite store, API on) trades on the emulator
replaying the bundled BTCUSDT recording; the node's latency probe stamps every order it sends in reaction
to a book update, on the monotonic clock:

    decode   venue update parsed -> handed to the book        (the node's `_on_book`)
    strategy book handed to the kernel -> the strategy asks to submit
    risk     the risk engine's checks
    journal  the intent committed to the store (commit before acting; SQLite FULL fsyncs here)
    send     handed to the venue client (the request is then written by its task: "on the wire")
and `tick_to_quote` (book -> send, everything above but decode) and `order_ack` (send -> the venue's
first answer, over loopback HTTP). Read from the node's `GET /api/v1/latency` after `--seconds`.
The figures on a shared 2-core machine are indicative; re-measure on a quiet one.

    python bench/live_latency.py [--seconds 60] [--speed 1] [--sqlite-sync FULL|NORMAL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from pathlib import Path

from _nodes import Emulator, live_node


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--speed", type=float, default=1.0, help="emulator replay speed")
    parser.add_argument("--sqlite-sync", choices=["FULL", "NORMAL"], default="FULL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tw-live-latency-") as tmp:
        folder = Path(tmp)
        emulator = Emulator(folder, args.speed)
        try:
            node, key = live_node(folder, emulator, sqlite_sync=args.sqlite_sync)
            try:
                time.sleep(args.seconds)
                request = urllib.request.Request(node.url + "/api/v1/latency",
                                                 headers={"Authorization": f"Bearer {key}"})
                with urllib.request.urlopen(request, timeout=10) as answer:
                    stats = json.loads(answer.read())
            finally:
                node.stop()
        finally:
            emulator.stop()
    print(f"live node on the emulator, {args.seconds:g} s at {args.speed:g}x, SQLite {args.sqlite_sync} "
          "(recent samples, µs)")
    print(f"{'stage':<16}{'samples':>9}{'p50':>10}{'p99':>10}{'max':>10}")
    for row in stats:
        cells = [("-" if row[k] is None else f"{row[k]:.1f}") for k in ("p50_us", "p99_us", "max_us")]
        print(f"{row['name']:<16}{row['count']:>9}{cells[0]:>10}{cells[1]:>10}{cells[2]:>10}")
    print(f"reproduce: python bench/live_latency.py --seconds {args.seconds:g} --speed {args.speed:g} "
          f"--sqlite-sync {args.sqlite_sync}")


if __name__ == "__main__":
    main()
