"""The trade journal: FIFO round trips with exact PnL and fees, tags and R, CSV/JSON export."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.analysis.run_folder import T0, RunFolderBuilder
from tradewright.analysis.journal import JOURNAL_COLUMNS, Journal, TradeSide, build_journal, stats_by_regime
from tradewright.analysis.run_outputs import FillRecord, load_run, read_fills
from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.model.position import Position

D = Decimal
BTC = InstrumentId.parse("BTCUSDT-PERP.BINANCE")
ETH = InstrumentId.parse("ETHUSDT-PERP.BINANCE")
HEADER = (
    "ts_event_ns,ts_iso,client_order_id,venue_order_id,trade_id,instrument_id,side,price,quantity,"
    "liquidity,fee,fee_currency,position_after,realized_pnl_after"
)


def fill(
    line: int,
    order: str,
    side: str,
    qty: str,
    px: str,
    position_after: str,
    *,
    fee: str = "0",
    iid: InstrumentId = BTC,
    ts_s: float | None = None,
    regime: str | None = None,
    reason: str | None = None,
    risk_r: str | None = None,
) -> FillRecord:
    """A fills.csv row as the loader returns it (realised PnL is not read by the journal)."""
    return FillRecord(
        ts_event_ns=T0 + int((line if ts_s is None else ts_s) * 1_000_000_000),
        client_order_id=order,
        venue_order_id=f"V{line}",
        trade_id=f"T{line}",
        instrument_id=iid,
        side=OrderSide(side),
        price=D(px),
        quantity=D(qty),
        liquidity=LiquiditySide.MAKER,
        fee=D(fee),
        fee_currency="USDT",
        position_after=D(position_after),
        realized_pnl_after=D(0),
        tag_regime=regime,
        tag_reason=reason,
        risk_r=None if risk_r is None else D(risk_r),
        line=line,
    )


# --- the tiny run, worked by hand ------------------------------------------------------------------


def test_tiny_run_round_trips(tmp_path: Path) -> None:
    run = load_run(RunFolderBuilder().write(tmp_path / "run"))

    journal = build_journal(run.fills)

    trips = [
        (t.side, t.size, t.entry_order, t.exit_order, t.pnl, t.fees, t.net_pnl) for t in journal.round_trips
    ]
    assert trips == [
        # O1 bought 2 @ 99.95 (fee 0.01999); O2 sold 1 @ 100.03 (fee 0.010003): half O1's fee goes with it.
        (TradeSide.LONG, D(1), "O1", "O2", D("0.08"), D("0.019998"), D("0.060002")),
        # O3 sold 2 @ 100.00 (fee 0.1): closes O1's other unit with half the fee, opens a short with the rest.
        (TradeSide.LONG, D(1), "O1", "O3", D("0.05"), D("0.059995"), D("-0.009995")),
        (TradeSide.SHORT, D(1), "O3", "O4", D("-0.02"), D("0.060002"), D("-0.080002")),
    ]
    assert journal.open_lots == ()
    assert journal.pnl == run.fills[-1].realized_pnl_after == D("0.11")
    assert journal.fees == sum(f.fee for f in run.fills) == D("0.139995")
    assert journal.realized_net_of_all_fees == D(run.summary["net_pnl"])  # flat at the end


def test_round_trip_times_prices_and_return(tmp_path: Path) -> None:
    trip = build_journal(load_run(RunFolderBuilder().write(tmp_path / "run")).fills).round_trips[2]

    assert (trip.entry_ts_ns, trip.exit_ts_ns, trip.holding_ns) == (
        T0 + 4_500_000_000,
        T0 + 6_000_000_000,
        1_500_000_000,
    )
    assert (trip.entry_avg_px, trip.exit_avg_px) == (D("100.00"), D("100.02"))
    assert trip.net_return == D("-0.080002") / D("100.00")
    assert trip.risk is None and trip.r_multiple is None


# --- matching -------------------------------------------------------------------------------------


def test_partial_fills_of_one_entry_and_one_exit_order_make_one_round_trip() -> None:
    fills = [
        fill(2, "E", "BUY", "1", "100", "1", fee="0.01"),
        fill(3, "E", "BUY", "2", "101", "3", fee="0.02"),
        fill(4, "X", "SELL", "0.5", "103", "2.5", fee="0.005"),
        fill(5, "X", "SELL", "2.5", "104", "0", fee="0.025"),
    ]

    journal = build_journal(fills)

    (trip,) = journal.round_trips
    assert trip.size == 3 and trip.entry_order == "E" and trip.exit_order == "X"
    # Averages that do not terminate are shown to 15 significant digits (no 28-digit columns).
    assert trip.entry_avg_px == D("100.666666666667") and trip.exit_avg_px == D("103.833333333333")
    assert trip.pnl == D("311.5") - D("302") and trip.fees == D("0.06")
    assert (trip.entry_ts_ns, trip.exit_ts_ns) == (T0 + 2_000_000_000, T0 + 5_000_000_000)


def test_exits_close_the_oldest_entry_first() -> None:
    fills = [
        fill(2, "A", "BUY", "1", "100", "1"),
        fill(3, "B", "BUY", "1", "110", "2"),
        fill(4, "X", "SELL", "1", "105", "1"),
    ]

    journal = build_journal(fills)

    assert [(t.entry_order, t.pnl) for t in journal.round_trips] == [("A", D("5"))]
    (lot,) = journal.open_lots
    assert (lot.entry_order, lot.entry_px, lot.size, lot.side) == ("B", D("110"), D("1"), TradeSide.LONG)


def test_a_flip_closes_the_position_and_opens_the_rest_the_other_way() -> None:
    fills = [
        fill(2, "A", "SELL", "2", "50", "-2", fee="0.2"),
        fill(3, "B", "BUY", "5", "48", "3", fee="0.5"),
        fill(4, "C", "SELL", "3", "49", "0", fee="0.3"),
    ]

    journal = build_journal(fills)

    assert [(t.side, t.size, t.pnl, t.fees) for t in journal.round_trips] == [
        (TradeSide.SHORT, D(2), D("4"), D("0.2") + D("0.2")),  # B's fee: 2/5 here, 3/5 with the new long
        (TradeSide.LONG, D(3), D("3"), D("0.3") + D("0.3")),
    ]


def test_instruments_are_matched_separately() -> None:
    fills = [
        fill(2, "A", "BUY", "1", "100", "1"),
        fill(3, "B", "SELL", "1", "2000", "-1", iid=ETH),
        fill(4, "C", "SELL", "1", "101", "0"),
        fill(5, "D", "BUY", "1", "1990", "0", iid=ETH),
    ]

    journal = build_journal(fills)

    assert [(t.instrument_id, t.side, t.pnl) for t in journal.round_trips] == [
        (BTC, TradeSide.LONG, D("1")),
        (ETH, TradeSide.SHORT, D("10")),
    ]


def test_multiplier_and_inverse_contracts() -> None:
    es = Instrument(
        id=InstrumentId.parse("ESH4.CME"), kind=InstrumentKind.FUTURE, base="ES", quote="USD", settle="USD",
        tick_size=D("0.25"), lot_size=D(1), multiplier=D(50),
    )  # fmt: skip
    inverse = Instrument(
        id=InstrumentId.parse("BTCUSD-PERP.BINANCE"), kind=InstrumentKind.PERPETUAL, base="BTC", quote="USD",
        settle="BTC", tick_size=D("0.1"), lot_size=D(1), multiplier=D(100), inverse=True,
    )  # fmt: skip
    fills = [
        fill(2, "A", "BUY", "2", "4800.25", "2", iid=es.id),
        fill(3, "B", "SELL", "2", "4810.75", "0", iid=es.id),
        fill(4, "C", "BUY", "10", "40000", "10", iid=inverse.id),
        fill(5, "D", "SELL", "10", "50000", "0", iid=inverse.id),
    ]

    journal = build_journal(fills, instruments={es.id: es, inverse.id: inverse})

    assert journal.round_trips[0].pnl == D("1050")  # 2 × 10.5 points × 50
    # 10 contracts × 100 USD: 1000/40000 − 1000/50000 = 0.005 BTC
    assert journal.round_trips[1].pnl == D("0.005")
    assert journal.round_trips[1].net_return == D("0.2")  # on 0.025 BTC


# --- tags and R -----------------------------------------------------------------------------------


def test_tags_and_risk_give_regime_reasons_and_r_multiples() -> None:
    fills = [
        fill(2, "A", "BUY", "2", "100", "2", regime="trend", reason="breakout", risk_r="10"),
        fill(3, "X", "SELL", "1", "106", "1", reason="target"),
        fill(4, "Y", "SELL", "1", "97", "0", reason="stop"),
    ]

    journal = build_journal(fills)

    target, stop = journal.round_trips
    assert (target.regime, target.entry_reason, target.exit_reason) == ("trend", "breakout", "target")
    assert (target.risk, target.r_multiple) == (D("5"), D("1.2"))  # half the position, half the risk
    assert (stop.risk, stop.r_multiple, stop.exit_reason) == (D("5"), D("-0.6"), "stop")


def test_risk_per_trade_applies_where_entries_are_untagged() -> None:
    fills = [
        fill(2, "A", "BUY", "1", "100", "1", risk_r="4"),
        fill(3, "X", "SELL", "1", "102", "0"),
        fill(4, "B", "BUY", "1", "100", "1"),
        fill(5, "Y", "SELL", "1", "97", "0"),
    ]

    tagged, untagged = build_journal(fills, risk_per_trade=D("6")).round_trips

    assert tagged.r_multiple == D("0.5")
    assert (untagged.risk, untagged.r_multiple) == (D("6"), D("-0.5"))
    assert build_journal(fills).round_trips[1].r_multiple is None


def test_stats_by_regime() -> None:
    fills = [
        fill(2, "A", "BUY", "1", "100", "1", regime="trend"),
        fill(3, "X", "SELL", "1", "102", "0"),
        fill(4, "B", "BUY", "1", "100", "1", regime="range"),
        fill(5, "Y", "SELL", "1", "99", "0"),
        fill(6, "C", "BUY", "1", "100", "1", regime="trend"),
        fill(7, "Z", "SELL", "1", "99.5", "0"),
    ]

    by_regime = stats_by_regime(build_journal(fills))

    assert list(by_regime) == ["trend", "range"]
    assert (by_regime["trend"].trades, by_regime["trend"].win_rate, by_regime["trend"].net_pnl) == (
        2,
        0.5,
        D("1.5"),
    )
    assert by_regime["range"].win_rate == 0.0


def test_tags_read_from_fills_csv(tmp_path: Path) -> None:
    builder = RunFolderBuilder().with_columns(
        "fills.csv", ",tag_regime,tag_reason,risk_r", [",range,fade,0.1", ",,take,", ",,flip,0.2", ",,cover,"]
    )

    journal = build_journal(load_run(builder.write(tmp_path / "run")).fills)

    assert [(t.regime, t.entry_reason, t.exit_reason, t.r_multiple) for t in journal.round_trips] == [
        ("range", "fade", "take", D("0.060002") / D("0.05")),
        ("range", "fade", "flip", D("-0.009995") / D("0.05")),
        (None, "flip", "cover", D("-0.080002") / D("0.2")),
    ]


# --- refusals -------------------------------------------------------------------------------------


def test_fills_that_do_not_start_flat_are_refused_by_line() -> None:
    with pytest.raises(DataError, match=r"fills:3: .*position_after is 3 but the fills so far"):
        build_journal([fill(2, "A", "BUY", "1", "100", "1"), fill(3, "B", "BUY", "1", "100", "3")])


def test_fees_in_two_currencies_are_refused() -> None:
    second = msgspec.structs.replace(fill(3, "B", "SELL", "1", "100", "0", fee="0.001"), fee_currency="BNB")

    with pytest.raises(DataError, match="one currency per instrument"):
        build_journal([fill(2, "A", "BUY", "1", "100", "1", fee="0.1"), second])


def test_a_fee_free_fill_in_another_currency_is_fine() -> None:
    free = msgspec.structs.replace(fill(3, "B", "SELL", "1", "101", "0"), fee_currency="BNB")

    (trip,) = build_journal([fill(2, "A", "BUY", "1", "100", "1", fee="0.1"), free]).round_trips

    assert trip.fees == D("0.1")


def test_a_round_trip_entered_at_a_price_of_zero_has_no_return() -> None:
    # Calendar spreads and some futures can trade at 0 (or below).
    (trip,) = build_journal(
        [fill(2, "A", "BUY", "1", "0", "1"), fill(3, "B", "SELL", "1", "0.25", "0")]
    ).round_trips

    assert trip.net_pnl == D("0.25") and trip.net_return is None


def test_a_non_positive_risk_tag_is_refused() -> None:
    with pytest.raises(DataError, match="risk_r must be > 0"):
        build_journal([fill(2, "A", "BUY", "1", "100", "1", risk_r="0")])


# --- export ---------------------------------------------------------------------------------------


def test_csv_export_has_exact_decimals_and_times(tmp_path: Path) -> None:
    journal = build_journal(load_run(RunFolderBuilder().write(tmp_path / "run")).fills)

    journal.write_csv(tmp_path / "journal.csv")

    rows = list(csv.DictReader(io.StringIO((tmp_path / "journal.csv").read_text(encoding="utf-8"))))
    assert list(rows[0]) == list(JOURNAL_COLUMNS)
    assert rows[1]["net_pnl"] == "-0.009995" and rows[1]["fees"] == "0.059995"
    assert rows[0]["entry_ts_iso"] == "2023-11-14T22:13:21.500000Z" and rows[0]["r_multiple"] == ""
    assert [r["side"] for r in rows] == ["LONG", "LONG", "SHORT"]


def test_json_export_round_trips(tmp_path: Path) -> None:
    fills = [
        fill(2, "A", "BUY", "3", "100", "3", fee="0.3", regime="trend"),
        fill(3, "X", "SELL", "1", "101", "2"),
    ]
    journal = build_journal(fills)

    journal.write_json(tmp_path / "journal.json")

    payload = json.loads((tmp_path / "journal.json").read_text(encoding="utf-8"))
    (trip,) = payload["round_trips"]
    assert trip["instrument_id"] == "BTCUSDT-PERP.BINANCE" and trip["regime"] == "trend"
    assert (
        D(trip["pnl"]) == D("1") and D(trip["fees"]) == D("0.1") and trip["entry_ts_ns"] == T0 + 2_000_000_000
    )
    (lot,) = payload["open_lots"]
    assert (D(lot["size"]), D(lot["fees"])) == (D("2"), D("0.2"))


# --- agreement with the position's accounting -----------------------------------------------------


def test_journal_agrees_with_position_when_flat() -> None:
    inst = Instrument(
        id=BTC, kind=InstrumentKind.PERPETUAL, base="BTC", quote="USDT", settle="USDT",
        tick_size=D("0.1"), lot_size=D("0.001"),
    )  # fmt: skip
    script = [
        ("BUY", "0.004", "100.5"),
        ("BUY", "0.004", "101.5"),
        ("SELL", "0.010", "103.0"),
        ("BUY", "0.002", "99.0"),
    ]
    position = Position(inst)
    fills = []
    for line, (side, qty, px) in enumerate(script, start=2):
        position.apply_fill(OrderSide(side), D(px), D(qty), D("0.01"))
        fills.append(fill(line, f"O{line}", side, qty, px, str(position.quantity), fee="0.01"))

    journal = build_journal(fills)

    assert position.is_flat
    assert journal.pnl == position.realized_pnl
    assert journal.realized_net_of_all_fees == position.realized_pnl - position.fees


# --- the exactness property ------------------------------------------------------------------------

TICK, LOT = D("0.5"), D("0.001")
fill_steps = st.tuples(
    st.sampled_from([BTC, ETH]),
    st.sampled_from(["BUY", "SELL"]),
    st.integers(min_value=1, max_value=30),  # lots
    st.integers(min_value=180, max_value=220),  # ticks
    st.integers(min_value=-500, max_value=5000),  # fee in 1e-6 (negative: a rebate)
    st.booleans(),  # a new order, or another fill of the previous one
)


Step = tuple[InstrumentId, str, int, int, int, bool]


class ReferenceFillsTable:
    """Writes fills.csv rows whose realized_pnl_after comes from an independent reference: average-cost
    accounting (as `Position` does it) kept in Fractions, so it never rounds."""

    def __init__(self) -> None:
        self.position: dict[InstrumentId, Fraction] = {}
        self.avg_px: dict[InstrumentId, Fraction] = {}
        self.realized: dict[InstrumentId, Fraction] = {}
        self.lines = [HEADER]
        self.order = 0

    def add(self, step: Step) -> None:
        iid, side, lots, ticks, fee_micros, new_order = step
        qty, px = Fraction(LOT * lots), Fraction(TICK * ticks)
        signed = qty if side == "BUY" else -qty
        old = self.position.get(iid, Fraction(0))
        if old == 0 or (old > 0) == (signed > 0):
            self.avg_px[iid] = (self.avg_px.get(iid, Fraction(0)) * abs(old) + px * qty) / (abs(old) + qty)
        else:
            closing = min(qty, abs(old)) * (1 if old > 0 else -1)
            self.realized[iid] = self.realized.get(iid, Fraction(0)) + closing * (px - self.avg_px[iid])
            if qty > abs(old):
                self.avg_px[iid] = px
        self.position[iid] = old + signed
        if new_order or self.order == 0:
            self.order += 1
        n = len(self.lines)
        cells = [
            str(T0 + n * 1_000_000), "2023-11-14T22:13:20.000000Z", f"O{self.order}", f"V{self.order}", f"T{n}",
            str(iid), side, str(TICK * ticks), str(LOT * lots), "MAKER", str(D(fee_micros).scaleb(-6)), "USDT",
            decimal_of(self.position[iid]), decimal_of(self.realized.get(iid, Fraction(0))),
        ]  # fmt: skip
        self.lines.append(",".join(cells))

    def flatten(self) -> None:
        """Close every open position with one more fill."""
        for iid, pos in list(self.position.items()):
            if pos != 0:
                self.add((iid, "SELL" if pos > 0 else "BUY", int(abs(pos) / Fraction(LOT)), 200, 1000, True))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def decimal_of(value: Fraction) -> str:
    # Average-cost PnL can be a repeating decimal while a position is open; a writer rounds it. Once
    # flat it is a sum of price × quantity differences, a finite decimal, and this is exact.
    with localcontext() as ctx:
        ctx.prec = 60
        return str(Decimal(value.numerator) / Decimal(value.denominator))


def journal_of(steps: list[Step], *, flatten: bool) -> tuple[list[FillRecord], Journal]:
    table = ReferenceFillsTable()
    for step in steps:
        table.add(step)
    if flatten:
        table.flatten()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fills.csv"
        path.write_text(table.text(), encoding="utf-8")
        fills = list(read_fills(path))
    return fills, build_journal(fills)


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(fill_steps, min_size=1, max_size=40))
def test_round_trip_pnl_minus_fees_equals_the_fills_realised_pnl_when_flat(
    steps: list[Step],
) -> None:
    fills, journal = journal_of(steps, flatten=True)
    last: dict[InstrumentId, FillRecord] = {f.instrument_id: f for f in fills}

    assert all(f.position_after == 0 for f in last.values())
    final_realized = sum((f.realized_pnl_after for f in last.values()), D(0))
    all_fees = sum((f.fee for f in fills), D(0))
    assert journal.open_lots == ()
    assert sum((t.pnl for t in journal.round_trips), D(0)) == final_realized
    assert sum((t.net_pnl for t in journal.round_trips), D(0)) == final_realized - all_fees


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(fill_steps, min_size=1, max_size=40), mark_ticks=st.integers(min_value=150, max_value=250)
)
def test_fees_are_shared_exactly_and_realised_plus_open_equals_cash_flow_while_open(
    steps: list[Step], mark_ticks: int
) -> None:
    fills, journal = journal_of(steps, flatten=False)
    mark = TICK * mark_ticks

    fees = sum((f.fee for f in fills), D(0))
    assert journal.fees + journal.open_fees == fees
    # Whatever the matching, realised + open lots marked at `mark` is the trading cash flow plus the
    # position marked at `mark` (no division anywhere: exact).
    cash_flow = sum((-f.side.sign * f.price * f.quantity for f in fills), D(0))
    position = sum((f.side.sign * f.quantity for f in fills), D(0))
    open_pnl = sum(
        (
            (1 if lot.side is TradeSide.LONG else -1) * lot.size * (mark - lot.entry_px)
            for lot in journal.open_lots
        ),
        D(0),
    )
    assert journal.pnl + open_pnl == cash_flow + position * mark


INSTRUMENTS = {
    iid: Instrument(
        id=iid,
        kind=InstrumentKind.PERPETUAL,
        base=iid.symbol[:3],
        quote="USDT",
        settle="USDT",
        tick_size=TICK,
        lot_size=LOT,
    )
    for iid in (BTC, ETH)
}


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(fill_steps, min_size=1, max_size=40))
def test_journal_matches_position_realised_pnl_after_every_fill(steps: list[Step]) -> None:
    # fills.csv's realized_pnl_after is what `Position` holds after the fill; compare at every prefix.
    positions = {iid: Position(inst) for iid, inst in INSTRUMENTS.items()}
    fills: list[FillRecord] = []
    for line, (iid, side, lots, ticks, fee_micros, _) in enumerate(steps, start=2):
        qty, px, fee = LOT * lots, TICK * ticks, D(fee_micros).scaleb(-6)
        positions[iid].apply_fill(OrderSide(side), px, qty, fee)
        fills.append(
            FillRecord(
                ts_event_ns=T0 + line,
                client_order_id=f"O{line}",
                venue_order_id="",
                trade_id=f"T{line}",
                instrument_id=iid,
                side=OrderSide(side),
                price=px,
                quantity=qty,
                liquidity=LiquiditySide.MAKER,
                fee=fee,
                fee_currency="USDT",
                position_after=positions[iid].quantity,
                realized_pnl_after=positions[iid].realized_pnl,
                line=line,
            )
        )
        journal = build_journal(fills)

        realized = sum((p.realized_pnl for p in positions.values()), D(0))
        assert journal.pnl == realized
        assert journal.realized_net_of_all_fees == realized - sum((p.fees for p in positions.values()), D(0))
