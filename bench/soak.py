"""Soak: a live node quoting on the Binance USD-M emulator for a long stretch while faults are injected at
random, sampled for memory and open files, then stopped and compared with the venue.

A real `tradewright live` process (demo market maker, SQLite store, API on) trades on the emulator replaying
the bundled BTCUSDT recording at --speed. Every --fault-every seconds one fault, drawn from a seeded random
generator, is armed through the emulator's /_admin/faults (5xx after execution, 429 burst, dropped user-stream
frames, delayed frames, a sequence gap, order rejects, a disconnect). Every 5 s the node's resident memory
(VmRSS) and open file descriptors (sockets and files: a leaked connection or task shows here) are read from
/proc. At the end the faults are lifted, the node gets SIGTERM, and its store is compared with the venue:
every venue order recorded, the same fills once each, the same position, nothing open.

Memory is judged after the warm-up: the median RSS of the last quarter against that of the second quarter
(growth above --max-growth-pct fails), and likewise open descriptors (more than +20 fails). Exit code 1 on any
problem. Figures on a shared 2-core machine are indicative.

    python bench/soak.py [--seconds 1800] [--speed 10] [--fault-every 5] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
import urllib.request
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from _nodes import Emulator, live_node

FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("5xx after execution", {"http_error": 2, "http_error_after_execute": True}),
    ("429 burst", {"http_429": 3}),
    ("dropped user-stream frames", {"ws_drop": 2, "ws_drop_match": "ORDER_TRADE"}),
    ("delayed frames", {"ws_delay_ms": 200}),
    ("sequence gap", {"depth_gap": 1}),
    ("order rejects", {"reject_orders": 2}),
    ("disconnect", {"close_ws": True}),
]


def admin(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"null")


def proc_sample(pid: int) -> tuple[float, int] | None:
    """(resident MB, open descriptors) of a live process, or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kb / 1024, fds


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def compare(store: Path, venue: Path) -> list[str]:
    """What differs between the node's store and the emulator's state (empty: they agree)."""
    problems = []
    venue_ids = [r[0] for r in rows(venue, "SELECT client_order_id FROM orders")]
    stored = {r[0] for r in rows(store, "SELECT client_order_id FROM orders")}
    if len(venue_ids) != len(set(venue_ids)):
        problems.append("the venue saw a client order id twice")
    if not set(venue_ids) <= stored:
        problems.append(f"{len(set(venue_ids) - stored)} venue orders never recorded in the store")
    venue_fills = Counter(
        (str(t), c)
        for t, c in rows(
            venue, "SELECT f.trade_id, o.client_order_id FROM fills f JOIN orders o USING (order_id)"
        )
    )
    store_fills = Counter((str(t), c) for t, c in rows(store, "SELECT trade_id, client_order_id FROM fills"))
    if venue_fills != store_fills:
        problems.append(
            f"fills differ: venue only {venue_fills - store_fills}, store only {store_fills - venue_fills}"
        )
    pos = rows(venue, "SELECT amount FROM positions WHERE symbol = 'BTCUSDT'")
    mine = rows(store, "SELECT quantity FROM positions")
    venue_qty = Decimal(pos[0][0]) if pos else Decimal(0)
    store_qty = Decimal(mine[0][0]) if mine else Decimal(0)
    if venue_qty != store_qty:
        problems.append(f"position {store_qty} in the store, {venue_qty} at the venue")
    left = rows(venue, "SELECT count(*) FROM orders WHERE status IN ('NEW', 'PARTIALLY_FILLED')")[0][0]
    if left:
        problems.append(f"{left} orders left open at the venue after SIGTERM")
    return problems


