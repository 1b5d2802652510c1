"""Market-making analytics of one instrument's run: fill ratio, maker share, spread captured, adverse
selection, inventory, fees, and a PnL attribution that adds up exactly.

Inputs are a run's fills.csv, equity.csv and (for the fill ratio) orders.csv, as loaded by
`tradewright.analysis.run_outputs`. "Mid at time t" is the `mid` of the last equity.csv row at or before
t (as of t). Money is exact `Decimal` in the settlement currency; bps are floats. `s` below is +1 for a
buy and −1 for a sell, `m` the contract multiplier.

* spread captured by a fill:  s × (mid_fill − price) × quantity × m; in bps, s × (mid − price) / mid × 10⁴.
* adverse selection at +h:    s × (mid_fill − mid_(fill+h)) × quantity × m — what the mid moved against
  the fill h later (positive = adverse); in bps over mid_fill. Fills whose t + h is past the last
  equity row are not measured at h.
* inventory:                  the position on each equity row, weighted by the time until the next row.

PnL attribution. With `equity = cash + position × mid × m` on every row (docs/architecture.md) and a
row written at each fill, the change of equity from the first row to the last is

    total = spread captured − fees + inventory PnL + other

where spread captured and fees are summed over the fills, and inventory PnL is the mid moving under
the position held: Σ_k m × position_k × (mid_(k+1) − mid_k) over consecutive rows, plus, for each
fill, m × s × quantity × (mid_booked − mid_fill). The second part is the fill's own quantity held from
the fill's time (ts_event) to the equity row that booked it: the run learns of a fill one response
latency after it happened, and the equity row that shows the new position is stamped then. The
booking row is the first row whose position is the fill's `position_after` (rows are matched to fills
in order). `other` is what is left: exactly zero when cash moves only through fills, non-zero for
funding, settlement, or rows that break the identity; reporting it keeps the decomposition honest
instead of hiding a mismatch in one of the other terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext

import msgspec
import numpy as np
import numpy.typing as npt

from tradewright.analysis.metrics import exact_context, exact_sum
from tradewright.analysis.returns import NS_PER_SECOND
from tradewright.analysis.run_outputs import EquityTable, FillRecord, OrderRecord
from tradewright.core.errors import DataError
from tradewright.model.enums import LiquiditySide, OrderStatus, OrderType
from tradewright.model.instrument import Instrument

__all__ = [
    "ADVERSE_SELECTION_HORIZONS_NS",
    "AdverseSelection",
    "FeeSummary",
    "FillRatio",
    "FillSpread",
    "InventoryStats",
    "MakerShare",
    "MarketMakingReport",
    "PnlAttribution",
    "analyse_market_making",
    "inventory_histogram",
]

ADVERSE_SELECTION_HORIZONS_NS = (1 * NS_PER_SECOND, 10 * NS_PER_SECOND, 60 * NS_PER_SECOND)
_ZERO = Decimal(0)
_BPS = 10_000.0
# An order that never worked at the venue was not a quote.
_NOT_PLACED = frozenset({OrderStatus.INITIALIZED, OrderStatus.DENIED, OrderStatus.REJECTED})


class FillRatio(msgspec.Struct, frozen=True, kw_only=True):
    """Over quotes: limit orders that reached the venue (not initialized-only, denied or rejected)."""

    quotes: int
    quotes_filled: int  # with any fill
    quotes_fully_filled: int
    quoted_qty: Decimal
    filled_qty: Decimal
    qty_ratio: float  # filled_qty / quoted_qty
    order_ratio: float  # quotes_filled / quotes


class MakerShare(msgspec.Struct, frozen=True, kw_only=True):
    maker_qty: Decimal
    taker_qty: Decimal
    maker_fills: int
    taker_fills: int
    qty_share: float  # maker_qty / all filled qty
    fill_share: float  # maker_fills / all fills


class FillSpread(msgspec.Struct, frozen=True, kw_only=True):
    """One fill against the mid as of its time (`mid` None: no mid yet, nothing computed)."""

    ts_event_ns: int
    line: int
    sign: int
    price: Decimal
    quantity: Decimal
    liquidity: LiquiditySide
    mid: Decimal | None
    captured: Decimal | None
    captured_bps: float | None


class AdverseSelection(msgspec.Struct, frozen=True, kw_only=True):
    """Mid move against the fills `horizon_ns` after them; bps are quantity-weighted means."""

    horizon_ns: int
    fills_measured: int
    qty_measured: Decimal
    total: Decimal
    mean_bps: float


class InventoryStats(msgspec.Struct, frozen=True, kw_only=True):
    """Time-weighted inventory: each row's position counts for the time until the next row."""

    levels: tuple[tuple[Decimal, int], ...]  # (position, ns spent there), by position
    observed_ns: int
    mean_position: float
    max_abs_position: Decimal
    limit: Decimal | None
    time_at_limit_ns: int | None  # time with |position| ≥ limit
    share_at_limit: float | None


class FeeSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Fees paid (negative = rebates received)."""

    total: Decimal
    maker: Decimal
    taker: Decimal
    currency: str | None


class PnlAttribution(msgspec.Struct, frozen=True, kw_only=True):
    """total = spread_captured − fees + inventory + other, exactly (see the module docstring)."""

    total: Decimal
    spread_captured: Decimal
    fees: Decimal
    inventory: Decimal
    other: Decimal


class MarketMakingReport(msgspec.Struct, frozen=True, kw_only=True):
    fill_ratio: FillRatio | None  # None without orders.csv
    maker_share: MakerShare
    fills: tuple[FillSpread, ...]
    spread_captured: Decimal
    spread_captured_bps: float  # quantity-weighted mean over fills with a mid
    adverse_selection: tuple[AdverseSelection, ...]
    inventory: InventoryStats
    fees: FeeSummary
    attribution: PnlAttribution


def analyse_market_making(
    fills: Sequence[FillRecord],
    equity: EquityTable,
    orders: Sequence[OrderRecord] | None = None,
    *,
    instrument: Instrument | None = None,
    inventory_limit: Decimal | None = None,
    horizons_ns: Sequence[int] = ADVERSE_SELECTION_HORIZONS_NS,
) -> MarketMakingReport:
    """Analyse a one-instrument run. `instrument` supplies the multiplier (None: linear, multiplier 1)."""
    if instrument is not None and instrument.inverse:
        raise ValueError(
            f"{instrument.id}: the attribution assumes equity = cash + position × mid × m (linear)"
        )
    multiplier = Decimal(1) if instrument is None else instrument.multiplier
    instruments = {f.instrument_id for f in fills}
    if len(instruments) > 1:
        raise DataError(
            f"fills cover {len(instruments)} instruments ({', '.join(sorted(map(str, instruments)))}); "
            "equity.csv has one mid, so analyse one instrument's run at a time",
            source="fills",
        )
    if len(equity) == 0:
        raise DataError("equity.csv has no rows", source=equity.source)
    # Money products below must not round; the ratios (bps, shares) are computed in floats.
    with localcontext(exact_context()):
        spreads = tuple(_fill_spread(f, equity, multiplier) for f in fills)
        with_mid = [s for s in spreads if s.captured_bps is not None]
        qty_with_mid = float(exact_sum(s.quantity for s in with_mid))
        spread_bps = (
            sum(float(s.quantity) * (s.captured_bps or 0.0) for s in with_mid) / qty_with_mid
            if with_mid
            else float("nan")
        )
        fees = _fees(fills)
        return MarketMakingReport(
            fill_ratio=None if orders is None else _fill_ratio(orders),
            maker_share=_maker_share(fills),
            fills=spreads,
            spread_captured=exact_sum(s.captured or _ZERO for s in spreads),
            spread_captured_bps=spread_bps,
            adverse_selection=tuple(_adverse(spreads, equity, h, multiplier) for h in horizons_ns),
            inventory=_inventory(equity, inventory_limit),
            fees=fees,
            attribution=_attribution(spreads, fills, fees.total, equity, multiplier),
        )


def inventory_histogram(
    equity: EquityTable, bin_edges: Sequence[float] | npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Return (bin edges, ns spent with the position in each bin), time-weighted as in `InventoryStats`."""
    edges = np.asarray(bin_edges, dtype=np.float64)
    weights = _durations(equity.ts_ns)
    counts, _ = np.histogram(equity.as_float("position"), bins=edges, weights=weights.astype(np.float64))
    return edges, counts.astype(np.int64)


# --- pieces -------------------------------------------------------------------------------------------


