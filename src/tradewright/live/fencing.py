"""Strategy-failure fencing: an exception in one strategy stops that strategy only.

The kernel of a live or paper node runs with `fence_strategy_errors`: a hook that raises is logged
and the strategy hears nothing more; the kernel then tells `Kernel.on_strategy_failed`.
`StrategyFence` takes that call, notes why (the exception and where in the strategy's file), and at
the node's next turn of its loop — never inside the kernel's own call — finishes the job: it cancels
the strategy's open orders, raises a `strategy_failure` alert, and tells the node (`on_fenced`) so
that budgets are re-balanced over the strategies still running. The node and every other strategy
carry on.

(The reasons do not come from the log record: with secrets registered, log records are redacted
and formatted at creation, so the exception is no longer attached to them.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tradewright.engine.control import StrategyControl
from tradewright.engine.kernel import Kernel
from tradewright.live.alerts import Alerter
from tradewright.live.status import _location_in
from tradewright.strategy.base import Strategy

__all__ = ["StrategyFence"]


class StrategyFence:
    """Install on a fenced kernel; call `settle()` from the node's loop. `reasons` maps each fenced
    strategy id to "raised RuntimeError(...) in on_book at file.py:42 in on_book; it was stopped"."""

    def __init__(
        self,
        kernel: Kernel,
        alerter: Alerter | None = None,
        *,
        on_fenced: Callable[[str], None] | None = None,
        wake: Callable[[], None] | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.kernel = kernel
        self.control = StrategyControl(kernel)
        self.alerter = alerter
        self.on_fenced = on_fenced
        self.wake = wake
        self.log = log or logging.getLogger("tradewright.live.fencing")
        self.reasons: dict[str, str] = {}
        self._pending: list[str] = []
        self.fenced: list[str] = []  # settled, in order
        kernel.on_strategy_failed = self._failed

    def _failed(self, strategy: Strategy, hook: str, exc: Exception) -> None:
        if strategy.id in self.reasons:
            return
        where = _location_in(exc, type(strategy))
        self.reasons[strategy.id] = (
            f"raised {exc!r} in {hook}" + (f" at {where}" if where else "") + "; it was stopped"
        )
        self._pending.append(strategy.id)
        if self.wake is not None:
            self.wake()

    def settle(self) -> list[str]:
        """Cancel the orders of every strategy fenced since the last call, alert, and return their ids."""
        done: list[str] = []
        while self._pending:
            sid = self._pending.pop(0)
            cancels = self.control.cancel_orders_of(sid, actor=f"fence:{sid}")
            why = self.reasons[sid]
            self.log.error(
                "strategy %s %s; %d of its orders cancelled; the node and the other strategies go on",
                sid,
                why,
                cancels,
                extra={"strategy_id": sid},
            )
            if self.alerter is not None:
                self.alerter.fire(
                    "strategy_failure", f"strategy {sid} {why}; {cancels} orders cancelled", strategy=sid
                )
            if self.on_fenced is not None:
                self.on_fenced(sid)
            self.fenced.append(sid)
            done.append(sid)
        return done
