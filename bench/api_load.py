"""The API under load on loopback, while the node keeps quoting.

Two runs of the same paper node (demo market maker on the bundled recording, API on): one unloaded, one
with `--rate` reads a second (an open-loop schedule over orders, positions, PnL, risk, book, fills,
system and the audit — a store read) plus `--ws` WebSocket clients subscribed to every channel. Reports
API latency p50/p95/p99 and errors, each store query behind the API (mean/p95/max, from the node's
/metrics summary... and its own timings), and the node's tick-to-quote p50/p99 in both runs (the node's
`GET /api/v1/latency`). The load generator runs in this process, the node in its own.

    python bench/api_load.py [--seconds 60] [--rate 200] [--ws 50] [--speed 3]

Bounded: each run lasts `--seconds` plus a short warm-up, and the client stops by itself.
The figures on a shared 2-core machine are indicative; re-measure on a quiet one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from _nodes import paper_node

CHANNELS = ["system", "orders", "fills", "positions", "pnl", "risk", "book", "quotes", "latency", "logs"]
PATHS = ["/api/v1/orders", "/api/v1/positions", "/api/v1/pnl/summary", "/api/v1/risk/state",
         "/api/v1/books/BTCUSDT-PERP.BINANCE?depth=20", "/api/v1/fills?limit=100", "/api/v1/system",
         "/api/v1/audit?limit=50"]


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ws_readers(url: str, key: str, clients: int, seconds: float, counts: Any) -> None:
    """In a child process: `clients` WebSocket subscribers reading everything for `seconds`."""

    async def one(i: int) -> None:
        uri = url.replace("http", "ws") + "/api/v1/ws"
        try:
            async with websockets.connect(uri, additional_headers={"Authorization": f"Bearer {key}"},
                                          max_queue=None) as ws:
                await ws.send(json.dumps({"op": "subscribe", "channels": CHANNELS}))
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    try:
                        await asyncio.wait_for(ws.recv(), 1.0)
                        counts[i] += 1
                    except TimeoutError:
                        continue
        except (OSError, websockets.WebSocketException):
            counts[i] = -abs(counts[i]) - 1  # dropped or refused: counted as negative

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(clients)))

    asyncio.run(main())


async def load(url: str, key: str, seconds: float, rate: float) -> dict[str, Any]:
    """An open-loop schedule of `rate` reads a second for `seconds`; requests still unanswered 15 s after
    the schedule ends are cancelled and counted (status 0)."""
    headers = {"Authorization": f"Bearer {key}"}
    latencies: list[float] = []
    errors: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10,
                                 limits=httpx.Limits(max_connections=64, max_keepalive_connections=64)) as client:
        async def one(path: str) -> None:
            started = time.perf_counter()
            try:
                answer = await client.get(path)
                status = answer.status_code
            except httpx.HTTPError:
                status = 0
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors[status] = errors.get(status, 0) + 1

        tasks: list[asyncio.Task[None]] = []
        t0 = time.perf_counter()
        n = int(seconds * rate)
        late = 0
        for i in range(n):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0:
                late += 1  # this machine cannot even send at the rate: say so
            if time.perf_counter() - t0 > seconds * 1.5:
                break
            tasks.append(asyncio.create_task(one(PATHS[i % len(PATHS)])))
        sent_s = time.perf_counter() - t0
        _, pending = await asyncio.wait(tasks, timeout=15)
        for task in pending:
            task.cancel()
        errors[0] = errors.get(0, 0) + len(pending)
    return {"latencies": latencies, "errors": errors, "elapsed": sent_s, "sent": len(tasks), "late": late}


def node_latency(url: str, key: str) -> dict[str, Any]:
    rows = httpx.get(url + "/api/v1/latency", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
    return {r["name"]: r for r in rows}


def store_summary(url: str, key: str) -> dict[str, tuple[float, float]]:
    text = httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {key}"}, timeout=10).text
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("tradewright_api_store_query_seconds_"):
            name, value = line.rsplit(" ", 1)
            query = name.split('query="')[1].split('"')[0]
            (sums if "_sum{" in name else counts)[query] = float(value)
    return {q: (counts[q], sums[q] / counts[q] if counts[q] else 0.0) for q in counts}





def run(seconds: float, rate: float, ws_clients: int, speed: float, loaded: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tw-api-load-") as tmp:
        api = {"read_rate_per_s": rate * 10}
        node, key = paper_node(Path(tmp), speed=speed, duration_s=seconds + 30, api=api)
        print(f"{'loaded' if loaded else 'unloaded'} run: node up at {node.url}", file=sys.stderr, flush=True)
        try:
            time.sleep(3.0)  # warm-up: the strategy quotes, the probe fills
            result: dict[str, Any] = {}
            if loaded:
                counts = multiprocessing.Array("q", ws_clients)
                readers = multiprocessing.Process(target=ws_readers, args=(node.url, key, ws_clients,
                                                                                  seconds + 2, counts))
                readers.start()
                time.sleep(2.0)
                result = asyncio.run(load(node.url, key, seconds, rate))
                readers.join(timeout=60)
                result["ws_messages"] = sum(max(c, 0) for c in counts)
                result["ws_dropped"] = sum(1 for c in counts if c < 0)
            else:
                time.sleep(seconds)
            result["node"] = node_latency(node.url, key)
            result["store"] = store_summary(node.url, key)
        finally:
            node.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0, help="reads per second")
    parser.add_argument("--ws", type=int, default=50, help="WebSocket clients")
    parser.add_argument("--speed", type=float, default=3.0, help="replay speed of the paper node")
    args = parser.parse_args()
    idle = run(args.seconds, args.rate, args.ws, args.speed, loaded=False)
    busy = run(args.seconds, args.rate, args.ws, args.speed, loaded=True)
    lat = [x * 1e3 for x in busy["latencies"]]
    print(f"API load on loopback: {busy['sent']} reads sent in {busy['elapsed']:.1f} s "
          f"({busy['sent'] / busy['elapsed']:.0f}/s; {busy['late']} sent over 1 s late), {args.ws} WebSocket "
          f"clients ({busy['ws_messages']} messages, {busy['ws_dropped']} dropped)", flush=True)
    print(f"  API latency ms: p50 {quantile(lat, 0.5):.2f}  p95 {quantile(lat, 0.95):.2f}  "
          f"p99 {quantile(lat, 0.99):.2f}  max {max(lat):.2f}  mean {statistics.fmean(lat):.2f}; "
          f"non-200: {busy['errors'] or 'none'}")
    for query, (count, mean) in sorted(busy["store"].items()):
        print(f"  store query {query:<14} {int(count):>7} calls, mean {mean * 1e3:.3f} ms (thread hop included)")
    for label, res in (("unloaded", idle), ("loaded", busy)):
        t2q = res["node"]["tick_to_quote"]
        print(f"  node tick-to-quote ({label}): p50 {t2q['p50_us']} µs  p99 {t2q['p99_us']} µs  ({t2q['count']} samples)")
    a, b = idle["node"]["tick_to_quote"]["p99_us"], busy["node"]["tick_to_quote"]["p99_us"]
    if a and b:
        print(f"  tick-to-quote p99 loaded / unloaded: {b / a:.2f}")
    print(f"reproduce: python bench/api_load.py --seconds {args.seconds:g} --rate {args.rate:g} --ws {args.ws} "
          f"--speed {args.speed:g}")


if __name__ == "__main__":
    main()
