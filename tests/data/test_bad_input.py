"""Every kind of nonsense a recording can hold is refused at the loader, counted by reason, reported
with its file and line, and makes `data verify` fail — never a traceback, never a changed backtest.

Each case edits one message of the real USD-M recording (../shared/data) the way the data went bad in
the field: a level priced 1e27, JSON nested 100,000 deep, a receive time or venue time beyond int64,
a trade printed twice, a trade far from the book, venue time going back, ``U > u``, a zero-size level
in a snapshot, a trade of size 0, a price off the grid.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_data
from tradewright.core.errors import DataError
from tradewright.data import Issue, load_binance
from tradewright.data.verify import verify_stream

USDM = "l2/hftbacktest/binance_usdm_btcusdt_20240808.jsonl.gz"
Edit = Callable[[list[bytes]], None]


def _lines(n: int = 3_000) -> list[bytes]:
    with gzip.open(shared_data(USDM), "rb") as fh:
        return fh.read().split(b"\n")[:n]


def _nth(lines: list[bytes], stream: bytes, n: int) -> int:
    return [i for i, line in enumerate(lines) if stream in line[:80]][n]


def _edit_json(lines: list[bytes], i: int, change: Callable[[dict[str, object]], None]) -> None:
    stamp, _, body = lines[i].partition(b" ")
    msg = json.loads(body)
    change(msg["data"])
    lines[i] = stamp + b" " + json.dumps(msg, separators=(",", ":")).encode()


def _sub(
    lines: list[bytes], i: int, pattern: bytes, repl: bytes | Callable[[re.Match[bytes]], bytes]
) -> None:
    lines[i] = re.sub(pattern, repl, lines[i], count=1)


def level_1e27(lines: list[bytes]) -> None:
    i = _nth(lines, b"@depth", 8)
    lines[i] = lines[i].replace(b'"b":[[', b'"b":[["1000000000000000000000000000","1.000"],[', 1)


def nested_100k(lines: list[bytes]) -> None:
    i = _nth(lines, b"@trade", 0)
    at = lines[i].index(b'"data":{') + 8
    lines[i] = lines[i][:at] + b'"x":' + b"[" * 100_000 + b"]" * 100_000 + b"," + lines[i][at:]


def local_time_beyond_int64(lines: list[bytes]) -> None:
    lines[5] = b"99999999999999999999999" + lines[5][lines[5].index(b" ") :]


def venue_time_beyond_int64(lines: list[bytes]) -> None:
    _sub(lines, _nth(lines, b"@trade", 1), rb'"T":(\d+)', b'"T":9223372036854775807')


def duplicated_trade(lines: list[bytes]) -> None:
    i = _nth(lines, b"@trade", 2)
    lines.insert(i + 1, lines[i])


def trade_at_one_dollar(lines: list[bytes]) -> None:
    _sub(lines, _nth(lines, b"@trade", 3), rb'"p":"[0-9.]+"', b'"p":"1.00"')


def trade_at_1e13(lines: list[bytes]) -> None:
    _sub(lines, _nth(lines, b"@trade", 4), rb'"p":"[0-9.]+"', b'"p":"10000000000000.00"')


def venue_time_backwards(lines: list[bytes]) -> None:
    _sub(lines, _nth(lines, b"@trade", 5), rb'"T":\d+', b'"T":1600000000000')


def venue_time_jumps_ahead(lines: list[bytes]) -> None:
    # one time corrupted an hour into the future: that message is refused, not every one after it
    _sub(lines, _nth(lines, b"@trade", 5), rb'"T":(\d+)', lambda m: b'"T":%d' % (int(m[1]) + 3_600_000))


def first_id_above_last(lines: list[bytes]) -> None:
    _edit_json(lines, _nth(lines, b"@depth", 3), lambda d: d.update(U=int(str(d["u"])) + 5))


def zero_size_trade(lines: list[bytes]) -> None:
    _sub(lines, _nth(lines, b"@trade", 6), rb'"q":"[0-9.]+"', b'"q":"0.000"')


def price_off_the_grid(lines: list[bytes]) -> None:
    _sub(lines, _nth(lines, b"@trade", 7), rb'"p":"([0-9]+)\.[0-9]+"', rb'"p":"\1.25"')


CASES: list[tuple[Edit, str]] = [
    (level_1e27, "out_of_range"),
    (nested_100k, "too_deep"),
    (local_time_beyond_int64, "out_of_range"),
    (venue_time_beyond_int64, "out_of_range"),
    (duplicated_trade, "duplicate_trade"),
    (trade_at_one_dollar, "price_band"),
    (trade_at_1e13, "price_band"),
    (venue_time_backwards, "time_backwards"),
    (venue_time_jumps_ahead, "time_backwards"),
    (first_id_above_last, "update_ids"),
    (zero_size_trade, "non_positive"),
    (price_off_the_grid, "off_grid"),
]


def _recording(tmp_path: Path, edit: Edit | None) -> Path:
    lines = _lines()
    if edit is not None:
        edit(lines)
    path = tmp_path / f"{edit.__name__ if edit else 'clean'}.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    return path


@pytest.mark.parametrize(("edit", "reason"), CASES, ids=[e.__name__ for e, _ in CASES])
def test_a_bad_message_is_skipped_counted_by_reason_and_fails_verify(
    tmp_path: Path, edit: Edit, reason: str
) -> None:
    clean = load_binance(_recording(tmp_path, None), on_issue=lambda issue: None)
    issues: list[Issue] = []

    stream = load_binance(_recording(tmp_path, edit), on_issue=issues.append)
    result = verify_stream(stream, issues)

    assert stream.stats[f"rejected_{reason}"] == 1 and stream.stats["rejected"] == 1
    # a refused depth diff also opens a sequence gap (reported as such): the book resynchronises
    assert [i.kind for i in issues if i.kind not in ("sequence_gap", "unsynced")] == [reason]
    assert re.match(rf".*{edit.__name__}\.jsonl\.gz:\d+: {reason}: ", str(issues[0]))
    assert result.rejected == {reason: 1} and result.problems >= 1
    extra = 1 if edit is duplicated_trade else 0
    assert stream.stats["lines"] == clean.stats["lines"] + extra


def test_a_zero_size_level_in_a_snapshot_is_counted_and_fails_verify(tmp_path: Path) -> None:
    def zero_level(lines: list[bytes]) -> None:
        i = next(k for k, line in enumerate(lines) if b"lastUpdateId" in line[:80])
        lines[i] = lines[i].replace(b'"bids":[[', b'"bids":[["100.0","0.000"],[', 1)

    stream = load_binance(_recording(tmp_path, zero_level), on_issue=lambda issue: None)

    assert stream.stats["zero_size_levels"] == 1
    assert verify_stream(stream).problems == 1


def test_a_recording_mostly_off_the_grid_is_the_wrong_instrument_not_bad_lines(tmp_path: Path) -> None:
    lines = _lines(600)
    lines = [re.sub(rb'"p":"([0-9]+)\.[0-9]+"', rb'"p":"\1.25"', line) for line in lines]
    path = tmp_path / "wrong.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines)))

    with pytest.raises(DataError, match=r"are off the grid: is this the recording's instrument\?"):
        load_binance(path)


def test_duplicated_and_far_trade_prints_do_not_change_a_backtest(tmp_path: Path) -> None:
    from tradewright.backtest.runner import build_engine
    from tradewright.config.run import load_run_config

    lines = _lines(20_000)
    trades = [n for n, line in enumerate(lines) if b"@trade" in line[:80]]
    trade_set, far = (
        set(trades),
        set(trades[::7]),
    )  # these prints go to 1.00 in the dirty file, and are simply absent from the clean one
    clean = [line for n, line in enumerate(lines) if n not in far]
    dirty: list[bytes] = []
    for n, line in enumerate(lines):
        if n in far:
            line = re.sub(rb'"p":"[0-9.]+"', b'"p":"1.00"', line)
        dirty += [line, line] if n in trade_set else [line]  # and every print twice
    clean_path, dirty_path = tmp_path / "clean.jsonl.gz", tmp_path / "dirty.jsonl.gz"
    clean_path.write_bytes(gzip.compress(b"\n".join(clean) + b"\n"))
    dirty_path.write_bytes(gzip.compress(b"\n".join(dirty) + b"\n"))

    def fills(path: Path) -> tuple[int, str]:
        config = load_run_config(REPO / "examples" / "demo_mm.toml", {"data.paths": [str(path)]})
        stream = load_binance(path, on_issue=lambda issue: None)
        kernel = build_engine(config, stream).run().kernel
        position = kernel.portfolio.find_position(stream.instrument.id)
        return kernel.counts.get("fills", 0), str(None if position is None else position.realized_pnl)

    expected = fills(clean_path)
    assert expected[0] > 20  # enough fills for a changed print to have changed them
    assert fills(dirty_path) == expected


def test_data_verify_names_each_class_and_exits_1(tmp_path: Path) -> None:
    lines = _lines()
    for edit in (duplicated_trade, venue_time_backwards, first_id_above_last):
        edit(lines)
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))

    done = subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", "data", "verify", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    table = done.stdout
    for reason in ("duplicate_trade=1", "time_backwards=1", "update_ids=1"):
        assert reason in table, table
    assert "FAIL" in table and "Traceback" not in done.stderr


def test_a_backtest_on_a_recording_with_bad_lines_runs_and_names_them(tmp_path: Path) -> None:
    lines = _lines(8_000)
    for edit in (level_1e27, nested_100k, local_time_beyond_int64, venue_time_beyond_int64):
        edit(lines)
    data = tmp_path / "bad.jsonl.gz"
    data.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    config = tmp_path / "bad.toml"
    demo = (REPO / "examples" / "demo_mm.toml").read_text()
    demo = demo.replace(
        'paths = ["../data/binance/binance_usdm_btcusdt_20240808.jsonl.gz"]', f'paths = ["{data}"]'
    )
    config.write_text(
        demo.replace('path = "symmetric_mm.py"', f'path = "{REPO / "examples" / "symmetric_mm.py"}"')
    )

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tradewright.cli.main",
            "backtest",
            str(config),
            "--json",
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    for reason in ("out_of_range", "too_deep"):
        assert re.search(rf"bad\.jsonl\.gz:\d+: {reason}: ", done.stderr), done.stderr[-3000:]
    assert json.loads(done.stdout)["events"] > 10_000
