"""Venue adapters against their local wire-format servers on 127.0.0.1 (OKX, Gate, Bybit, Bitget, Kraken).

Per venue, through the real adapter (CCXT, our book verifier, the kernel as the node):
  * order RTT     — `kernel.submit` of a resting limit order until its ack is applied in the kernel
                    (REST create through CCXT, the server's signature check and matching; sequential);
  * book update   — the server sending one recorded book frame until the adapter's verified book has it
                    (WebSocket, CCXT's parsing, our checksum / sequence check; step by step);
  * concurrent    — N orders submitted at once, then cancelled at once: every one acknowledged and
                    cancelled exactly once (the server holds N distinct orders, then none).
Client-side rate buckets and the servers' documented limits are off here: they would pace the burst
over seconds, which is their job but not what is measured. The seed targets were < 500 ms (orders) and
< 200 ms (market data) against real venues; on loopback the aim is < 10 ms.

    python bench/venues.py [--orders 200] [--frames 40] [--concurrent 120] [--venues okx,gate,bybit,bitget,kraken]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import shared

from tradewright.core.clock import LiveClock
from tradewright.core.ids import ClientOrderId, StrategyId
from tradewright.engine.kernel import Kernel
from tradewright.model.commands import CancelOrder, SubmitOrder
from tradewright.model.enums import OrderSide, OrderStatus, OrderType
from tradewright.servers._core import Pacing, ReplayServer, ServerOptions, VenueProtocol, load_recording
from tradewright.venues._common.ports import VenueHooks


def _cases() -> dict[str, tuple[Callable[[], VenueProtocol], Any, dict[str, Any], dict[str, str], str]]:
    from tradewright.servers.bitget import BitgetProtocol
    from tradewright.servers.bybit import BybitProtocol
    from tradewright.servers.gate import GateProtocol
    from tradewright.servers.kraken import KrakenProtocol
    from tradewright.servers.okx import OkxProtocol
    from tradewright.venues import bitget, bybit, gate, kraken, okx

    def rec(venue: str) -> Any:
        return load_recording(shared(f"venues/{venue}/cryptofeed_raw"))

    return {
        "okx": (lambda: OkxProtocol(rec("okx")), okx, {"symbols": ("BTC-USDT",)},
                {"OKX_API_KEY": "local-okx-key", "OKX_API_SECRET": "local-okx-secret", "OKX_API_PASSPHRASE": "local-okx-passphrase"},
                "books:BTC-USDT"),
        "gate": (lambda: GateProtocol(rec("gate")), gate, {"symbols": ("RDNT_USDT",)},
                 {"GATE_API_KEY": "local-gate-key", "GATE_API_SECRET": "local-gate-secret", "GATE_UID": "1"},
                 "futures.order_book_update:RDNT_USDT"),
        "bybit": (lambda: BybitProtocol(shared("l2/nautilus/bybit_xrpusdt-ob500.data.zip"),
                                        shared("venues/bybit/nautilus_rust/http_get_instruments_linear.json")),
                  bybit, {"symbols": ("XRPUSDT",)}, {"BYBIT_API_KEY": "local-bybit-key", "BYBIT_API_SECRET": "local-bybit-secret"},
                  "orderbook.500.XRPUSDT"),
        "bitget": (lambda: BitgetProtocol(rec("bitget")), bitget, {"symbols": ("EOSUSDT",)},
                   {"BITGET_API_KEY": "local-bitget-key", "BITGET_API_SECRET": "local-bitget-secret",
                    "BITGET_API_PASSPHRASE": "local-bitget-passphrase"}, "books:EOSUSDT"),
        "kraken": (lambda: KrakenProtocol(rec("kraken")), kraken, {"symbols": ("XMR/USD",)},
                   {"KRAKEN_API_KEY": "local-kraken-key", "KRAKEN_API_SECRET": "bG9jYWwta3Jha2VuLXNlY3JldC1mb3ItdGVzdHM="},
                   "book:XMR/USD"),
    }  # fmt: skip


async def _until(check: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the venue did not answer in time")
        await asyncio.sleep(0)


def _p(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]
    )


async def bench_venue(name: str, orders: int, frames: int, concurrent: int) -> dict[str, Any]:
    protocol, package, cfg, keys, topic = _cases()[name]
    server = ReplayServer(protocol(), ServerOptions(pacing=Pacing.STEP, enforce_limits=False))
    await server.start()
    clock = LiveClock()
    kernel = Kernel(clock)
    books: list[float] = []
    try:
        config = package.CONFIG_TYPES[0](rest_url=server.url, ws_url=server.ws_url, rate_limit=False, **cfg)
        venue = await package.connect(
            config, package.credentials(config, keys), VenueHooks(clock=clock, emit=kernel.on_venue_event)
        )
        iid = next(iter(venue.instruments))
        inst = venue.instruments[iid]
        kernel.add_instrument(inst)
        kernel.add_execution_client(venue.execution)
        tops: list[Any] = []
        tasks = [asyncio.create_task(venue.market_data.run_book(iid, lambda i, b, a: (books.append(time.perf_counter()), tops.append(b)))),
                 asyncio.create_task(venue.execution.run_user_stream())]  # fmt: skip
        await venue.execution.wait_user_stream(10)
        # market data: one frame at a time, from the server's send to our verified book
        book_ms: list[float] = []
        for _ in range(frames):
            seen = len(books)
            t0 = time.perf_counter()
            await server.step(1, topic)
            try:
                await _until(lambda s=seen: len(books) > s, 2.0)  # type: ignore[misc]
            except TimeoutError:
                continue  # a frame outside a depth window changes nothing the client sees
            book_ms.append((books[-1] - t0) * 1000)
        bid = tops[-1][0][0]
        size = inst.min_size or inst.lot_size
        seq = 0

        def submit(k: int) -> Any:
            nonlocal seq
            seq += 1
            return kernel.submit(SubmitOrder(ts_init=clock.now_ns(), client_order_id=ClientOrderId(f"B{seq}"), strategy_id=StrategyId("b"),
                                             instrument_id=iid, side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=size,
                                             price=inst.ticks_to_price(bid - 20 - k % 50)), None)  # fmt: skip

        rtt_ms: list[float] = []
        placed = []
        for k in range(orders):
            t0 = time.perf_counter()
            order = submit(k)
            await _until(lambda o=order: o.status is not OrderStatus.SUBMITTED)  # type: ignore[misc]
            rtt_ms.append((time.perf_counter() - t0) * 1000)
            placed.append(order)
        for o in placed:
            kernel.cancel(
                CancelOrder(ts_init=clock.now_ns(), client_order_id=o.client_order_id, instrument_id=iid)
            )
        await _until(lambda: all(o.status.is_terminal for o in placed))
        # concurrency: all at once, then all cancelled at once
        burst = [submit(k) for k in range(concurrent)]
        await _until(lambda: all(o.status is not OrderStatus.SUBMITTED for o in burst))
        account = next(iter(server.exchange.accounts))
        open_at_venue = server.exchange.open_orders(account)
        acked = sum(1 for o in burst if o.status is OrderStatus.ACCEPTED)
        distinct = len({o.client_id for o in open_at_venue})
        for o in burst:
            kernel.cancel(
                CancelOrder(ts_init=clock.now_ns(), client_order_id=o.client_order_id, instrument_id=iid)
            )
        await _until(lambda: all(o.status.is_terminal for o in burst))
        left = len(server.exchange.open_orders(account))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await venue.close()
    finally:
        await server.stop()
    return {
        "venue": name, "orders": len(rtt_ms), "rtt_p50": statistics.median(rtt_ms), "rtt_p99": _p(rtt_ms, 99),
        "frames": len(book_ms), "book_p50": statistics.median(book_ms), "book_p99": _p(book_ms, 99),
        "burst": concurrent, "acked": acked, "at_venue": len(open_at_venue), "distinct": distinct, "left": left,
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--concurrent", type=int, default=120)
    parser.add_argument("--venues", default="okx,gate,bybit,bitget,kraken")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"{'venue':<8}{'orders':>7}{'RTT p50 ms':>12}{'RTT p99 ms':>12}{'frames':>8}{'book p50 ms':>13}{'book p99 ms':>13}"
          f"{'burst':>7}{'acked':>7}{'at venue':>10}{'distinct':>10}{'left':>6}")  # fmt: skip
    worst = 0
    for name in args.venues.split(","):
        r = asyncio.run(bench_venue(name.strip(), args.orders, args.frames, args.concurrent))
        print(f"{r['venue']:<8}{r['orders']:>7}{r['rtt_p50']:>12.2f}{r['rtt_p99']:>12.2f}{r['frames']:>8}{r['book_p50']:>13.2f}"
              f"{r['book_p99']:>13.2f}{r['burst']:>7}{r['acked']:>7}{r['at_venue']:>10}{r['distinct']:>10}{r['left']:>6}", flush=True)  # fmt: skip
        lost_or_doubled = (
            r["acked"] != r["burst"]
            or r["at_venue"] != r["burst"]
            or r["distinct"] != r["burst"]
            or r["left"] != 0
        )
        worst = max(worst, 1 if lost_or_doubled else 0)
    print("reproduce: python bench/venues.py" + (" (a burst order was lost or duplicated)" if worst else ""))
    return worst


if __name__ == "__main__":
    sys.exit(main())
