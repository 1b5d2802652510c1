"""Fuzz the recording loaders with mutations of real recordings: a mutated line is refused and counted
(Binance, checksum venues), or the file is refused with a `DataError` naming the line (the CSV formats,
which have no sequence numbers to resynchronise by) — never another exception.

Binance and checksum-venue recordings: each batch inserts mutated copies of real lines (mutated JSON,
and now and then a mutated receive-time prefix) among the real ones and loads the whole; what happened to
each mutated line is read from the issues the loader reports for its line. CSV formats (Tardis book and
trades, the ES L2 benchmark, bar files): each case is a small real file with one mutated row.
"""

from __future__ import annotations

import json
import random
import traceback
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz import seeds
from tests.fuzz.conftest import CI, LONG, long_run
from tests.fuzz.mutate import EDGE_NUMBERS, mutate
from tests.fuzz.tally import Tally, reason_of
from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId
from tradewright.data import Issue, load_binance
from tradewright.data._parse import parse_checksum_recording
from tradewright.data.bars import load_bars
from tradewright.data.es_bench import load_es_l2
from tradewright.data.tardis import load_tardis_book, load_tardis_trades
from tradewright.data.verify import ChecksumReplay, infer_instruments, verify_stream
from tradewright.model.instrument import Instrument, InstrumentKind

BATCH = 100  # mutated lines per loaded recording
_CONSEQUENCES = ("sequence_gap", "unsynced", "checksum")  # what a refused line causes later, not a refusal


def _stamp(rnd: random.Random, stamp: bytes) -> bytes:
    if rnd.random() < 0.1:
        return str(rnd.choice(EDGE_NUMBERS)).encode(errors="surrogateescape")
    return stamp


def binance_batch(rnd: random.Random, tmp: Path) -> tuple[Path, set[int]]:
    """The real recording with BATCH mutated lines inserted; return it and the mutated line numbers."""
    base = list(seeds.recording_lines())
    out: list[bytes] = []
    mutated: set[int] = set()
    chosen = set(rnd.sample(range(len(base)), BATCH))
    for i, line in enumerate(base):
        out.append(line)
        if i in chosen and line:
            stamp, _, body = line.partition(b" ")
            case = mutate(json.loads(body), rnd)
            out.append(_stamp(rnd, stamp) + b" " + case.text.encode(errors="surrogatepass"))
            mutated.add(len(out))  # 1-based line number of the inserted line
    path = tmp / "recording.jsonl"
    path.write_bytes(b"\n".join(out) + b"\n")
    return path, mutated


def run_binance(n: int, make_tally: Callable[[str], Tally], tmp: Path) -> None:
    tally = make_tally("loader: Binance recording lines")
    batch = 0
    while tally.messages < n:
        rnd = random.Random(f"binance:{batch}")
        batch += 1
        path, mutated = binance_batch(rnd, tmp)
        issues: list[Issue] = []
        try:
            stream = load_binance(path, on_issue=issues.append)
            verify_stream(stream, issues)
        except DataError as exc:
            for _ in mutated:
                tally.refuse(f"file:{reason_of(str(exc))}")
            continue
        except Exception:
            tally.crash(f"batch {batch}:\n{traceback.format_exc()}")
            continue
        refused = {i.line: i.kind for i in issues if i.line in mutated and i.kind not in _CONSEQUENCES}
        for line in mutated:
            if line in refused:
                tally.refuse(refused[line])
            else:
                tally.ok()
    assert not tally.crashes, tally.crashes[0]


def run_checksum(n: int, make_tally: Callable[[str], Tally]) -> None:
    tally = make_tally("loader: OKX and Kraken checksum recordings")
    recordings = {
        name: seeds.checksum_lines(name)[:600]
        for name in ("okx_books_ws_2022-05-13.cryptofeed.gz", "kraken_book1000_ws_2021-04-17.cryptofeed.gz")
    }
    batch = 0
    while tally.messages < n:
        rnd = random.Random(f"checksum:{batch}")
        batch += 1
        name = rnd.choice(list(recordings))
        base = recordings[name]
        out: list[bytes] = []
        mutated: set[int] = set()
        chosen = set(rnd.sample(range(len(base)), BATCH))
        for i, line in enumerate(base):
            out.append(line)
            stamp, sep, body = line.partition(b": ")
            if i in chosen and sep and stamp[:1].isdigit():
                try:
                    seed = json.loads(body)
                except ValueError:
                    continue
                out.append(stamp + b": " + mutate(seed, rnd).text.encode(errors="surrogatepass"))
                mutated.add(len(out))
        issues: list[Issue] = []
        try:
            venue, messages = parse_checksum_recording(Path(name), out, on_issue=issues.append)
            replay = ChecksumReplay(venue, infer_instruments(venue, messages), name, issues.append)
            for msg in messages:
                replay.apply(msg)
            replay.results()
        except DataError as exc:
            for _ in mutated:
                tally.refuse(f"file:{reason_of(str(exc))}")
            continue
        except Exception:
            tally.crash(f"{name} batch {batch}:\n{traceback.format_exc()}")
            continue
        refused = {i.line: i.kind for i in issues if i.line in mutated and i.kind not in _CONSEQUENCES}
        for line in mutated:
            (tally.refuse(refused[line]) if line in refused else tally.ok())
    assert not tally.crashes, tally.crashes[0]


