"""The run report, as a user meets it: the demo's report.html in a real headless browser, `tradewright
report` rebuilding it (and refusing damaged folders), `--compare`, and the journal export."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.research.chromium import open_page

DEMO = REPO / "examples" / "demo_mm.toml"
CHARTS = ("price", "equity", "drawdown", "inventory", "returns", "attribution", "inventory-dist")


def tradewright(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo backtest, and the same with quotes one tick further out."""
    base = tmp_path_factory.mktemp("report")
    first = tradewright("backtest", str(DEMO), "--quiet", "--out", str(base / "demo"), cwd=base)
    assert first.returncode == 0, first.stderr
    # A config file of its own (not --set) so that the run folder's config.toml shows the difference.
    text = DEMO.read_text().replace("offset_ticks = 0", "offset_ticks = 1")
    text = text.replace('path = "symmetric_mm.py"', f'path = "{REPO / "examples" / "symmetric_mm.py"}"')
    (base / "off1.toml").write_text(text.replace('"../data/', f'"{REPO / "data"}/'))
    second = tradewright(
        "backtest", str(base / "off1.toml"), "--quiet", "--out", str(base / "off1"), cwd=base
    )
    assert second.returncode == 0, second.stderr
    return base / "demo", base / "off1"


def _chart_info(page_js: object) -> dict[str, dict[str, float]]:
    assert isinstance(page_js, str)
    info: dict[str, dict[str, float]] = json.loads(page_js)
    return info


_CHART_INFO = """JSON.stringify(Object.fromEntries([...document.querySelectorAll('[data-chart]')].map(box => {
    const canvas = box.querySelector('canvas'); const r = canvas.getBoundingClientRect();
    return [box.dataset.chart, {points: Number(box.dataset.points), width: r.width, height: r.height}];
})))"""
_SHOW_DATA = """(show => { for (const u of Object.values(window.twCharts))
    u.series.forEach((s, i) => { if (i > 0) u.setSeries(i, {show}); }); return true; })(%s)"""
_OVERFLOW = """[...document.querySelectorAll('.card, .kpi')].filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => el.textContent.slice(0, 60))"""


def test_demo_report_opens_offline_in_headless_chromium_without_errors_and_draws_every_chart(
    runs: tuple[Path, Path],
) -> None:
    report = runs[0] / "report.html"
    text = report.read_text()
    assert "uPlot 1.6.32" in text and "Copyright (c) 2022 Leon Sorokin" in text, (
        "the vendored library, credited"
    )
    with open_page(report) as page:
        assert page.wait_for("document.body.dataset.chartsRendered") == str(len(CHARTS))
        assert page.evaluate("typeof uPlot") == "function"
        charts = _chart_info(page.evaluate(_CHART_INFO))
        assert set(charts) == set(CHARTS)
        for name, chart in charts.items():
            assert chart["points"] > 0, f"{name} drew nothing"
            assert chart["width"] > 300 and chart["height"] > 100, (name, chart)
        # Screenshots: each chart's pixels with its data shown, and again with every data series hidden
        # (frame, grid and labels only). The difference is what the data drew.
        drawn = {name: page.element_ink(f"#chart-{name} canvas") for name in charts}
        page.evaluate(_SHOW_DATA % "false")
        frame = {name: page.element_ink(f"#chart-{name} canvas") for name in charts}
        for name in charts:
            assert drawn[name] - frame[name] > 300, (
                f"{name}: the data drew only {drawn[name] - frame[name]} pixels"
            )
        page.evaluate(_SHOW_DATA % "true")
        fills = page.evaluate(
            "window.twCharts.price.data.slice(-2).reduce((n, col) => n + col.filter(v => v !== null).length, 0)"
        )
        overflowing = page.evaluate(_OVERFLOW)
        shot = page.screenshot_full(runs[0].parent / "demo-report.png")
        errors = page.log.errors()
        requests = list(page.log.requests)
    with (runs[0] / "fills.csv").open() as fh:
        assert fills == sum(1 for _ in csv.DictReader(fh)), "every fill is a marker on the price chart"
    assert overflowing == [], "numbers never overflow their cards"
    assert shot.stat().st_size > 50_000
    assert errors == []
    assert all(url.startswith(("file://", "data:")) for url in requests), requests