def _mid_as_of(equity: EquityTable, ts_ns: int) -> Decimal | None:
    row = int(np.searchsorted(equity.ts_ns, ts_ns, side="right")) - 1
    return None if row < 0 else equity.mid[row]


def _fill_spread(fill: FillRecord, equity: EquityTable, multiplier: Decimal) -> FillSpread:
    mid = _mid_as_of(equity, fill.ts_event_ns)
    sign = fill.side.sign
    captured = None if mid is None else sign * (mid - fill.price) * fill.quantity * multiplier
    bps = None if mid is None else float(sign * (mid - fill.price)) / float(mid) * _BPS
    return FillSpread(
        ts_event_ns=fill.ts_event_ns,
        line=fill.line,
        sign=sign,
        price=fill.price,
        quantity=fill.quantity,
        liquidity=fill.liquidity,
        mid=mid,
        captured=captured,
        captured_bps=bps,
    )


def _adverse(
    spreads: Sequence[FillSpread], equity: EquityTable, horizon_ns: int, multiplier: Decimal
) -> AdverseSelection:
    if horizon_ns <= 0:
        raise ValueError(f"an adverse-selection horizon must be > 0 ns, got {horizon_ns}")
    last_ts = int(equity.ts_ns[-1])
    amounts: list[Decimal] = []
    qtys: list[Decimal] = []
    weighted_bps = 0.0
    for s in spreads:
        later_ts = s.ts_event_ns + horizon_ns
        if s.mid is None or later_ts > last_ts:
            continue
        later = _mid_as_of(equity, later_ts)
        if later is None:
            continue
        move = s.sign * (s.mid - later)
        amounts.append(move * s.quantity * multiplier)
        qtys.append(s.quantity)
        weighted_bps += float(s.quantity) * float(move) / float(s.mid) * _BPS
    qty = exact_sum(qtys)
    return AdverseSelection(
        horizon_ns=horizon_ns,
        fills_measured=len(amounts),
        qty_measured=qty,
        total=exact_sum(amounts),
        mean_bps=weighted_bps / float(qty) if qtys else float("nan"),
    )


def _fill_ratio(orders: Sequence[OrderRecord]) -> FillRatio:
    quotes = [o for o in orders if o.order_type is OrderType.LIMIT and o.status not in _NOT_PLACED]
    quoted = exact_sum(o.quantity for o in quotes)
    filled = exact_sum(o.filled_qty for o in quotes)
    n_filled = sum(1 for o in quotes if o.filled_qty > 0)
    return FillRatio(
        quotes=len(quotes),
        quotes_filled=n_filled,
        quotes_fully_filled=sum(1 for o in quotes if o.status is OrderStatus.FILLED),
        quoted_qty=quoted,
        filled_qty=filled,
        qty_ratio=float(filled) / float(quoted) if quoted else float("nan"),
        order_ratio=n_filled / len(quotes) if quotes else float("nan"),
    )


def _maker_share(fills: Sequence[FillRecord]) -> MakerShare:
    maker = [f for f in fills if f.liquidity is LiquiditySide.MAKER]
    taker = [f for f in fills if f.liquidity is LiquiditySide.TAKER]
    maker_qty = exact_sum(f.quantity for f in maker)
    taker_qty = exact_sum(f.quantity for f in taker)
    all_qty = maker_qty + taker_qty
    return MakerShare(
        maker_qty=maker_qty,
        taker_qty=taker_qty,
        maker_fills=len(maker),
        taker_fills=len(taker),
        qty_share=float(maker_qty) / float(all_qty) if all_qty else float("nan"),
        fill_share=len(maker) / len(fills) if fills else float("nan"),
    )


def _fees(fills: Sequence[FillRecord]) -> FeeSummary:
    currencies = {f.fee_currency for f in fills if f.fee != 0}
    if len(currencies) > 1:
        raise DataError(
            f"fees in several currencies ({', '.join(sorted(currencies))}) cannot be added", source="fills"
        )
    return FeeSummary(
        total=exact_sum(f.fee for f in fills),
        maker=exact_sum(f.fee for f in fills if f.liquidity is LiquiditySide.MAKER),
        taker=exact_sum(f.fee for f in fills if f.liquidity is LiquiditySide.TAKER),
        currency=next(iter(currencies), None),
    )


