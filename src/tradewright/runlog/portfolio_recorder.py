"""Records a run that trades several instruments: equity is cash plus every position at its own mid.

The equity rows keep `RunRecorder`'s columns so the report and the analysis read them unchanged: `mid`,
`best_bid` and `best_ask` are the first instrument's (the one the run is named after), `position` is the
net size across the instruments in the first one's base asset (zero when an arbitrage's legs balance),
and `equity`, `cash`, `realized_pnl`, `unrealized_pnl` and `fees` cover every instrument. A sample is
taken only when every instrument with a position has a two-sided book (a position cannot be marked
otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import IO, Any

from tradewright.core.clock import ns_to_iso
from tradewright.core.ids import InstrumentId
from tradewright.engine.kernel import Kernel
from tradewright.model.position import Position
from tradewright.runlog.recorder import RunRecorder

__all__ = ["PortfolioRecorder"]

_ZERO = Decimal(0)


def _s(value: object) -> str:
    return "" if value is None else str(value)


class PortfolioRecorder(RunRecorder):
    """See the module docstring."""

    def __init__(
        self, kernel: Kernel, instrument_ids: Sequence[InstrumentId], events_file: IO[bytes] | None = None
    ) -> None:
        super().__init__(kernel, instrument_ids[0], events_file)
        self.instrument_ids = list(instrument_ids)
        self._rows: list[tuple[str, ...]] = []
        # Inventory the run started with: instrument -> (size, the mid it was valued at).
        self.starting_positions: dict[InstrumentId, tuple[Decimal, Decimal]] = {}

    def snapshot_index(self) -> int:
        return 0  # every sample is formatted at once (below): no deferred snapshots

    def sample(self, ts_ns: int) -> None:
        kernel = self._kernel
        portfolio = kernel.portfolio
        primary = self._instrument
        cash = portfolio.balance(primary.settle)
        equity = cash
        realized = unreal = fees = net = _ZERO
        first_mid: Decimal | None = None
        first_top: tuple[int | None, int | None] = (None, None)
        for iid in self.instrument_ids:
            inst = kernel.instruments[iid]
            pos = portfolio.position(inst)
            bid, ask = kernel.books[iid].top_ticks()
            mid = None if bid is None or ask is None else inst.tick_size * (bid + ask) / 2
            if iid == primary.id:
                first_mid, first_top = mid, (bid, ask)
            realized += pos.realized_pnl
            fees += pos.fees
            if pos.quantity == 0:
                continue
            if mid is None:
                return  # a position that cannot be marked: no sample now
            unreal += Position.unrealized_from_cost(inst, pos.quantity, pos.cost_basis, mid)
            equity += portfolio.value_at(inst, pos.quantity, mid)
            net += pos.quantity * inst.multiplier / primary.multiplier
        own_bid, own_ask = kernel.orders.best_prices(primary.id)
        bid, ask = first_top
        self._rows.append(
            (
                str(ts_ns),
                ns_to_iso(ts_ns),
                _s(first_mid),
                _s(None if bid is None else primary.ticks_to_price(bid)),
                _s(None if ask is None else primary.ticks_to_price(ask)),
                _s(own_bid),
                _s(own_ask),
                str(net),
                str(cash),
                str(equity),
                str(realized),
                str(unreal),
                str(fees),
            )
        )

    @property
    def equity(self) -> list[tuple[str, ...]]:
        return self._rows

    def positions(self) -> dict[str, Any]:
        """Each instrument's final position, realised PnL and fees (exact, as strings)."""
        kernel = self._kernel
        out: dict[str, Any] = {}
        for iid in self.instrument_ids:
            pos = kernel.portfolio.position(kernel.instruments[iid])
            out[str(iid)] = {
                "position": str(pos.quantity),
                "realized_pnl": str(pos.realized_pnl),
                "fees": str(pos.fees),
            }
        return out