def test_report_charts_zoom_with_the_wheel_and_time_axes_move_together(runs: tuple[Path, Path]) -> None:
    with open_page(runs[0] / "report.html") as page:
        page.wait_for("document.body.dataset.chartsRendered")
        scale = "JSON.stringify([window.twCharts.%s.scales.x.min, window.twCharts.%s.scales.x.max])"
        before = {c: json.loads(page.evaluate(scale % (c, c))) for c in ("price", "equity")}
        page.evaluate(
            """(async () => { const over = document.querySelector('#chart-price .u-over'); const r = over.getBoundingClientRect();
            for (let i = 0; i < 8; i++) {  // one wheel notch a frame, as a hand turns it
                over.dispatchEvent(new WheelEvent('wheel', {deltaY: -100, clientX: r.left + r.width / 2,
                    clientY: r.top + r.height / 2, bubbles: true, cancelable: true}));
                await new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
            } return true; })()"""
        )
        after = {c: json.loads(page.evaluate(scale % (c, c))) for c in ("price", "equity")}
        # Zoomed in 8 steps of 0.75: a tenth of the span, on both charts.
        span = before["price"][1] - before["price"][0]
        assert after["price"][1] - after["price"][0] < span / 5
        assert after["equity"] == after["price"]
        page.evaluate(
            "document.querySelector('#chart-price .u-over').dispatchEvent(new MouseEvent('dblclick', {bubbles: true}))"
        )
        reset = json.loads(page.evaluate(scale % ("price", "price")))
        assert reset[1] - reset[0] >= span * 0.99
        assert page.log.errors() == []


def test_report_command_rebuilds_the_same_page_from_the_run_folder(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(runs[0], copy)
    (copy / "report.html").unlink()
    result = tradewright("report", str(copy), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (copy / "report.html").read_bytes() == (runs[0] / "report.html").read_bytes()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate equity.csv", "equity.csv:"),
        ("delete fills.csv", "fills.csv: file is missing from the run folder"),
        ("garble orders.csv", "orders.csv:"),
        ("empty summary.json", "summary.json"),
    ],
)
def test_report_on_a_damaged_run_folder_names_the_file_and_writes_no_page(
    runs: tuple[Path, Path], tmp_path: Path, damage: str, message: str
) -> None:
    copy = tmp_path / "run"
    shutil.copytree(runs[0], copy)
    before = (copy / "report.html").read_bytes()
    verb, name = damage.split()
    path = copy / name
    if verb == "truncate":
        text = path.read_text()
        path.write_text(text[: len(text) // 2 + 7])  # cut mid-row: no final line end
    elif verb == "delete":
        path.unlink()
    elif verb == "garble":
        lines = path.read_text().splitlines(keepends=True)
        lines[5] = lines[5].replace(",", ",,", 1)
        path.write_text("".join(lines))
    else:
        path.write_text("")
    result = tradewright("report", str(copy), cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert (copy / "report.html").read_bytes() == before, "the old page stays; no half-drawn page replaces it"
    assert not list(copy.glob(".*tmp*"))


def test_truncated_equity_error_names_the_line(runs: tuple[Path, Path], tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(runs[0], copy)
    text = (copy / "equity.csv").read_text()
    (copy / "equity.csv").write_text(text[:-5])
    result = tradewright("report", str(copy), cwd=tmp_path)
    lines = text.count("\n")
    assert result.returncode == 2
    assert f"equity.csv:{lines}: the last line has no line end: the file was cut off mid-row" in result.stderr


def test_compare_puts_two_runs_on_one_page_that_renders(runs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "compare.html"
    result = tradewright("report", "--compare", str(runs[0]), str(runs[1]), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page_text = out.read_text()
    for name in ("demo", "off1", "offset_ticks = 0", "offset_ticks = 1", "net PnL", "Sharpe ratio"):
        assert name in page_text
    with open_page(out) as page:
        assert page.wait_for("document.body.dataset.chartsRendered") == "4"
        charts = _chart_info(page.evaluate(_CHART_INFO))
        # Both runs are drawn on the PnL chart: two series with points.
        series = page.evaluate("window.twCharts.pnl.series.slice(1).map(s => s.label)")
        assert series == ["demo", "off1"]
        assert all(c["points"] > 0 for c in charts.values()), charts
        assert page.log.errors() == []


def test_report_refuses_a_run_dir_and_compare_together(runs: tuple[Path, Path], tmp_path: Path) -> None:
    result = tradewright("report", str(runs[0]), "--compare", str(runs[0]), str(runs[1]), cwd=tmp_path)
    assert result.returncode == 2
    assert "either RUN_DIR or --compare" in result.stderr


def test_journal_exports_every_round_trip_as_csv_and_json(runs: tuple[Path, Path], tmp_path: Path) -> None:
    folder = runs[0]
    as_csv = tradewright("journal", str(folder), "--format", "csv", cwd=tmp_path)
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    out = tmp_path / "journal.json"
    as_json = tradewright("journal", str(folder), "--format", "json", "--out", str(out), cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    trips = json.loads(out.read_text())["round_trips"]
    assert len(rows) == len(trips) > 100
    assert f"{len(rows)} round trips" in as_json.stderr
    for column in (
        "entry_ts_iso",
        "exit_ts_iso",
        "side",
        "size",
        "entry_avg_px",
        "exit_avg_px",
        "pnl",
        "fees",
        "net_pnl",
        "r_multiple",
        "regime",
        "entry_reason",
        "exit_reason",
    ):
        assert column in rows[0]
    # Realised PnL of the round trips is the fills' own realised PnL (FIFO both), to the last digit.
    with (folder / "fills.csv").open() as fh:
        last = list(csv.DictReader(fh))[-1]
    assert sum(Decimal(r["pnl"]) for r in rows) == Decimal(last["realized_pnl_after"])
