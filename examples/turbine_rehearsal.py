"""Make a rehearsal recording of consecutive Turbine quick markets for examples/turbine_quick_mm.toml.

It starts the local Turbine on 127.0.0.1 with short quick markets (`--interval-s`, 15 minutes on the
venue), records every BTC quick market as it opens with `tradewright.recorder.binary` — the code
behind `tradewright record --venue turbine --symbols BTC` — and resolves each market at its end
through the server's controls (`/_sim/resolve`, alternately YES and NO). No capture of the real venue
exists: the local Turbine's book is a synthetic ladder around 0.50 that neither moves nor prints public
trades, so this recording is a rehearsal of the rotation, labelled so.

    python examples/turbine_rehearsal.py --out data/turbine --markets 3 --interval-s 20
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from tradewright.recorder.binary import BinaryRecordSummary, record_binary
from tradewright.servers.turbine import serve_turbine
from tradewright.venues.turbine import TurbineConfig


async def rehearse(out: Path, *, markets: int, interval_s: int) -> BinaryRecordSummary:
    # The first market starts a moment from now, so that each one is recorded from its opening.
    t0 = int(time.time()) + 2
    server = serve_turbine(interval_s=interval_s, t0_s=t0)
    await server.start()
    try:
        config = TurbineConfig(rest_url=server.url, ws_url=server.ws_url, assets=["BTC"])
        stop = asyncio.Event()
        recording = asyncio.create_task(
            record_binary("turbine", config, out, stop=stop, resolution_poll_s=0.25)
        )
        async with aiohttp.ClientSession() as http:
            resolved: set[str] = set()
            while len(resolved) < markets:
                await asyncio.sleep(0.5)
                async with http.get(f"{server.url}/_sim/state") as answer:
                    state: dict[str, Any] = await answer.json()
                now = state["now"]
                for m in state["markets"]:
                    if m["startTime"] < t0 or m["marketId"] in resolved:
                        continue
                    if now >= m["endTime"] and len(resolved) < markets:
                        outcome = len(resolved) % 2  # YES, NO, YES, ...
                        await http.post(
                            f"{server.url}/_sim/resolve", json={"marketId": m["marketId"], "outcome": outcome}
                        )
                        resolved.add(m["marketId"])
        await asyncio.sleep(1.0)  # the recorder reads the last resolution
        stop.set()
        return await recording
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to write the market folders into")
    parser.add_argument("--markets", type=int, default=3, help="how many consecutive markets (default 3)")
    parser.add_argument("--interval-s", type=int, default=20, help="length of one quick market in seconds")
    args = parser.parse_args()
    summary = asyncio.run(rehearse(Path(args.out), markets=args.markets, interval_s=args.interval_s))
    for market_id, folder in summary.folders.items():
        print(
            f"{market_id}: {summary.rows.get(market_id, 0)} rows, resolved {summary.resolved.get(market_id, '-')}"
        )
        print(f"  -> {folder}")


if __name__ == "__main__":
    main()
