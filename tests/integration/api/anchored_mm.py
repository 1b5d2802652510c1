"""The demo market maker plus one resting bid far below the market that it never moves: an order an
operator can find and cancel by hand in the dashboard while the quotes around it churn."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from typing import Any

from tests.conftest import REPO
from tradewright.config.run import RunConfig
from tradewright.model.book import OrderBook
from tradewright.model.enums import OrderSide
from tradewright.strategy.base import Strategy

_spec = importlib.util.spec_from_file_location("symmetric_mm_example", REPO / "examples" / "symmetric_mm.py")
assert _spec is not None and _spec.loader is not None
_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_example)


class AnchoredMarketMaker(_example.SymmetricMarketMaker):  # type: ignore[name-defined,misc]
    anchor: str | None = None

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        if self.anchor is None and book.mid is not None:
            inst = self.ctx.instrument(self.iid)
            price = inst.round_price_down(book.mid * Decimal("0.97"))
            self.anchor = self.ctx.submit(self.iid, OrderSide.BUY, Decimal("0.002"), price)
        super().on_book(book, **kw)


def anchored(config: RunConfig, instrument: Any) -> Strategy:
    params = _example.SymmetricMMConfig(**{k: Decimal(str(v)) if k != "offset_ticks" else int(v)
                                           for k, v in config.strategy.params.items()})
    strategy: Strategy = AnchoredMarketMaker(config.strategy.id, [instrument], params)
    return strategy
