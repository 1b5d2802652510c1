"""Operator control of one strategy while the node runs: pause, resume, stop, start, a manual signal,
a parameter change. The faces (API, CLI) reach these through the live node's operator port; each goes
through the kernel's own paths (cancels through risk and the journal, hooks fenced like any other).

- pause: the strategy stops hearing the market (book, trades, bars, timers), its open orders are
  cancelled and new orders from it are denied (`strategy_paused`) unless reduce-only; its orders'
  events and fills still reach it, so its books stay right.
- resume: it hears the market again from the next event.
- stop: its `on_stop`, then its orders cancelled; it hears nothing more this session.
- start: a stopped strategy's `on_start` again — only if it missed no fill while stopped (the caller
  checks; a strategy whose state does not include its own fills would misjudge its inventory).
"""

from __future__ import annotations

from typing import Any

from tradewright.core.errors import TradewrightError
from tradewright.engine.kernel import Kernel
from tradewright.model.commands import CancelOrder, SendSignal
from tradewright.model.enums import OrderStatus

__all__ = ["StrategyControl"]


class StrategyControl:
    """Pause/resume/stop/start, signals and parameter changes for a kernel's strategies."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def pause(self, strategy_id: str, actor: str) -> int:
        """Pause a strategy and cancel its open orders; return how many cancels were sent."""
        strategy = self.kernel.strategy(strategy_id)
        self.kernel.paused.add(strategy.id)
        return self.cancel_orders_of(strategy.id, actor)

    def resume(self, strategy_id: str) -> None:
        self.kernel.paused.discard(self.kernel.strategy(strategy_id).id)

    def stop(self, strategy_id: str, actor: str) -> int:
        """Stop a strategy for the rest of the session; return how many cancels were sent."""
        kernel = self.kernel
        strategy = kernel.strategy(strategy_id)
        if not kernel.is_stopped(strategy):
            kernel.call_hook(strategy, "on_stop")
            kernel.set_stopped(strategy, True)
        kernel.paused.discard(strategy.id)
        return self.cancel_orders_of(strategy.id, actor)

    def start(self, strategy_id: str) -> None:
        kernel = self.kernel
        strategy = kernel.strategy(strategy_id)
        if kernel.is_stopped(strategy):
            kernel.set_stopped(strategy, False)
            kernel.call_hook(strategy, "on_start")
        kernel.paused.discard(strategy.id)

    def signal(self, command: SendSignal) -> None:
        """Deliver a manual signal to the strategy's `on_signal` (audited like every command)."""
        kernel = self.kernel
        strategy = kernel.strategy(command.strategy_id)
        if not strategy.wants("on_signal"):
            raise TradewrightError(f"strategy {strategy.id} does not accept signals (it has no on_signal hook)")
        if kernel.is_stopped(strategy):
            raise TradewrightError(f"strategy {strategy.id} is stopped: it takes no signal")
        kernel.record_command(command)
        kernel.call_hook(strategy, "on_signal", command)

    def reconfigure(self, strategy_id: str, config: Any) -> None:
        """Hand a strategy a new, validated config through its `on_config` (which may refuse by raising)."""
        strategy = self.kernel.strategy(strategy_id)
        if not strategy.wants("on_config"):
            raise TradewrightError(
                f"strategy {strategy.id} does not accept parameter changes while it runs (no on_config hook)"
            )
        try:
            strategy.on_config(config)
        except Exception as exc:  # the strategy refused: nothing changed; say why
            raise TradewrightError(f"strategy {strategy.id} refused the change: {exc}") from exc
        strategy.config = config

    def cancel_orders_of(self, strategy_id: str, actor: str) -> int:
        """Cancel every open order of one strategy (through risk and the journal, like any cancel)."""
        kernel = self.kernel
        now = kernel.clock.now_ns()
        sent = 0
        for order in kernel.orders.open_orders():
            if order.strategy_id == strategy_id and order.status is not OrderStatus.PENDING_CANCEL:
                command = CancelOrder(
                    client_order_id=order.client_order_id,
                    instrument_id=order.instrument_id,
                    ts_init=now,
                    actor=actor,
                )
                sent += kernel.cancel(command)
        return sent
