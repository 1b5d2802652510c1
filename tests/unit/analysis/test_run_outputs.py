"""Loading a run folder: typed records from the documented CSVs, and a clear refusal of anything broken."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tests.unit.analysis.run_folder import T0, RunFolderBuilder
from tradewright.analysis.run_outputs import EquityTable, load_run, read_fills
from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId
from tradewright.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce

D = Decimal
BTC = InstrumentId.parse("BTCUSDT-PERP.BINANCE")


def error_for(tmp_path: Path, builder: RunFolderBuilder) -> DataError:
    with pytest.raises(DataError) as info:
        load_run(builder.write(tmp_path / "run"))
    return info.value


# --- a good run -----------------------------------------------------------------------------------


def test_load_run_reads_every_file_into_typed_records(tmp_path: Path) -> None:
    run = load_run(RunFolderBuilder().write(tmp_path / "run"))

    assert run.config["strategy"]["class"] == "SymmetricMarketMaker"
    assert run.config_text.startswith("[run]\n")
    assert run.summary["final_equity"] == "9999.970005"
    assert [o.client_order_id for o in run.orders] == ["O1", "O2", "O6", "O7", "O8", "O5", "O3", "O4"]
    assert len(run.fills) == 4 and len(run.equity) == 19


def test_orders_are_typed(tmp_path: Path) -> None:
    run = load_run(RunFolderBuilder().write(tmp_path / "run"))
    by_id = {o.client_order_id: o for o in run.orders}

    o1, o3 = by_id["O1"], by_id["O3"]
    assert o1.instrument_id == BTC and o1.side is OrderSide.BUY and o1.order_type is OrderType.LIMIT
    assert o1.time_in_force is TimeInForce.GTC and o1.post_only is True and o1.reduce_only is False
    assert (o1.price, o1.quantity, o1.filled_qty, o1.avg_px, o1.fees) == (
        D("99.95"),
        D(2),
        D(2),
        D("99.95"),
        D("0.01999"),
    )
    assert o1.status is OrderStatus.FILLED and o1.ts_last_ns == T0 + 1_500_000_000
    assert o3.order_type is OrderType.MARKET and o3.price is None and o3.time_in_force is TimeInForce.IOC
    assert by_id["O6"].avg_px is None and by_id["O6"].reason == "strategy stopped"


def test_fills_are_typed_and_remember_their_line(tmp_path: Path) -> None:
    fills = load_run(RunFolderBuilder().write(tmp_path / "run")).fills

    f3 = fills[2]
    assert f3.ts_event_ns == T0 + 4_500_000_000 and f3.client_order_id == "O3" and f3.trade_id == "BINANCE-3"
    assert f3.side is OrderSide.SELL and f3.liquidity is LiquiditySide.TAKER
    assert (f3.price, f3.quantity, f3.fee, f3.fee_currency) == (D("100.00"), D("2"), D("0.1"), "USDT")
    assert (f3.position_after, f3.realized_pnl_after) == (D("-1"), D("0.13"))
    assert (f3.tag_regime, f3.tag_reason, f3.risk_r) == (None, None, None)
    assert f3.line == 4


def test_equity_is_columnar_with_empty_quotes_as_none(tmp_path: Path) -> None:
    equity = load_run(RunFolderBuilder().write(tmp_path / "run")).equity

    assert equity.ts_ns.dtype == np.int64 and int(equity.ts_ns[2]) == T0 + 1_500_000_000
    assert equity.mid[2] == D("99.97") and equity.position[2] == D("2") and equity.cash[2] == D("9800.08001")
    assert equity.own_bid[-1] is None and equity.own_ask[-1] is None
    assert equity.equity[-1] == D("9999.970005") and equity.fees[-1] == D("0.139995")
    np.testing.assert_array_equal(equity.as_float("own_bid")[-2:], [np.nan, np.nan])
    assert EquityTable.line_of(3) == 5  # the header is line 1, row 0 is line 2


def test_optional_journal_tags_are_read_in_any_order(tmp_path: Path) -> None:
    builder = RunFolderBuilder().with_columns(
        "fills.csv", ",risk_r,tag_regime", [",5,trend", ",,trend", ",,", ",2.5,range"]
    )

    fills = load_run(builder.write(tmp_path / "run")).fills

    assert [(f.tag_regime, f.risk_r) for f in fills] == [
        ("trend", D(5)),
        ("trend", None),
        (None, None),
        ("range", D("2.5")),
    ]
    assert all(f.tag_reason is None for f in fills)


def test_quoted_cells_may_hold_commas(tmp_path: Path) -> None:
    line = (
        "O8,BTCUSDT-PERP.BINANCE,SELL,LIMIT,GTC,1,0,99.97,1,REJECTED,0,,0,1700000002500000000,"
        '1700000002500000000,"post-only order would cross, best bid 99.97"'
    )

    run = load_run(RunFolderBuilder().with_line("orders.csv", 6, line).write(tmp_path / "run"))

    assert run.orders[4].reason == "post-only order would cross, best bid 99.97"


# --- a broken run ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["orders.csv", "fills.csv", "equity.csv", "summary.json", "config.toml"])
def test_a_missing_file_is_named(tmp_path: Path, name: str) -> None:
    error = error_for(tmp_path, RunFolderBuilder().without(name))

    assert error.source.endswith(name) and "missing" in str(error)


def test_a_folder_that_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_run(tmp_path / "nope")


@pytest.mark.parametrize(
    "header",
    [
        "ts_ns,ts_iso,mid,best_bid,best_ask,own_bid,own_ask,position,cash,equity,realized_pnl,unrealized_pnl",
        "ts_ns,ts_iso,mid,best_ask,best_bid,own_bid,own_ask,position,cash,equity,realized_pnl,unrealized_pnl,fees",
        "ts_ns,ts_iso,mid,best_bid,best_ask,own_bid,own_ask,position,cash,equity,realized_pnl,unrealized_pnl,fees,x",
        "ts,ts_iso,mid,best_bid,best_ask,own_bid,own_ask,position,cash,equity,realized_pnl,unrealized_pnl,fees",
    ],
    ids=["missing column", "swapped columns", "unknown column", "renamed column"],
)
def test_a_wrong_header_is_refused_on_line_1(tmp_path: Path, header: str) -> None:
    error = error_for(tmp_path, RunFolderBuilder().with_line("equity.csv", 1, header))

    assert error.source.endswith("equity.csv") and error.line == 1 and "unexpected header" in str(error)


def test_an_optional_column_given_twice_is_refused(tmp_path: Path) -> None:
    builder = RunFolderBuilder().with_columns("fills.csv", ",tag_regime,tag_regime", [",a,a"] * 4)

    assert error_for(tmp_path, builder).line == 1


def test_a_short_row_is_named_by_line(tmp_path: Path) -> None:
    builder = RunFolderBuilder().with_line(
        "fills.csv",
        3,
        "1700000003200000000,2023-11-14T22:13:23.200000Z,O2,2,BINANCE-2,BTCUSDT-PERP.BINANCE,SELL",
    )

    error = error_for(tmp_path, builder)

    assert error.source.endswith("fills.csv") and error.line == 3
    assert "expected 14 fields, found 7" in str(error)


def test_a_long_row_is_named_by_line(tmp_path: Path) -> None:
    builder = RunFolderBuilder().with_lines_appended(
        "equity.csv",
        "1700000070000000000,2023-11-14T22:14:30.000000Z,100.1,100.09,100.11,,,0,9999.970005,9999.970005,0.11,0,0.139995,1",
    )

    assert error_for(tmp_path, builder).line == 21


@pytest.mark.parametrize("bad", ["1O0.03", "NaN", "Infinity", "1_000", " 100.03", "1,5", ""])
def test_a_bad_number_is_named_by_line_and_column(tmp_path: Path, bad: str) -> None:
    row = f'1700000003200000000,2023-11-14T22:13:23.200000Z,O2,2,BINANCE-2,BTCUSDT-PERP.BINANCE,SELL,"{bad}",1,MAKER,0.010003,USDT,1,0.08'
    error = error_for(tmp_path, RunFolderBuilder().with_line("fills.csv", 3, row))

    assert error.source.endswith("fills.csv") and error.line == 3
    assert re.search(r"column 'price': .* is not a decimal number", str(error))


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("O1,BTCUSDT-PERP.BINANCE,BUY,LIMIT,GTC,yes,0,99.95,2,FILLED,2,99.95,0.01999,1,2,", "post_only"),
        ("O1,BTCUSDT-PERP.BINANCE,BUY,LIMIT,GTC,1,0,99.95,2,DONE,2,99.95,0.01999,1,2,", "status"),
        ("O1,BTCUSDT-PERP.BINANCE,buy,LIMIT,GTC,1,0,99.95,2,FILLED,2,99.95,0.01999,1,2,", "side"),
        ("O1,BTCUSDT-PERP,BUY,LIMIT,GTC,1,0,99.95,2,FILLED,2,99.95,0.01999,1,2,", "instrument_id"),
        ("O1,BTCUSDT-PERP.BINANCE,BUY,LIMIT,GTC,1,0,99.95,2,FILLED,2,99.95,0.01999,1.5,2,", "ts_init_ns"),
    ],
)
def test_a_bad_cell_names_its_column(tmp_path: Path, line: str, column: str) -> None:
    error = error_for(tmp_path, RunFolderBuilder().with_line("orders.csv", 2, line))

    assert error.line == 2 and f"column {column!r}" in str(error)


def test_a_limit_order_without_a_price_is_refused(tmp_path: Path) -> None:
    line = "O1,BTCUSDT-PERP.BINANCE,BUY,LIMIT,GTC,1,0,,2,FILLED,2,99.95,0.01999,1,2,"

    error = error_for(tmp_path, RunFolderBuilder().with_line("orders.csv", 2, line))

    assert error.line == 2 and "needs a price" in str(error)


@pytest.mark.parametrize("name", ["orders.csv", "fills.csv", "equity.csv"])
def test_a_file_cut_off_mid_row_is_refused(tmp_path: Path, name: str) -> None:
    error = error_for(tmp_path, RunFolderBuilder().truncated(name, 7))

    assert error.source.endswith(name) and "cut off" in str(error)
    assert error.line == RunFolderBuilder().files[name].count("\n")  # the last, partial line


def test_an_empty_csv_is_refused(tmp_path: Path) -> None:
    error = error_for(tmp_path, RunFolderBuilder().with_text("orders.csv", ""))

    assert error.source.endswith("orders.csv") and error.line == 1


def test_a_header_only_csv_is_an_empty_table(tmp_path: Path) -> None:
    header = RunFolderBuilder().files["orders.csv"].splitlines()[0] + "\n"

    run = load_run(RunFolderBuilder().with_text("orders.csv", header).write(tmp_path / "run"))

    assert run.orders == ()


def test_equity_time_going_backwards_is_refused(tmp_path: Path) -> None:
    row = "1700000003100000000,2023-11-14T22:13:23.100000Z,100.02,100.01,100.03,99.90,100.08,1,9900.100007,10000.120007,0.08,0.07,0.029993"

    error = error_for(tmp_path, RunFolderBuilder().with_line("equity.csv", 8, row))

    assert error.source.endswith("equity.csv") and error.line == 8 and "before the previous row" in str(error)


def test_fill_time_going_backwards_is_refused(tmp_path: Path) -> None:
    row = "1700000001000000000,2023-11-14T22:13:21.000000Z,O2,2,BINANCE-2,BTCUSDT-PERP.BINANCE,SELL,100.03,1,MAKER,0.010003,USDT,1,0.08"

    assert error_for(tmp_path, RunFolderBuilder().with_line("fills.csv", 3, row)).line == 3


def test_a_repeated_trade_id_is_refused(tmp_path: Path) -> None:
    row = "1700000003200000000,2023-11-14T22:13:23.200000Z,O2,2,BINANCE-1,BTCUSDT-PERP.BINANCE,SELL,100.03,1,MAKER,0.010003,USDT,1,0.08"

    error = error_for(tmp_path, RunFolderBuilder().with_line("fills.csv", 3, row))

    assert error.line == 3 and "already appeared on line 2" in str(error)


def test_a_repeated_client_order_id_is_refused(tmp_path: Path) -> None:
    line = RunFolderBuilder().files["orders.csv"].splitlines()[1]

    error = error_for(tmp_path, RunFolderBuilder().with_lines_appended("orders.csv", line))

    assert error.line == 10 and "'O1' already appeared on line 2" in str(error)


def test_a_non_positive_fill_quantity_is_refused(tmp_path: Path) -> None:
    row = "1700000003200000000,2023-11-14T22:13:23.200000Z,O2,2,BINANCE-2,BTCUSDT-PERP.BINANCE,SELL,100.03,0,MAKER,0.010003,USDT,1,0.08"

    assert "quantity must be > 0" in str(
        error_for(tmp_path, RunFolderBuilder().with_line("fills.csv", 3, row))
    )


def test_garbled_summary_json_names_its_line(tmp_path: Path) -> None:
    error = error_for(
        tmp_path, RunFolderBuilder().with_text("summary.json", '{\n  "fills": 4,\n  "fees": \n}\n')
    )

    assert error.source.endswith("summary.json") and error.line == 4 and "invalid JSON" in str(error)


def test_summary_must_be_an_object(tmp_path: Path) -> None:
    assert "JSON object" in str(error_for(tmp_path, RunFolderBuilder().with_text("summary.json", "[1, 2]\n")))


def test_garbled_config_toml_is_refused(tmp_path: Path) -> None:
    error = error_for(tmp_path, RunFolderBuilder().with_text("config.toml", "[run]\nname = tiny\n"))

    assert error.source.endswith("config.toml") and "line 2" in str(error)


def test_non_utf8_bytes_are_refused(tmp_path: Path) -> None:
    folder = RunFolderBuilder().write(tmp_path / "run")
    (folder / "fills.csv").write_bytes(b"\xff\xfe" + (folder / "fills.csv").read_bytes())

    with pytest.raises(DataError, match="not UTF-8"):
        load_run(folder)


def test_read_fills_on_its_own(tmp_path: Path) -> None:
    folder = RunFolderBuilder().write(tmp_path / "run")

    assert [f.client_order_id for f in read_fills(folder / "fills.csv")] == ["O1", "O2", "O3", "O4"]
