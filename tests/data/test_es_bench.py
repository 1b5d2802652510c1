"""The CME E-mini benchmark streams: counts, rows and speed."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from tests.conftest import shared_data
from tradewright.data.es_bench import ES_INSTRUMENT, load_es_l2
from tradewright.data.verify import book_tops
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, KIND_TRADE


def test_bench_row_counts() -> None:
    stream = load_es_l2(shared_data("bench/es_l2_bench.csv.gz"))
    s = stream.stats
    assert s["rows"] == 1_095_088
    assert s["level_updates"] == 1_043_119
    assert s["snapshot_levels"] == 1_462 and s["trades"] == 50_507
    assert len(stream) == 1_095_088 + 1  # one CLEAR before the opening snapshot
    assert stream.count(KIND_CLEAR) == 1 and stream.kind[0] == KIND_CLEAR
    assert stream.count(KIND_DELTA) == 1_462 + 1_043_119 and stream.count(KIND_TRADE) == 50_507


def test_base_hour_rows_prices_and_messages() -> None:
    stream = load_es_l2(shared_data("bench/es_l2_base.csv.gz"))
    assert stream.stats["level_updates"] == 60_495 and stream.stats["trades"] == 2_971
    # first snapshot rows: "1703545200107259719,S,1,100,1", then 500, 643, "1499.75"
    assert (stream.side[1], stream.tick[1], stream.lots[1]) == (1, 400, 1)
    assert ES_INSTRUMENT.ticks_to_price(int(stream.tick[4])) == Decimal("1499.75")
    assert (stream.ts_event == stream.ts_recv).all() and (np.diff(stream.ts_recv) >= 0).all()
    # one F_LAST per distinct timestamp, on its last row
    last = np.flatnonzero(stream.flags & F_LAST)
    assert len(last) == len(np.unique(stream.ts_recv))
    assert (stream.ts_recv[last[:-1]] != stream.ts_recv[last[:-1] + 1]).all()
    # the opening book rebuilds with a bid below the ask
    tops, far = book_tops(stream)
    assert far == 0
    assert ES_INSTRUMENT.ticks_to_price(int(tops[0, 1])) == Decimal("4800")
    assert ES_INSTRUMENT.ticks_to_price(int(tops[0, 3])) == Decimal("4800.25")


def test_instrument() -> None:
    assert str(ES_INSTRUMENT.id) == "ESH4.CME"
    assert (ES_INSTRUMENT.tick_size, ES_INSTRUMENT.lot_size, ES_INSTRUMENT.multiplier) == (
        Decimal("0.25"), Decimal(1), Decimal(50)
    )  # fmt: skip
    assert ES_INSTRUMENT.notional(Decimal("4800.25"), Decimal(2)) == Decimal("480025")