# --- CSV formats -------------------------------------------------------------------------------------
DERIBIT = Instrument(
    id=InstrumentId.parse("BTC-PERPETUAL.DERIBIT"),
    kind=InstrumentKind.PERPETUAL,
    base="BTC",
    quote="USD",
    settle="BTC",
    tick_size=Decimal("0.5"),
    lot_size=Decimal(10),
)
BITMEX = Instrument(
    id=InstrumentId.parse("XBTUSD.BITMEX"),
    kind=InstrumentKind.PERPETUAL,
    base="XBT",
    quote="USD",
    settle="XBT",
    tick_size=Decimal("0.5"),
    lot_size=Decimal(1),
)
BTC_BARS = Instrument(
    id=InstrumentId.parse("BTCUSDT.BINANCE"),
    kind=InstrumentKind.SPOT,
    base="BTC",
    quote="USDT",
    settle="USDT",
    tick_size=Decimal("0.01"),
    lot_size=Decimal("0.00001"),
)
CSV_TARGETS: list[tuple[str, str, Callable[[Path], object]]] = [
    (
        "Tardis book",
        "l2/nautilus/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv",
        lambda p: load_tardis_book(p, DERIBIT),
    ),
    ("Tardis trades", "l2/nautilus/tardis_bitmex_trades_XBTUSD.csv", lambda p: load_tardis_trades(p, BITMEX)),
    ("ES L2", "bench/es_l2_bench.csv.gz", load_es_l2),
    ("bench bars", "bench/btc_1m_bench.csv.gz", lambda p: load_bars(p, BTC_BARS)),
    ("Binance klines", "bars/nautilus/ADABTC-1m-2021-11-27.csv", lambda p: load_bars(p)),
    ("backtrader bars", "bars/backtrader/2006-min-005.txt", lambda p: load_bars(p)),
]


def _csv_case(header: str, rows: list[str], rnd: random.Random, headerless: bool) -> str:
    rows = list(rows)
    at = rnd.randrange(len(rows))
    cells: list[Any] = rows[at].split(",")
    case = mutate(cells, rnd)
    value = case.value if isinstance(case.value, list) else [case.text]
    rows[at] = ",".join(v if isinstance(v, str) else json.dumps(v) if v is not None else "" for v in value)
    if rnd.random() < 0.1:
        rows.insert(at, rows[at])  # a row twice
    if rnd.random() < 0.05:
        rows[at], rows[-1] = rows[-1], rows[at]  # rows out of order
    lines = rows if headerless else [header, *rows]
    return "\n".join(lines) + "\n"


def run_csv(n: int, make_tally: Callable[[str], Tally], tmp: Path) -> None:
    crashes: list[str] = []
    per = n // len(CSV_TARGETS) + 1
    for name, relative, load in CSV_TARGETS:
        tally = make_tally(f"loader: {name} CSV")
        header, rows = seeds.csv_sample(relative, 40)
        headerless = name == "Binance klines"
        if headerless:
            rows = [header, *rows]
        suffix = ".txt" if name == "backtrader bars" else ".csv"
        for case_no in range(per):
            rnd = random.Random(f"{name}:{case_no}")
            path = tmp / f"case{suffix}"
            path.write_text(
                _csv_case(header, rows, rnd, headerless), encoding="utf-8", errors="surrogatepass"
            )
            try:
                load(path)
            except DataError as exc:
                tally.refuse(reason_of(str(exc)))
            except Exception:
                tally.crash(
                    f"{name} case {case_no}:\n{path.read_text(errors='replace')[:3000]}\n{traceback.format_exc()}"
                )
            else:
                tally.ok()
        crashes += tally.crashes
    assert not crashes, f"{len(crashes)} uncaught exceptions; the first:\n{crashes[0]}"


# --- the runs ------------------------------------------------------------------------------------------
def test_binance_loader_refuses_every_mutated_line_by_reason(
    tally: Callable[[str], Tally], tmp_path: Path
) -> None:
    run_binance(CI["binance_loader"], tally, tmp_path)


def test_checksum_loader_refuses_every_mutated_message(tally: Callable[[str], Tally]) -> None:
    run_checksum(CI["checksum_loader"], tally)


def test_csv_loaders_refuse_every_mutated_row_with_a_data_error(
    tally: Callable[[str], Tally], tmp_path: Path
) -> None:
    run_csv(CI["csv_loaders"], tally, tmp_path)


@pytest.mark.slow
@long_run
def test_loaders_long_run(tally: Callable[[str], Tally], tmp_path: Path) -> None:
    run_binance(LONG["binance_loader"], tally, tmp_path)
    run_checksum(LONG["checksum_loader"], tally)
    run_csv(LONG["csv_loaders"], tally, tmp_path)
