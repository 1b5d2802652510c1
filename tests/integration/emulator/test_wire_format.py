"""The market data the emulator publishes is the recording's own messages, byte for byte where Binance's
fields are copied (prices, sizes, ids, times), and its diff stream chains exactly (U/u/pu)."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
from pathlib import Path
from typing import Any

import aiohttp

from tests.integration.emulator.support import emulator, run, spot_path, usdm_path
from tradewright.model.columnar import MarketStream


def recorded_messages(path: Path, seconds: float = 150) -> dict[tuple[str, int], dict[str, Any]]:
    """The recording's first `seconds` of stream messages keyed by (kind, id): depth by u, trade by t,
    bookTicker by u."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    first = 0
    with gzip.open(path, "rt") as fh:
        for line in fh:
            stamp, _, body = line.partition(" ")
            first = first or int(stamp)
            if int(stamp) - first > seconds * 1e9:
                break
            msg = json.loads(body)
            stream = msg.get("stream")
            if stream is None:
                continue
            data = msg["data"]
            kind = stream.split("@")[1]
            out[(kind, data["t"] if kind == "trade" else data["u"])] = data
    return out


async def collect(port: int, streams: list[str], seconds: float) -> list[dict[str, Any]]:
    url = f"ws://127.0.0.1:{port}/stream?streams={'/'.join(streams)}"
    frames: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            try:
                msg = await ws.receive(timeout=end - loop.time())
            except TimeoutError:
                break
            frames.append(json.loads(msg.data))
    return frames


def _check(stream: MarketStream, path: Path, venue: str, tmp: Path) -> None:
    futures = venue == "binance-usdm"
    depth = "btcusdt@depth@0ms" if futures else "btcusdt@depth@100ms"
    names = [depth, "btcusdt@trade", "btcusdt@bookTicker"]

    async def body() -> list[dict[str, Any]]:
        async with emulator(stream, tmp, venue, speed=20) as server:
            return await collect(server.port, names, 2.0)

    frames = run(body())
    recorded = recorded_messages(path)
    by_stream: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for frame in frames:
        assert set(frame) == {"stream", "data"}, "combined-stream frames are wrapped as {stream, data}"
        by_stream[frame["stream"]].append(frame["data"])
    assert all(len(v) > 5 for v in by_stream.values()), {k: len(v) for k, v in by_stream.items()}

    diffs = by_stream[depth]
    for prev, cur in itertools.pairwise(diffs):
        assert cur["U"] == prev["u"] + 1
        if futures:
            assert cur["pu"] == prev["u"]
    for ours in diffs:
        theirs = recorded[("depth", ours["u"])]
        assert (ours["b"], ours["a"]) == (theirs["b"], theirs["a"]), f"diff u={ours['u']}"
        assert ours["s"] == theirs["s"] and ours["e"] == "depthUpdate"
        assert ours["T" if futures else "E"] == theirs["T" if futures else "E"]
        assert list(ours) == (
            ["e", "E", "T", "s", "U", "u", "pu", "b", "a"] if futures else ["e", "E", "s", "U", "u", "b", "a"]
        )
    for ours in by_stream["btcusdt@trade"]:
        theirs = recorded[("trade", ours["t"])]
        assert list(ours) == list(theirs)  # the same fields in Binance's order
        assert {k: v for k, v in ours.items() if k != "E"} == {k: v for k, v in theirs.items() if k != "E"}
    for ours in by_stream["btcusdt@bookTicker"]:
        theirs = recorded[("bookTicker", ours["u"])]
        assert set(ours) == set(theirs)
        assert {k: v for k, v in ours.items() if k != "E"} == {k: v for k, v in theirs.items() if k != "E"}


def test_spot_streams_reproduce_the_recorded_messages(spot_stream: MarketStream, tmp_path: Path) -> None:
    _check(spot_stream, spot_path(), "binance-spot", tmp_path / "s.sqlite")


def test_usdm_streams_reproduce_the_recorded_messages(usdm_stream: MarketStream, tmp_path: Path) -> None:
    _check(usdm_stream, usdm_path(), "binance-usdm", tmp_path / "u.sqlite")
