"""`tradewright record` against a local venue server, then `data verify` and `backtest` on what it wrote:
a live session replays into a backtest."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

from tests.conftest import REPO
from tests.servers.support import recording, run
from tradewright.cli.main import main
from tradewright.core.ids import InstrumentId, Venue
from tradewright.data.loading import load_stream
from tradewright.data.venue_recording import (
    RecordingWriter,
    Row,
    load_venue_recording,
    verify_venue_recording,
)
from tradewright.model.columnar import KIND_CLEAR, KIND_DELTA, KIND_QUOTE, KIND_TRADE
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.recorder import record
from tradewright.servers._core import Pacing, ReplayServer, ServerOptions
from tradewright.servers.okx import OkxProtocol
from tradewright.venues.okx import OkxConfig


async def _record_okx(out: Path) -> ReplayServer:
    server = ReplayServer(OkxProtocol(recording("okx")), ServerOptions(pacing=Pacing.FAST))
    await server.start()
    try:
        config = OkxConfig(symbols=("BTC-USDT",), rest_url=server.url, ws_url=server.ws_url)
        stop = asyncio.Event()
        task = asyncio.create_task(record("okx", config, out, duration_s=30, stop=stop))
        await asyncio.wait_for(server.timeline.finished.wait(), 20)
        await asyncio.sleep(0.3)  # the last frames reach the recorder
        stop.set()
        await asyncio.wait_for(task, 10)
    finally:
        await server.stop()
    return server


def test_recording_a_venue_gives_a_folder_data_verify_passes_with_every_checksum(tmp_path: Path) -> None:
    server = run(_record_okx(tmp_path))
    folder = tmp_path / "OKX" / "BTC-USDT"
    stream_check, checksums = verify_venue_recording(folder)
    assert stream_check.problems == 0 and checksums.problems == 0
    assert checksums.checksums_checked == 98  # every BTC-USDT books frame of the recording, checked again
    stream = load_venue_recording(folder)
    assert stream.count(KIND_CLEAR) == 1 and stream.count(KIND_TRADE) > 0 and stream.count(KIND_QUOTE) > 0
    # the recorded book ends where the venue's book ended
    from tradewright.model.book import OrderBook

    book = OrderBook(stream.instrument)
    for k in range(len(stream)):
        if stream.kind[k] == KIND_CLEAR:
            book.clear()
        elif stream.kind[k] == KIND_DELTA:
            book.set_level(int(stream.side[k]), int(stream.tick[k]), int(stream.lots[k]))
    venue = server.protocol.books["BTC-USDT"]  # type: ignore[attr-defined]
    assert book.best_bid == Decimal(venue.pairs(1, 1)[0][0]) and book.best_ask == Decimal(
        venue.pairs(-1, 1)[0][0]
    )
    assert main(["data", "verify", str(folder)]) == 0


def test_a_recording_replays_in_a_backtest(tmp_path: Path) -> None:
    run(_record_okx(tmp_path / "rec"))
    folder = tmp_path / "rec" / "OKX" / "BTC-USDT"
    assert load_stream([folder]).instrument.id == InstrumentId("BTC-USDT", Venue("OKX"))
    config = tmp_path / "bt.toml"
    config.write_text(
        f"""
[run]
name = "okx_replay"
output_dir = "{tmp_path / "run"}"
[data]
paths = ["{folder}"]
[account]
starting_balance = "10000"
[strategy]
path = "{REPO / "examples" / "symmetric_mm.py"}"
class = "SymmetricMarketMaker"
id = "MM"
[strategy.params]
size = "0.001"
max_position = "0.005"
offset_ticks = 0
"""
    )
    assert main(["backtest", str(config), "--json"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["events"] > 0


def test_the_writer_rotates_files_on_the_utc_hour(tmp_path: Path) -> None:
    inst = Instrument(id=InstrumentId("X", Venue("V")), kind=InstrumentKind.SPOT, base="A", quote="B", settle="B",
                      tick_size=Decimal("0.1"), lot_size=Decimal("0.01"))  # fmt: skip
    writer = RecordingWriter(tmp_path / "V" / "X", "V", inst)
    hour = 3_600_000_000_000
    start = 1_700_000_000 * 1_000_000_000 // hour * hour
    for ts in (start + 1, start + hour - 1, start + hour):
        writer.add(Row(ts, ts, "clear", last=False))
        writer.add(Row(ts, ts, "level", 1, "10.0", "1.50", last=True, update_id=ts))
    writer.close()
    assert [p.name for p in writer.files] == ["2023-11-14T22.parquet", "2023-11-14T23.parquet"]
    stream = load_venue_recording(tmp_path / "V" / "X")
    assert list(stream.tick[stream.kind == KIND_DELTA]) == [100, 100, 100]
    assert list(stream.lots[stream.kind == KIND_DELTA]) == [150, 150, 150]
