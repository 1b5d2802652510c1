"""Stitching out-of-sample runs: exact PnL across windows, time order, and the combined report."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.unit.analysis.run_folder import RunFolderBuilder
from tradewright.analysis.returns import Calendar
from tradewright.analysis.run_analysis import analyse_run
from tradewright.analysis.run_outputs import load_run
from tradewright.analysis.walkforward import WindowSummary, stitch, write_walkforward_report
from tradewright.core.errors import DataError
from tradewright.research.walkforward import plan_windows

MINUTE = 60_000_000_000


def _shifted(builder: RunFolderBuilder, shift_ns: int) -> RunFolderBuilder:
    """The tiny run moved later in time by `shift_ns` (every timestamp column)."""
    for name, columns in (("equity.csv", (0,)), ("fills.csv", (0,)), ("orders.csv", (13, 14))):
        header, *rows = builder.files[name].splitlines()
        out = [header]
        for row in rows:
            cells = row.split(",")
            for c in columns:
                cells[c] = str(int(cells[c]) + shift_ns)
            out.append(",".join(cells))
        builder.files[name] = "\n".join(out) + "\n"
    return builder


def _window(folder: Path, shift_ns: int) -> Path:
    return _shifted(RunFolderBuilder(), shift_ns).write(folder)


def test_stitched_equity_adds_each_windows_pnl_exactly(tmp_path: Path) -> None:
    runs = [analyse_run(load_run(_window(tmp_path / f"w{i}", i * 2 * MINUTE))) for i in range(3)]
    record = stitch(runs)
    # The tiny run loses 0.029995 from 10 000; three in a row lose exactly three times that.
    assert record.final_equity == Decimal("10000") - 3 * Decimal("0.029995")
    assert record.window_starts == (0, 19, 38)
    assert record.equity[19] == Decimal("10000") - Decimal("0.029995")
    assert list(record.ts_ns) == sorted(record.ts_ns)


def test_rows_after_the_next_window_starts_are_not_drawn_but_their_pnl_counts(tmp_path: Path) -> None:
    # The second window starts 60 s after the first, while the first still has rows up to +65 s.
    runs = [analyse_run(load_run(_window(tmp_path / f"w{i}", i * MINUTE))) for i in range(2)]
    record = stitch(runs)
    assert record.window_starts[1] == 17  # rows at +60 s and +65 s of the first window are cut
    assert record.final_equity == Decimal("10000") - 2 * Decimal("0.029995")


def test_overlapping_runs_are_refused(tmp_path: Path) -> None:
    first = analyse_run(load_run(_window(tmp_path / "a", 0)))
    with pytest.raises(DataError, match="overlap"):
        stitch([first, first])


def test_the_out_of_sample_report_lists_every_window(tmp_path: Path) -> None:
    folders = [_window(tmp_path / "windows" / f"w{i:02d}" / "test", i * 2 * MINUTE) for i in range(2)]
    t0 = 1_700_000_000_000_000_000
    windows = [
        WindowSummary(
            index=i,
            train_start_ns=t0 + (i - 1) * 2 * MINUTE,
            train_end_ns=t0 + i * 2 * MINUTE,
            test_start_ns=t0 + i * 2 * MINUTE,
            test_end_ns=t0 + (i + 1) * 2 * MINUTE,
            params={"strategy.params.offset_ticks": i},
            in_sample_value=1.5 - i,
            trials=3,
            test_run=folder.resolve(),
        )
        for i, folder in enumerate(folders)
    ] + [
        WindowSummary(
            index=2,
            train_start_ns=0,
            train_end_ns=0,
            test_start_ns=t0 + 4 * MINUTE,
            test_end_ns=t0 + 6 * MINUTE,
            params={},
            in_sample_value=None,
            trials=3,
            test_run=None,
            note="no in-sample trial had a finite metric",
        )
    ]
    path = write_walkforward_report(
        tmp_path,
        windows,
        title="wf",
        metric="sharpe",
        direction="maximize",
        config_text='[run]\nname = "x"\n',
        settings=[("windows", "3")],
        calendar=Calendar.crypto(),
        sampling=None,
    )
    page = path.read_text()
    assert 'href="windows/w00/test/report.html"' in page and 'href="windows/w01/test/report.html"' in page
    assert "offset_ticks=1" in page and "no in-sample trial had a finite metric" in page
    assert ">-0.059990<" in page, "out-of-sample net PnL of both windows"
    payload = json.loads(page.split('id="tw-data">')[1].split("</script>")[0])
    equity = next(c for c in payload["charts"] if c["id"] == "equity")
    assert len(equity["vlines"]) == 2


def test_windows_roll_or_anchor_and_must_fit() -> None:
    rolling = plan_windows(0, 10 * MINUTE, train_ns=3 * MINUTE, test_ns=2 * MINUTE, step_ns=2 * MINUTE)
    assert [
        (w.train_start_ns // MINUTE, w.test_start_ns // MINUTE, w.test_end_ns // MINUTE) for w in rolling
    ] == [(0, 3, 5), (2, 5, 7), (4, 7, 9)]
    anchored = plan_windows(
        0, 10 * MINUTE, train_ns=3 * MINUTE, test_ns=2 * MINUTE, step_ns=2 * MINUTE, anchored=True
    )
    assert [w.train_start_ns for w in anchored] == [0, 0, 0] and anchored[-1].train_end_ns == 7 * MINUTE
    from tradewright.core.errors import ConfigError

    with pytest.raises(ConfigError, match="too short"):
        plan_windows(0, MINUTE, train_ns=MINUTE, test_ns=MINUTE, step_ns=MINUTE)
