"""Market-making analytics on the hand-worked tiny run (see run_folder.py for the arithmetic)."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import msgspec
import numpy as np
import pytest

from tests.unit.analysis.run_folder import RunFolderBuilder
from tradewright.analysis.market_making import analyse_market_making, inventory_histogram
from tradewright.analysis.run_outputs import RunOutputs, load_run
from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId
from tradewright.model.enums import LiquiditySide
from tradewright.model.instrument import Instrument, InstrumentKind

D = Decimal
S = 1_000_000_000


def tiny_run(tmp_path: Path, builder: RunFolderBuilder | None = None) -> RunOutputs:
    return load_run((builder or RunFolderBuilder()).write(tmp_path / "run"))


def test_fill_ratio_counts_quotes_that_reached_the_venue(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)

    ratio = analyse_market_making(run.fills, run.equity, run.orders).fill_ratio

    # Quotes: O1, O2, O4, O5, O6 (O3 is a market order, O7 was denied, O8 rejected).
    assert ratio is not None
    assert (ratio.quotes, ratio.quotes_filled, ratio.quotes_fully_filled) == (5, 3, 3)
    assert (ratio.quoted_qty, ratio.filled_qty) == (D(8), D(4))
    assert (ratio.qty_ratio, ratio.order_ratio) == (0.5, 0.6)


def test_without_orders_there_is_no_fill_ratio(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)

    assert analyse_market_making(run.fills, run.equity).fill_ratio is None


def test_maker_share_by_quantity_and_by_fill(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)

    share = analyse_market_making(run.fills, run.equity).maker_share

    assert (share.maker_qty, share.taker_qty, share.maker_fills, share.taker_fills) == (D(4), D(2), 3, 1)
    assert share.qty_share == pytest.approx(4 / 6) and share.fill_share == 0.75


def test_spread_captured_against_the_mid_at_fill_time(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)

    report = analyse_market_making(run.fills, run.equity)

    assert [(f.mid, f.captured) for f in report.fills] == [
        (D("99.97"), D("0.04")),  # bought 2 at 99.95, 2 ticks under the mid
        (D("100.01"), D("0.02")),  # sold 1 at 100.03
        (D("100.01"), D("-0.02")),  # crossed: sold 2 at 100.00, under the mid
        (D("100.03"), D("0.01")),  # the last row at that timestamp gives the mid
    ]
    assert report.fills[0].captured_bps == pytest.approx(0.02 / 99.97 * 1e4, rel=1e-12)
    assert report.fills[2].captured_bps == pytest.approx(-0.01 / 100.01 * 1e4, rel=1e-12)
    assert report.fills[2].liquidity is LiquiditySide.TAKER
    assert report.spread_captured == D("0.05")
    weighted = (2 * 0.02 / 99.97 + 0.02 / 100.01 - 2 * 0.01 / 100.01 + 0.01 / 100.03) / 6 * 1e4
    assert report.spread_captured_bps == pytest.approx(weighted, rel=1e-12)


def test_adverse_selection_at_1_10_and_60_seconds(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)

    one, ten, sixty = analyse_market_making(run.fills, run.equity).adverse_selection

    # +1 s: mids 99.96, 100.02, 100.03, 100.05 -> 2×0.01 + 0.01 + 2×0.02 − 0.02 against us.
    assert (one.horizon_ns, one.fills_measured, one.qty_measured, one.total) == (S, 4, D(6), D("0.05"))
    # +10 s: all four see the 100.04 of T0 + 10 s.
    assert (ten.fills_measured, ten.total) == (4, D("-0.06"))
    # +60 s: the run ends at T0 + 65 s, so the last fill (T0 + 6 s) is not measured.
    assert (sixty.fills_measured, sixty.qty_measured, sixty.total) == (3, D(5), D("-0.03"))
    expected_bps = (2 * 0.01 / 99.97 + 0.01 / 100.01 + 2 * 0.02 / 100.01 - 0.02 / 100.03) / 6 * 1e4
    assert one.mean_bps == pytest.approx(expected_bps, rel=1e-12)


def test_custom_horizons(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)

    (half,) = analyse_market_making(run.fills, run.equity, horizons_ns=[S // 2]).adverse_selection

    # +0.5 s lands exactly on the rows at T0 + 2 s (99.96, against F1) and T0 + 5 s (100.03, against F3);
    # F2 and F4 still see their own rows' mids.
    assert (half.fills_measured, half.total) == (4, D("0.02") + D("0.04"))


def test_inventory_is_weighted_by_time(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)

    inventory = analyse_market_making(run.fills, run.equity, inventory_limit=D(2)).inventory

    assert inventory.levels == (
        (D(-1), 1_500_000_000),
        (D(0), 60_500_000_000),
        (D(1), 1_300_000_000),
        (D(2), 1_700_000_000),
    )
    assert inventory.observed_ns == 65 * S
    assert inventory.time_at_limit_ns == 1_700_000_000
    assert inventory.share_at_limit == pytest.approx(1.7 / 65)
    assert inventory.mean_position == pytest.approx((2 * 1.7 + 1.3 - 1.5) / 65)
    assert inventory.max_abs_position == D(2)


def test_inventory_without_a_limit(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)

    inventory = analyse_market_making(run.fills, run.equity).inventory

    assert inventory.limit is None and inventory.time_at_limit_ns is None and inventory.share_at_limit is None


def test_inventory_histogram(tmp_path: Path) -> None:
    equity = tiny_run(tmp_path).equity

    edges, ns = inventory_histogram(equity, [-2.5, -0.5, 0.5, 2.5])

    assert edges.tolist() == [-2.5, -0.5, 0.5, 2.5]
    np.testing.assert_array_equal(ns, [1_500_000_000, 60_500_000_000, 3_000_000_000])


def test_fees(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)

    fees = analyse_market_making(run.fills, run.equity).fees

    assert (fees.total, fees.maker, fees.taker, fees.currency) == (
        D("0.139995"),
        D("0.039995"),
        D("0.1"),
        "USDT",
    )


def test_pnl_attribution_adds_up_exactly(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)

    pnl = analyse_market_making(run.fills, run.equity).attribution

    assert pnl.total == D("-0.029995") == D(run.summary["net_pnl"])
    assert (pnl.spread_captured, pnl.fees, pnl.inventory, pnl.other) == (
        D("0.05"),
        D("0.139995"),
        D("0.06"),
        D(0),
    )
    assert pnl.spread_captured - pnl.fees + pnl.inventory + pnl.other == pnl.total


def test_cash_that_fills_do_not_explain_shows_up_as_other(tmp_path: Path) -> None:
    # A funding payment of 0.5 USDT just before T0 + 20 s, while flat: cash and equity drop, no fill.
    builder = RunFolderBuilder()
    for line in range(15, 21):  # the rows from T0 + 20 s on
        row = builder.files["equity.csv"].splitlines()[line - 1]
        builder.with_line(
            "equity.csv", line, row.replace(",9999.970005,9999.970005,", ",9999.470005,9999.470005,")
        )
    run = tiny_run(tmp_path, builder)

    pnl = analyse_market_making(run.fills, run.equity).attribution

    assert pnl.other == D("-0.5") and pnl.total == D("-0.529995")
    assert pnl.spread_captured - pnl.fees + pnl.inventory + pnl.other == pnl.total


def test_a_wrong_multiplier_shows_up_as_other(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)
    ten_x = Instrument(
        id=InstrumentId.parse("BTCUSDT-PERP.BINANCE"), kind=InstrumentKind.PERPETUAL, base="BTC", quote="USDT",
        settle="USDT", tick_size=D("0.01"), lot_size=D(1), multiplier=D(10),
    )  # fmt: skip

    report = analyse_market_making(run.fills, run.equity, instrument=ten_x)

    assert report.spread_captured == D("0.5") and report.attribution.inventory == D("0.6")
    assert report.attribution.other != 0


def test_inverse_contracts_are_refused(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)
    inverse = Instrument(
        id=InstrumentId.parse("BTCUSD-PERP.BINANCE"), kind=InstrumentKind.PERPETUAL, base="BTC", quote="USD",
        settle="BTC", tick_size=D("0.1"), lot_size=D(1), multiplier=D(100), inverse=True,
    )  # fmt: skip

    with pytest.raises(ValueError, match="linear"):
        analyse_market_making(run.fills, run.equity, instrument=inverse)


def test_fills_of_two_instruments_are_refused(tmp_path: Path) -> None:
    eth = "1700000006000000000,2023-11-14T22:13:26.000000Z,O4,4,BINANCE-4,ETHUSDT-PERP.BINANCE,BUY,100.02,1,MAKER,0.010002,USDT,1,0"
    run = tiny_run(tmp_path, RunFolderBuilder().with_line("fills.csv", 5, eth))

    with pytest.raises(DataError, match="2 instruments"):
        analyse_market_making(run.fills, run.equity)


def test_a_position_without_a_mid_cannot_be_attributed(tmp_path: Path) -> None:
    row = "1700000002000000000,2023-11-14T22:13:22.000000Z,,,,99.90,100.03,2,9800.08001,10000.00001,0,0.02,0.01999"
    run = tiny_run(tmp_path, RunFolderBuilder().with_line("equity.csv", 5, row))

    with pytest.raises(DataError, match=r"equity.csv:5: no mid while the position is 2"):
        analyse_market_making(run.fills, run.equity)


def test_a_fill_before_the_first_mid_cannot_be_attributed(tmp_path: Path) -> None:
    builder = RunFolderBuilder()
    for line in (2, 3):  # no book yet in the first two rows
        cells = builder.files["equity.csv"].splitlines()[line - 1].split(",")
        cells[2:5] = ["", "", ""]
        builder.with_line("equity.csv", line, ",".join(cells))
    run = tiny_run(tmp_path, builder)
    early = run.fills[0].ts_event_ns - S
    shifted = msgspec.structs.replace(run.fills[0], ts_event_ns=early)

    with pytest.raises(DataError, match=r"fills:2: no mid as of this fill"):
        analyse_market_making([shifted, *run.fills[1:]], run.equity)


def test_an_empty_equity_curve_is_refused(tmp_path: Path) -> None:
    header = RunFolderBuilder().files["equity.csv"].splitlines()[0] + "\n"
    run = tiny_run(tmp_path, RunFolderBuilder().with_text("equity.csv", header))

    with pytest.raises(DataError, match="no rows"):
        analyse_market_making(run.fills, run.equity)


def test_no_fills_gives_empty_statistics(tmp_path: Path) -> None:
    run = tiny_run(tmp_path)

    report = analyse_market_making([], run.equity)

    assert report.spread_captured == 0 and math.isnan(report.spread_captured_bps)
    assert math.isnan(report.maker_share.fill_share) and report.adverse_selection[0].fills_measured == 0
    # The equity curve still moved (its positions came from fills not given): all of it but the
    # inventory term is unexplained.
    pnl = report.attribution
    assert pnl.other == pnl.total - pnl.inventory and pnl.spread_captured == pnl.fees == 0


def test_a_fill_booked_one_latency_after_it_happened_leaves_nothing_in_other(tmp_path: Path) -> None:
    # F1 happened at +1.2 s (mid 100.00) but the run heard of it at +1.5 s (mid 99.97), where its row is.
    builder = RunFolderBuilder().with_line(
        "fills.csv",
        2,
        "1700000001200000000,2023-11-14T22:13:21.200000Z,O1,1,BINANCE-1,BTCUSDT-PERP.BINANCE,BUY,99.95,2,"
        "MAKER,0.01999,USDT,2,0",
    )
    run = tiny_run(tmp_path, builder)

    pnl = analyse_market_making(run.fills, run.equity).attribution

    # Spread at the fill's own time: 2 × (100.00 − 99.95) = 0.10 (was 0.04 at the booking row's mid);
    # the 0.03 the mid fell on those 2 before the booking row is inventory PnL: 0.06 − 0.06 = 0.00.
    assert pnl.spread_captured == D("0.11") and pnl.inventory == D("0.00")
    assert pnl.other == 0
    assert pnl.spread_captured - pnl.fees + pnl.inventory == pnl.total
