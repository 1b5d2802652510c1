"""`tradewright data import|verify|list` on real recordings."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.conftest import shared_data
from tradewright.cli.main import main

HFT = "l2/hftbacktest"
USDM = f"{HFT}/binance_usdm_btcusdt_20240808.jsonl.gz"


def test_verify_exits_0_on_the_good_recording(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data", "verify", str(shared_data(USDM))])
    out = capsys.readouterr().out
    assert code == 0
    assert "1 checked, all consistent" in out
    assert "629 of 66,089" in out  # bookTicker messages compared


def test_verify_exits_non_zero_when_one_diff_line_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with gzip.open(shared_data(USDM), "rb") as fh:
        lines = fh.read().split(b"\n")
    diffs = [i for i, line in enumerate(lines) if b"@depth" in line[:80]]
    del lines[diffs[1_000]]
    broken = tmp_path / "binance_usdm_btcusdt_20240808_gap.jsonl.gz"
    with gzip.open(broken, "wb") as fh:
        fh.write(b"\n".join(lines))
    code = main(["data", "verify", str(broken)])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 checked, 1 with problems" in captured.out
    assert "FAIL" in captured.out
    assert "sequence gap: expected pu=" in captured.err


def test_verify_checks_every_checksum_of_a_checksum_venue(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data", "verify", str(shared_data("checksums/okx_books_ws_2022-05-13.cryptofeed.gz"))])
    out = capsys.readouterr().out
    assert code == 0
    assert "3 checked, all consistent" in out


def test_import_then_list_then_verify_the_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "cache"
    sources = [
        shared_data(f"{HFT}/binance_spot_btcusdt_20240809.jsonl.gz"),  # given out of order on purpose
        shared_data(f"{HFT}/binance_spot_btcusdt_20240808.jsonl.gz"),
        shared_data("bench/es_l2_base.csv.gz"),
    ]
    assert main(["data", "import", *map(str, sources), "--out", str(out_dir)]) == 0
    files = sorted(p.name for p in out_dir.glob("*.parquet"))
    assert files == ["BTCUSDT.BINANCE.20240808T235414.parquet", "ESH4.CME.20231225T230000.parquet"]
    capsys.readouterr()
    assert main(["data", "list", str(out_dir)]) == 0
    listing = capsys.readouterr().out
    assert "2 cached streams" in listing and "BTCUSDT.BINANCE" in listing and "466,347" in listing
    assert main(["data", "verify", str(out_dir / files[0])]) == 0
    assert "1,072 of 73,174" in capsys.readouterr().out  # the chained spot book, read from Parquet


def test_unknown_files_are_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\n")
    assert main(["data", "verify", str(odd)]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    assert main(["data", "import", str(tmp_path / "missing.jsonl.gz"), "--out", str(tmp_path)]) == 2
    assert "file not found" in capsys.readouterr().err
