"""Why a fenced strategy stopped is known even once the node redacts its log records (a live node
registers its credentials, and from then on records are formatted, exception detached, when made)."""

from __future__ import annotations

import logging
from typing import Any

from tradewright.core.clock import SimClock
from tradewright.core.redact import install_log_redaction
from tradewright.engine.kernel import Kernel
from tradewright.live.status import StrategyFailures
from tradewright.model.book import OrderBook
from tradewright.strategy.base import Strategy
from tradewright.testkit.builders import btc_perp


class _Raises(Strategy):
    def on_book(self, book: OrderBook, **kw: Any) -> None:
        raise ZeroDivisionError("a bug in the strategy")


def test_the_reason_is_kept_with_redacted_log_records() -> None:
    install_log_redaction(["a-registered-secret-value"])
    inst = btc_perp()
    log = logging.getLogger("tests.strategy_failures")
    kernel = Kernel(SimClock(1), fence_strategy_errors=True, log=log)
    failures = StrategyFailures(kernel)
    log.addHandler(failures)
    kernel.add_instrument(inst)
    strategy = _Raises("BUGGY", [inst.id], None)
    kernel.add_strategy(strategy)
    kernel.on_book(inst.id)
    log.removeHandler(failures)
    assert kernel.is_stopped(strategy)
    reason = failures.reasons["BUGGY"]
    assert reason.startswith(
        "raised ZeroDivisionError('a bug in the strategy') in on_book at test_strategy_failures.py:"
    )
    assert reason.endswith("; it was stopped")
