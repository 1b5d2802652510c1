"""Make the rehearsal recording that examples/polymarket_quoter.toml backtests (data/polymarket/).

It starts the local Polymarket on 127.0.0.1 over the venue's real payloads (the 2024 election market's
recorded book, a recorded trade, and a recorded NVIDIA market resolving YES), records both markets
with `tradewright.recorder.binary` — the code behind `tradewright record --venue polymarket` — and,
while recording, has other participants trade through the server's controls (`/_sim/trade`) and the
election market resolve (`/_sim/resolve`). Those three steps are a rehearsal's, not the venue's history:
the recording says so in data/README.md.

    python examples/polymarket_rehearsal.py --data ../shared/data/venues/polymarket --out data/polymarket
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import aiohttp

from tradewright.recorder.binary import BinaryRecordSummary, record_binary
from tradewright.servers._core import Pacing, ReplayServer, ServerOptions
from tradewright.servers.polymarket import PolymarketProtocol
from tradewright.venues.polymarket import PolymarketConfig

ELECTION = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917"
ELECTION_YES = "21742633143463906290569050155826241533067272736897614950488156847949938836455"
ELECTION_NO = "48331043336612883890938759509493159234755048973500640148014422747788308965732"
NVIDIA = "0x311d0c4b6671ab54af4970c06fcf58662516f5168997bdda209ec3db5aa6b0c1"

# (seconds after the books are in, control, body): what the rehearsal's other participants do.
STEPS = [
    (0.5, "trade", {"asset_id": ELECTION_YES, "side": "SELL", "price": "0.486", "size": "100"}),
    (0.8, "trade", {"asset_id": ELECTION_NO, "side": "SELL", "price": "0.512", "size": "5"}),
    (1.1, "trade", {"asset_id": ELECTION_YES, "side": "BUY", "price": "0.489", "size": "30"}),
    (1.5, "resolve", {"market": ELECTION, "winning_asset_id": ELECTION_YES}),
]


async def rehearse(data: str, out: Path) -> BinaryRecordSummary:
    server = ReplayServer(
        PolymarketProtocol(data, auto_settle_s=None),
        ServerOptions(port=0, pacing=Pacing.FAST, start_on="subscribe"),
    )
    await server.start()
    try:
        config = PolymarketConfig(
            markets=[ELECTION, NVIDIA], clob_url=server.url, gamma_url=server.url + "/gamma", ws_url=server.ws_url
        )
        stop = asyncio.Event()
        recording = asyncio.create_task(record_binary("polymarket", config, out, stop=stop))
        await asyncio.sleep(1.0)  # both markets subscribed, the recorded replay played
        async with aiohttp.ClientSession() as http:
            started = asyncio.get_running_loop().time()
            for at_s, control, body in STEPS:
                await asyncio.sleep(max(0.0, started + at_s - asyncio.get_running_loop().time()))
                async with http.post(f"{server.url}/_sim/{control}", json=body) as answer:
                    answer.raise_for_status()
        await asyncio.sleep(0.5)
        stop.set()
        return await recording
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the Polymarket payloads (../shared/data/venues/polymarket)")
    parser.add_argument("--out", required=True, help="folder to write the market folders into")
    args = parser.parse_args()
    summary = asyncio.run(rehearse(args.data, Path(args.out)))
    for market_id, folder in summary.folders.items():
        print(f"{market_id}: {summary.rows.get(market_id, 0)} rows, resolved {summary.resolved.get(market_id, '-')}")
        print(f"  -> {folder}")


if __name__ == "__main__":
    main()
