"""A prediction market resolving on a live node: the venue's `MarketResolved` pays each outcome token's
position out at its settlement price (1, 0, or 0.5 each on a 50-50) — committed to the state store
first (`StateStore.save_portfolio`, the settlement's position and balances in one transaction), then
applied to the portfolio, then told to the sinks. A store that fails leaves memory as it was (the
caller stops new orders); a restart reads the settlement back, or — if it was not committed — sees the
position still held and settles it when the venue reports the resolution again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from tradewright.core.errors import StoreError
from tradewright.engine.journal import copy_position
from tradewright.engine.kernel import Kernel
from tradewright.model.events import MarketResolved
from tradewright.portfolio.portfolio import Portfolio
from tradewright.store.ports import StateStore

__all__ = ["settle_resolution"]

log = logging.getLogger("tradewright.live")


def settle_resolution(
    kernel: Kernel,
    store: StateStore | None,
    event: MarketResolved,
    *,
    on_failure: Callable[[StoreError], None] | None = None,
) -> Decimal | None:
    """Settle one token's position at its resolution (see the module docstring); return the PnL
    realised, or None when nothing was settled (an instrument the node does not trade, no position,
    or a store that failed)."""
    inst = kernel.instruments.get(event.instrument_id)
    held = kernel.portfolio.find_position(event.instrument_id)
    if inst is None or held is None or held.quantity == 0:
        kernel.emit(event)
        return None
    shadow = Portfolio({inst.settle: kernel.portfolio.balance(inst.settle)})
    copy_position(shadow.position(inst), held)
    shadow.apply_resolution(inst, event)  # refuses a price outside [0, 1] before anything is written
    if store is not None:
        try:
            store.save_portfolio([shadow.position(inst)], shadow.balances, ts_ns=event.ts_init)
        except StoreError as exc:
            log.critical("the settlement of %s could not be stored: %s", inst.id, exc)
            if on_failure is not None:
                on_failure(exc)
            return None
    quantity = held.quantity
    pnl = kernel.portfolio.apply_resolution(inst, event)
    log.warning(
        "market %s resolved %s: %s %s settled at %s (PnL %s %s)",
        event.market_id[:16], event.resolution, quantity, inst.id, event.settlement_px, pnl, inst.settle,
    )  # fmt: skip
    kernel.emit(event)
    return pnl