def _durations(ts_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    # The last row has no successor, so it holds for no time.
    return np.append(np.diff(ts_ns), 0).astype(np.int64)


def _inventory(equity: EquityTable, limit: Decimal | None) -> InventoryStats:
    if limit is not None and limit <= 0:
        raise ValueError(f"an inventory limit must be > 0, got {limit}")
    durations = _durations(equity.ts_ns)
    levels: dict[Decimal, int] = {}
    at_limit = 0
    for position, ns in zip(equity.position, durations.tolist(), strict=True):
        levels[position] = levels.get(position, 0) + ns
        if limit is not None and abs(position) >= limit:
            at_limit += ns
    observed = int(durations.sum())
    positions = equity.as_float("position")
    mean = float(np.dot(positions, durations) / observed) if observed else float(positions[-1])
    return InventoryStats(
        levels=tuple(sorted(levels.items())),
        observed_ns=observed,
        mean_position=mean,
        max_abs_position=max(abs(p) for p in equity.position),
        limit=limit,
        time_at_limit_ns=None if limit is None else at_limit,
        share_at_limit=None if limit is None or not observed else at_limit / observed,
    )


def _booking_rows(fills: Sequence[FillRecord], equity: EquityTable) -> list[int]:
    """For each fill (in order), the equity row that first shows its `position_after`.

    A fill moves the position, and the recorder writes a row at each fill, so walking the rows in
    order, every change of position is the next fill(s) booked. A fill is matched to the row whose
    position equals its `position_after` once every fill before it has been matched.
    """
    rows: list[int] = []
    j = 0
    if fills and equity.position[0] != 0:
        raise DataError(
            f"equity.csv starts with a position ({equity.position[0]}): the fills before it are not in "
            "the run, so the PnL attribution cannot start from its first row",
            source=equity.source,
            line=EquityTable.line_of(0),
        )
    for k in range(1, len(equity)):
        target = equity.position[k]
        if target == equity.position[k - 1] or j == len(fills):
            continue  # no change, or a change no fill explains (it stays in `other`)
        while j < len(fills):
            rows.append(k)
            j += 1
            if fills[j - 1].position_after == target:
                break
        else:
            raise DataError(
                f"the position changes to {target} but no fill in fills.csv leads there",
                source=equity.source,
                line=EquityTable.line_of(k),
            )
    if j < len(fills):
        raise DataError(
            "this fill's position never appears in equity.csv (the run ended before it was booked?)",
            source="fills",
            line=fills[j].line,
        )
    return rows


def _attribution(
    spreads: Sequence[FillSpread],
    fills: Sequence[FillRecord],
    fees: Decimal,
    equity: EquityTable,
    multiplier: Decimal,
) -> PnlAttribution:
    for s in spreads:
        if s.captured is None:
            raise DataError(
                "no mid as of this fill, so its spread captured (and the PnL attribution) is unknown",
                source="fills",
                line=s.line,
            )
    inventory_terms: list[Decimal] = []
    for k in range(len(equity) - 1):
        position = equity.position[k]
        if position == 0:
            continue
        before, after = equity.mid[k], equity.mid[k + 1]
        if before is None or after is None:
            row = k if before is None else k + 1
            raise DataError(
                f"no mid while the position is {position}: the inventory cannot be marked",
                source=equity.source,
                line=EquityTable.line_of(row),
            )
        inventory_terms.append(position * (after - before) * multiplier)
    # Each fill's quantity from its fill time to the row that booked it (see the module docstring).
    for s, row in zip(spreads, _booking_rows(fills, equity), strict=True):
        booked = equity.mid[row]
        if booked is None:
            raise DataError(
                "no mid on the row that booked a fill: the fill's inventory cannot be marked",
                source=equity.source,
                line=EquityTable.line_of(row),
            )
        assert s.mid is not None
        inventory_terms.append(s.sign * s.quantity * (booked - s.mid) * multiplier)
    total = exact_sum((equity.equity[-1], -equity.equity[0]))
    spread = exact_sum(s.captured or _ZERO for s in spreads)
    inventory = exact_sum(inventory_terms)
    other = exact_sum((total, -spread, fees, -inventory))
    return PnlAttribution(total=total, spread_captured=spread, fees=fees, inventory=inventory, other=other)
