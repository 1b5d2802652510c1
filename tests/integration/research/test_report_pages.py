"""Report pages built from run folders: exact figures on a hand-checked run, options, damaged and empty
runs, and a long run whose drawing is reduced while every fill stays in the page."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tests.unit.analysis.run_folder import RunFolderBuilder
from tradewright.analysis.charts import DEFAULT_MAX_POINTS
from tradewright.analysis.returns import Calendar, Sampling
from tradewright.analysis.run_analysis import analyse_run, contract_terms
from tradewright.analysis.run_outputs import load_run
from tradewright.analysis.run_summary import build_report_html
from tradewright.core.errors import DataError


def _payload(page: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(page.split('id="tw-data">')[1].split("</script>")[0])
    return data


def _chart(page: str, chart_id: str) -> dict[str, object]:
    charts = _payload(page)["charts"]
    assert isinstance(charts, list)
    chart: dict[str, object] = next(c for c in charts if c["id"] == chart_id)
    return chart


def test_the_page_shows_the_hand_checked_attribution_and_the_annualisation(tmp_path: Path) -> None:
    page = build_report_html(RunFolderBuilder().write(tmp_path / "tiny"))
    # run_folder.py works these out by hand: 0.05 − 0.139995 + 0.06 + 0 = −0.029995.
    for text in ("0.05", "-0.139995", "0.06", "-0.029995", "Backtest: tiny_mm"):
        assert f">{text}<" in page, text
    assert "1 s returns on a regular grid" in page and "31,536,000 periods a year" in page
    steps = _chart(page, "attribution")["steps"]
    assert steps == [["spread", 0.05], ["fees", -0.139995], ["inventory", 0.06], ["other", 0.0]]
    assert "file://" not in page and "<script src" not in page and "<link" not in page


def test_calendar_and_sampling_are_the_callers_choice(tmp_path: Path) -> None:
    page = build_report_html(
        RunFolderBuilder().write(tmp_path / "tiny"),
        calendar=Calendar.us_equities(),
        sampling=Sampling.every(5 * 10**9),
    )
    assert "5 s returns" in page and "us_equities calendar" in page
    assert "1,179,360 periods a year" in page  # 252 sessions × 6.5 h / 5 s


def test_an_analytic_that_cannot_be_computed_is_named_on_a_page_that_still_renders(tmp_path: Path) -> None:
    folder = (
        RunFolderBuilder()
        .with_line(
            "fills.csv",
            3,
            (
                "1700000003200000000,2023-11-14T22:13:23.200000Z,O2,2,BINANCE-2,BTCUSDT-PERP.BINANCE,SELL,100.03,1,MAKER,"
                "0.010003,USDT,5,0.08"
            ),
        )
        .write(tmp_path / "odd")
    )
    page = build_report_html(folder)
    assert "Round trips not shown:" in page and "position_after is 5" in page
    assert _chart(page, "equity")["series"]


def test_a_run_without_equity_rows_gets_a_page_that_says_so(tmp_path: Path) -> None:
    header = RunFolderBuilder().files["equity.csv"].splitlines()[0] + "\n"
    folder = (
        RunFolderBuilder()
        .with_text("equity.csv", header)
        .with_text("fills.csv", RunFolderBuilder().files["fills.csv"].splitlines()[0] + "\n")
        .write(tmp_path / "empty")
    )
    page = build_report_html(folder)
    assert "recorded no equity rows" in page and _payload(page)["charts"] == []


def test_a_damaged_folder_raises_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"equity\.csv:\d+: the last line has no line end"):
        build_report_html(RunFolderBuilder().truncated("equity.csv", 3).write(tmp_path / "cut"))


def _long_run(folder: Path, rows: int, fills_every: int, multiplier: int = 1) -> int:
    """A consistent synthetic run: mid random walk on a 0.01 grid, position flips between 0 and 1 with a
    maker fill at the mid every `fills_every` rows, fee 0, contract multiplier `multiplier`. Returns the
    number of fills."""
    builder = RunFolderBuilder()
    rng = np.random.default_rng(1)
    mid_cents = 10_000_00 + np.cumsum(rng.integers(-3, 4, size=rows))
    t0 = 1_700_000_000_000_000_000
    eq_lines = [builder.files["equity.csv"].splitlines()[0]]
    fill_lines = [builder.files["fills.csv"].splitlines()[0]]
    position, cash_cents = 0, 10_000_00 * 100
    for k in range(rows):
        ts = t0 + k * 100_000_000
        m = int(mid_cents[k])
        if k % fills_every == fills_every - 1:
            side = "BUY" if position == 0 else "SELL"
            position = 1 - position
            cash_cents += (-m if side == "BUY" else m) * multiplier
            fill_lines.append(
                f"{ts},x,O{k},{k},T{k},BTCUSDT-PERP.BINANCE,{side},{m / 100:.2f},1,MAKER,0,USDT,{position},0"
            )
        equity = cash_cents + position * m * multiplier
        mid = f"{m / 100:.2f}"
        eq_lines.append(
            f"{ts},x,{mid},{(m - 1) / 100:.2f},{(m + 1) / 100:.2f},,,{position},{cash_cents / 100:.2f},"
            f"{equity / 100:.2f},0,0,0"
        )
    builder.with_text("equity.csv", "\n".join(eq_lines) + "\n").with_text(
        "fills.csv", "\n".join(fill_lines) + "\n"
    )
    builder.write(folder)
    return len(fill_lines) - 1


def test_a_long_run_is_drawn_reduced_but_keeps_every_fill(tmp_path: Path) -> None:
    fills = _long_run(tmp_path / "long", rows=100_000, fills_every=10)
    started = time.perf_counter()
    page = build_report_html(tmp_path / "long")
    seconds = time.perf_counter() - started
    price = _chart(page, "price")
    series = price["series"]
    markers = price["markers"]
    assert isinstance(series, list) and isinstance(markers, list)
    # One time axis per chart (uPlot draws aligned columns): each line reduced to at most
    # DEFAULT_MAX_POINTS points of its own, plus the fills' times.
    assert len(price["x"]) <= len(series) * DEFAULT_MAX_POINTS + fills
    assert all(sum(y is not None for y in s["y"]) <= len(price["x"]) for s in series)
    assert sum(m["count"] for m in markers) == fills == 10_000
    assert sum(sum(y is not None for y in m["y"]) for m in markers) == fills, "every fill is drawn"
    assert len(page) < 8_000_000
    assert seconds < 60, f"building the page took {seconds:.1f} s"


def test_the_contract_multiplier_is_read_off_the_equity_rows(tmp_path: Path) -> None:
    fills = _long_run(tmp_path / "es", rows=2_000, fills_every=8, multiplier=50)
    assert fills % 2 == 0  # ends flat
    run = load_run(tmp_path / "es")
    terms, problem = contract_terms(run)
    assert problem is None and terms is not None and terms.multiplier == 50 and not terms.inverse
    analysis = analyse_run(run)
    assert analysis.market_making is not None and analysis.journal is not None
    # With m = 50 the attribution closes exactly (with m = 1 "other" would hold 49/50 of the PnL), and
    # the round trips' PnL is the whole change of equity (no fees, flat at the end).
    assert analysis.market_making.attribution.other == 0
    assert analysis.journal.pnl == run.equity.equity[-1] - run.equity.equity[0] != 0
    assert contract_terms(load_run(RunFolderBuilder().write(tmp_path / "tiny"))) == (None, None)


def test_the_journal_command_applies_the_contract_multiplier(tmp_path: Path) -> None:
    from tradewright.cli.main import main

    _long_run(tmp_path / "es", rows=400, fills_every=8, multiplier=50)
    assert main(["journal", str(tmp_path / "es"), "--format", "json", "--out", str(tmp_path / "j.json")]) == 0
    trips = json.loads((tmp_path / "j.json").read_text())["round_trips"]
    run = load_run(tmp_path / "es")
    assert sum(Decimal(t["pnl"]) for t in trips) == run.equity.equity[-1] - run.equity.equity[0] != 0