def trend(samples: list[tuple[float, float, int]], index: int) -> tuple[float, float]:
    """Median of the second quarter and of the last quarter of one sampled series."""
    n = len(samples)
    second = [s[index] for s in samples[n // 4 : n // 2]] or [samples[0][index]]
    last = [s[index] for s in samples[3 * n // 4 :]] or [samples[-1][index]]
    return statistics.median(second), statistics.median(last)


def soak(
    seconds: float, speed: float, fault_every_s: float, seed: int, max_growth_pct: float
) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="tw-soak-") as tmp:
        folder = Path(tmp)
        emulator = Emulator(folder, speed)
        try:
            node, key = live_node(folder, emulator)
            samples: list[tuple[float, float, int]] = []
            armed: Counter[str] = Counter()
            try:
                start = time.monotonic()
                next_fault = start + fault_every_s
                next_sample = start
                while (now := time.monotonic()) < start + seconds:
                    if node.proc.poll() is not None:
                        raise RuntimeError(f"the node exited ({node.proc.returncode}) during the soak")
                    if now >= next_sample:
                        got = proc_sample(node.proc.pid)
                        if got is not None:
                            samples.append((now - start, *got))
                        next_sample += 5.0
                    if now >= next_fault:
                        name, settings = rng.choice(FAULTS)
                        admin(emulator.port, "DELETE", "/_admin/faults")
                        admin(emulator.port, "POST", "/_admin/faults", dict(settings))
                        armed[name] += 1
                        next_fault += fault_every_s
                    time.sleep(0.2)
                admin(emulator.port, "DELETE", "/_admin/faults")
                fired = admin(emulator.port, "GET", "/_admin/faults")["fired"]
                time.sleep(5.0)  # clean reconciliations before the stop
                request = urllib.request.Request(
                    node.url + "/api/v1/latency", headers={"Authorization": f"Bearer {key}"}
                )
                with urllib.request.urlopen(request, timeout=10) as answer:
                    latency = json.loads(answer.read())
            finally:
                node.stop()
            code = node.proc.returncode
        finally:
            emulator.stop()
        problems = compare(folder / "live.sqlite", folder / "emu.sqlite")
        orders = rows(folder / "emu.sqlite", "SELECT count(*) FROM orders")[0][0]
        fills = rows(folder / "emu.sqlite", "SELECT count(*) FROM fills")[0][0]
    if code != 0:
        problems.append(f"the node exited {code} on SIGTERM")
    rss_mid, rss_end = trend(samples, 1)
    fd_mid, fd_end = trend(samples, 2)
    growth_pct = 100.0 * (rss_end - rss_mid) / rss_mid
    if growth_pct > max_growth_pct:
        problems.append(f"memory grew {growth_pct:.1f} % after warm-up ({rss_mid:.1f} -> {rss_end:.1f} MB)")
    if fd_end - fd_mid > 20:
        problems.append(f"open descriptors grew {fd_mid:.0f} -> {fd_end:.0f}")
    return {
        "seconds": seconds,
        "speed": speed,
        "seed": seed,
        "samples": len(samples),
        "rss_mb": {"start": samples[0][1], "mid": rss_mid, "end": rss_end, "max": max(s[1] for s in samples)},
        "rss_growth_pct": growth_pct,
        "open_fds": {"start": samples[0][2], "mid": fd_mid, "end": fd_end},
        "faults_armed": dict(armed),
        "faults_fired": fired,
        "venue_orders": orders,
        "venue_fills": fills,
        "latency_us": {
            r["name"]: {k: r[k] for k in ("count", "p50_us", "p99_us", "max_us")} for r in latency
        },
        "problems": problems,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("TRADEWRIGHT_SOAK_S", "1800")))
    parser.add_argument("--speed", type=float, default=10.0, help="emulator replay speed")
    parser.add_argument("--fault-every", type=float, default=5.0, help="seconds between injected faults")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-growth-pct", type=float, default=15.0)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    result = soak(args.seconds, args.speed, args.fault_every, args.seed, args.max_growth_pct)
    if args.json:
        print(json.dumps(result))
        return 1 if result["problems"] else 0
    rss = result["rss_mb"]
    print(
        f"soak: {args.seconds:g} s at {args.speed:g}x, a fault every {args.fault_every:g} s (seed {args.seed})"
    )
    print(
        f"  venue: {result['venue_orders']} orders, {result['venue_fills']} fills; faults armed {result['faults_armed']}"
    )
    print(
        f"  memory (VmRSS): start {rss['start']:.1f} MB, after warm-up {rss['mid']:.1f}, end {rss['end']:.1f}, "
        f"max {rss['max']:.1f} ({result['rss_growth_pct']:+.1f} % after warm-up)"
    )
    fds = result["open_fds"]
    print(f"  open descriptors: start {fds['start']}, after warm-up {fds['mid']:.0f}, end {fds['end']:.0f}")
    for name, row in result["latency_us"].items():
        cells = ["-" if row[k] is None else f"{row[k]:.0f}" for k in ("p50_us", "p99_us", "max_us")]
        print(
            f"  latency {name:<14} n={row['count']:<6} p50 {cells[0]:>7} µs  p99 {cells[1]:>7} µs  max {cells[2]:>7} µs"
        )
    print(
        "  state equals the venue: "
        + ("yes" if not result["problems"] else "NO: " + "; ".join(result["problems"]))
    )
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
