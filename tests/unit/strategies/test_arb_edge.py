"""The cross-venue edge: fees, quote currencies, transfer costs, depth, bounds and lot sizes, exactly."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewright.core.ids import InstrumentId
from tradewright.strategies.arb_edge import Opportunity, VenueQuote, best_opportunity, common_lot

D = Decimal
IA = InstrumentId.parse("BTCUSDT.VENUEA")
IB = InstrumentId.parse("BTCUSDT.VENUEB")
IC = InstrumentId.parse("BTCUSDC.VENUEC")
FEE = D("0.001")


def venue(
    iid: InstrumentId, bids: list[tuple[str, str]], asks: list[tuple[str, str]], **kw: object
) -> VenueQuote:
    return VenueQuote(
        instrument_id=iid,
        bids=[(D(p), D(q)) for p, q in bids],
        asks=[(D(p), D(q)) for p, q in asks],
        taker_fee=kw.pop("taker_fee", FEE),  # type: ignore[arg-type]
        lot_size=kw.pop("lot_size", D("0.1")),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


CHEAP = venue(IA, bids=[("99.8", "5")], asks=[("100.0", "0.5"), ("100.2", "1")])
DEAR = venue(IB, bids=[("101.0", "0.3"), ("100.6", "2")], asks=[("101.2", "5")])


def test_the_walk_takes_both_books_while_the_edge_after_fees_beats_the_threshold() -> None:
    found = best_opportunity([CHEAP, DEAR], min_edge_bps=D(5))
    assert found is not None
    # Steps: 0.3 (100.0 vs 101.0), 0.2 (100.0 vs 100.6), 1.0 (100.2 vs 100.6, 19.9 bps); then A's asks end.
    cost = (D("0.5") * D("100.0") + D("1.0") * D("100.2")) * (1 + FEE)
    proceeds = (D("0.3") * D("101.0") + D("1.2") * D("100.6")) * (1 - FEE)
    assert found == Opportunity(
        IA, IB, D("1.5"), D("100.2"), D("100.6"), proceeds - cost, (proceeds - cost) * 10_000 / cost
    )
    assert found.edge_quote == D("0.518780")


def test_no_opportunity_below_the_threshold_or_once_fees_eat_the_spread() -> None:
    assert best_opportunity([CHEAP, DEAR], min_edge_bps=D(80)) is None  # the best step is 79.8 bps
    # 0.6 % a side: 100.0 costs 100.6, 101.0 brings 100.394.
    costly = [
        venue(IA, [("99.8", "5")], [("100.0", "5")], taker_fee=D("0.006")),
        venue(IB, [("101.0", "5")], [("101.2", "5")], taker_fee=D("0.006")),
    ]
    assert best_opportunity(costly, min_edge_bps=D(0)) is None


def test_the_threshold_stops_the_walk_where_the_marginal_edge_falls_below_it() -> None:
    found = best_opportunity([CHEAP, DEAR], min_edge_bps=D(20))  # the third step is 19.9 bps: left out
    assert found is not None and found.size == D("0.5") and found.buy_limit == D("100.0")


def test_books_in_other_quote_currencies_are_compared_in_the_common_one() -> None:
    # 101.0 USDC is only 99.99 USDT at 0.99: buying on A at 100.0 and selling there loses.
    usdc = venue(IC, bids=[("101.0", "5")], asks=[("101.2", "5")], quote_rate=D("0.99"))
    assert best_opportunity([CHEAP, usdc], min_edge_bps=D(0)) is None
    at_par = venue(IC, bids=[("101.0", "5")], asks=[("101.2", "5")], quote_rate=D("1"))
    assert best_opportunity([CHEAP, at_par], min_edge_bps=D(0)) is not None


def test_transfer_costs_are_charged_on_every_unit() -> None:
    plain = best_opportunity([CHEAP, DEAR], min_edge_bps=D(5))
    charged = best_opportunity([CHEAP, DEAR], min_edge_bps=D(5), transfer_cost_bps=D(15))
    assert plain is not None and charged is not None
    assert charged.size == D("0.5")  # the third step's 19.9 bps minus 15 is below 5
    cost = D("0.5") * D("100.0") * (1 + FEE)
    assert charged.edge_quote == D("0.3") * D("101.0") * (1 - FEE) + D("0.2") * D("100.6") * (
        1 - FEE
    ) - cost * (1 + D("0.0015"))


def test_size_is_bounded_by_max_size_inventory_held_and_cash() -> None:
    assert best_opportunity([CHEAP, DEAR], min_edge_bps=D(5), max_size=D("0.4")).size == D("0.4")  # type: ignore[union-attr]
    spot_sell = venue(IB, bids=[("101.0", "0.3"), ("100.6", "2")], asks=[("101.2", "5")], max_sell=D("0.25"))
    assert best_opportunity([CHEAP, spot_sell], min_edge_bps=D(5)).size == D("0.2")  # type: ignore[union-attr]
    cash = venue(
        IA, bids=[("99.8", "5")], asks=[("100.0", "0.5"), ("100.2", "1")], cash=D("70.12")
    )  # 50.05 for 0.5, then 20.07 buys 0.2001
    assert best_opportunity([cash, DEAR], min_edge_bps=D(5)).size == D("0.7")  # type: ignore[union-attr]
    assert best_opportunity([cash, DEAR], min_edge_bps=D(5), max_size=D("0.05")) is None  # below one lot


def test_the_size_is_a_whole_number_of_lots_on_both_venues() -> None:
    assert common_lot(D("0.1"), D("0.25")) == D("0.5")
    assert common_lot(D("0.001"), D("0.00001")) == D("0.001")
    coarse = venue(IB, bids=[("101.0", "0.3"), ("100.6", "2")], asks=[("101.2", "5")], lot_size=D("0.25"))
    found = best_opportunity([CHEAP, coarse], min_edge_bps=D(5))
    assert found is not None and found.size == D("1.5")


def test_the_most_profitable_pair_wins_among_several_venues() -> None:
    dearer = venue(IC, bids=[("101.5", "1")], asks=[("102.0", "1")])
    found = best_opportunity([CHEAP, DEAR, dearer], min_edge_bps=D(5))
    assert found is not None and (found.buy, found.sell) == (IA, IC)


prices = st.integers(min_value=9_900, max_value=10_100)
sizes = st.integers(min_value=1, max_value=30)
book_side = st.lists(st.tuples(prices, sizes), min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(book_side, book_side, st.integers(0, 50), st.integers(0, 20), st.one_of(st.none(), sizes))
def test_an_opportunity_always_beats_its_threshold_after_fees_and_stays_within_every_bound(
    asks: list[tuple[int, int]], bids: list[tuple[int, int]], min_bps: int, fee_bps: int, cap: int | None
) -> None:
    tick, lot = D("0.01"), D("0.1")
    fee = D(fee_bps) / 10_000
    a = VenueQuote(
        IA,
        bids=[(D(99), D(1))],
        asks=sorted((tick * p, lot * q) for p, q in asks),
        taker_fee=fee,
        lot_size=lot,
    )
    b = VenueQuote(
        IB,
        bids=sorted(((tick * p, lot * q) for p, q in bids), reverse=True),
        asks=[(D(200), D(1))],
        taker_fee=fee,
        lot_size=lot,
    )
    max_size = None if cap is None else lot * cap
    found = best_opportunity([a, b], min_edge_bps=D(min_bps), max_size=max_size)
    if found is None:
        return
    assert found.size > 0 and found.size % lot == 0
    assert max_size is None or found.size <= max_size
    assert found.size <= min(sum(q for _, q in a.asks), sum(q for _, q in b.bids))
    assert found.edge_quote > 0 and found.edge_bps >= min_bps
    assert found.buy_limit >= a.asks[0][0] and found.sell_limit <= b.bids[0][0]
