"""The command side of `KernelOperator`: every operator command through the kernel's own paths.

Each command publishes `command.result` on the `commands` channel (the API publishes
`command.accepted` first) and returns the same `CommandResult`. Cancels go through `Kernel.cancel`
(risk, journal), trading states through `RiskEngine.set_state/reset` (recorded as risk events), the kill
switch through `Kernel.flatten_all`, strategy control through `engine.control.StrategyControl`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import msgspec

from tradewright.core.errors import TradewrightError
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId, Venue
from tradewright.engine.control import StrategyControl
from tradewright.engine.kernel import Kernel
from tradewright.live.operator import OperatorError
from tradewright.live.operator_reads import LIMITS
from tradewright.live.operator_views import CommandContext, CommandResult, FlattenPreview, PositionView
from tradewright.model.commands import CancelOrder, SendSignal
from tradewright.model.enums import OrderStatus
from tradewright.model.events import TradingState
from tradewright.risk.engine import RiskEngine
from tradewright.risk.state import NODE, Scope, instrument_scope, venue_scope

__all__ = ["CommandsMixin"]

_STATES = {"HALTED": TradingState.HALTED, "REDUCING": TradingState.REDUCING}


class CommandsMixin:
    """Commands of `KernelOperator` (attributes and reads come from the class that mixes it in)."""

    kernel: Kernel
    risk: RiskEngine
    control: StrategyControl
    operator_stopped: dict[str, int]
    flatten_tokens: dict[str, tuple[str, int]]

    if TYPE_CHECKING:  # provided by KernelOperator and ReadsMixin

        def command_event(self, ctx: CommandContext, kind: str, data: dict[str, Any]) -> None: ...

        def positions(self) -> list[PositionView]: ...

        @property
        def mode(self) -> str: ...

    def _done(self, ctx: CommandContext, action: str, message: str, **detail: Any) -> CommandResult:
        result = CommandResult(ctx.command_id, action, "done", message, detail)
        self.command_event(ctx, "command.result", msgspec.to_builtins(result))
        return result

    def _refused(self, ctx: CommandContext, action: str, kind: str, message: str) -> OperatorError:
        result = CommandResult(ctx.command_id, action, "refused", message, {})
        self.command_event(ctx, "command.result", msgspec.to_builtins(result))
        return OperatorError(kind, message)

    def _guard(self, ctx: CommandContext, action: str, work: Callable[[], CommandResult]) -> CommandResult:
        """Run a command; an OperatorError or engine refusal becomes a published 'refused' result."""
        try:
            return work()
        except OperatorError as exc:
            raise self._refused(ctx, action, exc.kind, str(exc)) from None
        except TradewrightError as exc:
            raise self._refused(ctx, action, "conflict", str(exc)) from None

    # --- strategies -------------------------------------------------------------------------
    def strategy_command(self, ctx: CommandContext, strategy_id: str, action: str) -> CommandResult:
        def work() -> CommandResult:
            strategy = self._strategy(strategy_id)
            sid = str(strategy.id)
            kernel = self.kernel
            if action == "pause":
                if kernel.is_stopped(strategy):
                    raise OperatorError("conflict", f"strategy {sid} is stopped; it cannot be paused")
                n = self.control.pause(sid, ctx.actor)
                return self._done(ctx, "strategy.pause", f"strategy {sid} paused; {n} cancels sent", cancels=n)
            if action == "resume":
                if kernel.is_stopped(strategy):
                    raise OperatorError("conflict", f"strategy {sid} is stopped; use start")
                self.control.resume(sid)
                return self._done(ctx, "strategy.resume", f"strategy {sid} resumed")
            if action == "stop":
                n = self.control.stop(sid, ctx.actor)
                self.operator_stopped.setdefault(sid, 0)
                return self._done(ctx, "strategy.stop", f"strategy {sid} stopped; {n} cancels sent", cancels=n)
            if action == "start":
                if not kernel.is_stopped(strategy):
                    self.control.resume(sid)
                    return self._done(ctx, "strategy.start", f"strategy {sid} is running")
                missed = self.operator_stopped.get(sid)
                if missed is None:
                    raise OperatorError(
                        "conflict",
                        f"strategy {sid} stopped because one of its hooks raised (see the logs); restart the "
                        "node to run it again",
                    )
                if missed:
                    raise OperatorError(
                        "conflict",
                        f"strategy {sid} missed {missed} fill(s) of its orders while stopped; its own state "
                        "no longer matches its position, so it restarts only with the node",
                    )
                del self.operator_stopped[sid]
                self.control.start(sid)
                return self._done(ctx, "strategy.start", f"strategy {sid} started")
            raise OperatorError("invalid", f"unknown strategy action {action!r} (start, stop, pause, resume)")

        return self._guard(ctx, f"strategy.{action}", work)

    def change_params(
        self, ctx: CommandContext, strategy_id: str, changes: dict[str, Any], max_change_pct: float
    ) -> CommandResult:
        def work() -> CommandResult:
            strategy = self._strategy(strategy_id)
            if strategy.Config is None or strategy.config is None or not strategy.wants("on_config"):
                raise OperatorError(
                    "conflict", f"strategy {strategy.id} does not accept parameter changes while it runs"
                )
            if not changes:
                raise OperatorError("invalid", "no parameters to change")
            current: dict[str, Any] = msgspec.to_builtins(strategy.config)
            unknown = sorted(set(changes) - set(current))
            if unknown:
                raise OperatorError(
                    "invalid", f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(current))}"
                )
            diff: dict[str, dict[str, Any]] = {}
            for name, new in changes.items():
                old = current[name]
                _check_bound(name, old, new, max_change_pct)
                if old != new:
                    diff[name] = {"from": old, "to": new}
            merged = {**current, **changes}
            try:
                config = msgspec.convert(merged, strategy.Config, strict=False)
            except (msgspec.ValidationError, ValueError, TypeError) as exc:
                raise OperatorError("invalid", f"invalid parameters for {strategy.id}: {exc}") from None
            self.control.reconfigure(str(strategy.id), config)
            return self._done(ctx, "strategy.params", f"strategy {strategy.id}: {len(diff)} parameter(s) changed", diff=diff)

        return self._guard(ctx, "strategy.params", work)

    def signal(
        self, ctx: CommandContext, strategy_id: str, name: str, value: Decimal | None, text: str
    ) -> CommandResult:
        def work() -> CommandResult:
            strategy = self._strategy(strategy_id)
            try:
                command = SendSignal(
                    ts_init=self.kernel.clock.now_ns(),
                    actor=ctx.actor,
                    strategy_id=StrategyId(strategy.id),
                    name=name,
                    value=value,
                    text=text,
                )
            except TradewrightError as exc:
                raise OperatorError("invalid", str(exc)) from None
            self.control.signal(command)
            return self._done(ctx, "strategy.signal", f"signal {name!r} delivered to {strategy.id}")

        return self._guard(ctx, "strategy.signal", work)

    def _strategy(self, strategy_id: str) -> Any:
        try:
            return self.kernel.strategy(strategy_id)
        except TradewrightError:
            raise OperatorError("not_found", f"no strategy {strategy_id!r} on this node") from None

    # --- orders -----------------------------------------------------------------------------
    def cancel_order(self, ctx: CommandContext, client_order_id: str) -> CommandResult:
        def work() -> CommandResult:
            order = self.kernel.orders.get(ClientOrderId(client_order_id))
            if order is None:
                raise OperatorError("not_found", f"no order {client_order_id!r} on this node")
            if not order.is_open:
                raise OperatorError("conflict", f"order {client_order_id} is {order.status.value}: nothing to cancel")
            if order.status is OrderStatus.PENDING_CANCEL:
                return self._done(ctx, "order.cancel", f"order {client_order_id}: a cancel is already on its way")
            command = CancelOrder(
                client_order_id=order.client_order_id,
                instrument_id=order.instrument_id,
                ts_init=self.kernel.clock.now_ns(),
                actor=ctx.actor,
            )
            if not self.kernel.cancel(command):
                raise OperatorError("conflict", f"order {client_order_id}: the cancel was not sent (see risk events)")
            return self._done(ctx, "order.cancel", f"cancel of {client_order_id} sent")

        return self._guard(ctx, "order.cancel", work)

    def cancel_all(
        self, ctx: CommandContext, *, venue: str | None, instrument_id: str | None, strategy_id: str | None
    ) -> CommandResult:
        def work() -> CommandResult:
            kernel = self.kernel
            if venue is None and instrument_id is None and strategy_id is None:
                n = kernel.cancel_all_orders(actor=ctx.actor)
                return self._done(ctx, "order.cancel_all", f"{n} cancels sent", cancels=n)
            if strategy_id is not None:
                self._strategy(strategy_id)
            now = kernel.clock.now_ns()
            n = 0
            for order in kernel.orders.open_orders():
                if order.status is OrderStatus.PENDING_CANCEL:
                    continue
                if venue is not None and order.instrument_id.venue != venue:
                    continue
                if instrument_id is not None and str(order.instrument_id) != instrument_id:
                    continue
                if strategy_id is not None and order.strategy_id != strategy_id:
                    continue
                n += kernel.cancel(
                    CancelOrder(
                        client_order_id=order.client_order_id,
                        instrument_id=order.instrument_id,
                        ts_init=now,
                        actor=ctx.actor,
                    )
                )
            scope = {"venue": venue, "instrument_id": instrument_id, "strategy_id": strategy_id}
            return self._done(ctx, "order.cancel_all", f"{n} cancels sent", cancels=n, scope=scope)

        return self._guard(ctx, "order.cancel_all", work)

    # --- trading state and limits -----------------------------------------------------------
    def _scope(self, scope: str, target: str) -> Scope:
        if scope == "node":
            return NODE
        if scope == "venue":
            if not any(i.venue == target for i in self.kernel.instruments):
                raise OperatorError("not_found", f"this node trades on no venue {target!r}")
            return venue_scope(Venue(target))
        if scope == "instrument":
            for iid in self.kernel.instruments:
                if str(iid) == target:
                    return instrument_scope(iid)
            raise OperatorError("not_found", f"this node trades no instrument {target!r}")
        raise OperatorError("invalid", f"scope must be node, venue or instrument, got {scope!r}")

    def set_trading_state(
        self, ctx: CommandContext, state: str, scope: str, target: str, reason: str
    ) -> CommandResult:
        action = "risk.halt" if state == "HALTED" else "risk.reduce_only"

        def work() -> CommandResult:
            wanted = _STATES.get(state)
            if wanted is None:
                raise OperatorError("invalid", f"state must be HALTED or REDUCING, got {state!r}")
            where = self._scope(scope, target)
            self.risk.set_state(wanted, scope=where, reason=f"{ctx.actor}: {reason}")
            return self._done(ctx, action, f"{scope} {target} {wanted.value}".replace("  ", " "), reason=reason)

        return self._guard(ctx, action, work)

    def resume(self, ctx: CommandContext, scope: str, target: str, reason: str, engine_halts: bool) -> CommandResult:
        def work() -> CommandResult:
            where = self._scope(scope, target)
            lifted = [cause for cause in self.risk.states.holds(where)]
            self.risk.reset(scope=where, reason=f"{ctx.actor}: {reason}")
            cleared: list[str] = []
            if engine_halts:
                key: InstrumentId | None = None
                if where[0] == "instrument":
                    key = next(i for i in self.kernel.instruments if str(i) == where[1])
                if key in self.kernel.halts:
                    self.kernel.resume(key)
                    cleared.append("node" if key is None else str(key))
            message = f"lifted {', '.join(lifted) or 'nothing'} on {scope} {target}".rstrip()
            return self._done(ctx, "risk.resume", message, lifted=lifted, engine_halts=cleared)

        return self._guard(ctx, "risk.resume", work)

    def is_loosening(self, name: str, value: Decimal | None) -> bool:
        if name not in LIMITS:
            raise OperatorError("not_found", f"no changeable limit {name!r}; limits: {', '.join(LIMITS)}")
        current = getattr(self.risk.cfg, name)
        if value is None:
            return current is not None  # unsetting a limit allows more
        return current is None or value > current

    def change_limit(self, ctx: CommandContext, name: str, value: Decimal | None) -> CommandResult:
        def work() -> CommandResult:
            if name not in LIMITS:
                raise OperatorError("not_found", f"no changeable limit {name!r}; limits: {', '.join(LIMITS)}")
            if value is not None and (not value.is_finite() or value <= 0):
                raise OperatorError("invalid", f"{name} must be a number > 0 (or null to unset), got {value}")
            old = getattr(self.risk.cfg, name)
            try:
                config = msgspec.structs.replace(self.risk.cfg, **{name: value})
            except (ValueError, InvalidOperation) as exc:
                raise OperatorError("invalid", f"{name}: {exc}") from None
            self.risk.reconfigure(config)
            return self._done(
                ctx, "risk.limit", f"{name}: {old} -> {value}", name=name, old=_text(old), new=_text(value)
            )

        return self._guard(ctx, "risk.limit", work)

    # --- kill switch (two steps) ------------------------------------------------------------
    def flatten_prepare(self, ctx: CommandContext, ttl_s: float) -> FlattenPreview:
        now = time.time_ns()
        for token, (_, expires) in list(self.flatten_tokens.items()):
            if expires <= now:
                del self.flatten_tokens[token]
        token = secrets.token_urlsafe(18)
        expires_ns = now + int(ttl_s * 1e9)
        self.flatten_tokens[token] = (ctx.actor, expires_ns)
        positions = [p for p in self.positions() if p.quantity != 0]
        orders = len(self.kernel.orders.open_orders())
        self.command_event(ctx, "command.result", {"action": "risk.flatten.prepare", "status": "done",
                                                   "message": f"{orders} orders, {len(positions)} positions"})
        return FlattenPreview(
            confirm_token=token, expires_ns=expires_ns, mode=self.mode, orders_to_cancel=orders, positions=positions
        )

    def flatten_execute(self, ctx: CommandContext, confirm_token: str, reason: str) -> CommandResult:
        def work() -> CommandResult:
            entry = self.flatten_tokens.pop(confirm_token, None)
            if entry is None:
                raise OperatorError("conflict", "unknown or already used confirmation token: prepare again")
            actor, expires = entry
            if time.time_ns() >= expires:
                raise OperatorError("conflict", "the confirmation token has expired: prepare again")
            if actor != ctx.actor:
                raise OperatorError("conflict", "the confirmation token was issued to someone else")
            self.kernel.flatten_all(reason, actor=ctx.actor)
            result = CommandResult(
                ctx.command_id, "risk.flatten", "accepted", f"kill switch fired: {reason}", {"reason": reason}
            )
            self.command_event(ctx, "command.result", msgspec.to_builtins(result))
            return result

        return self._guard(ctx, "risk.flatten", work)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _check_bound(name: str, old: Any, new: Any, max_change_pct: float) -> None:
    """A numeric parameter may move at most `max_change_pct` % of its value in one change."""
    if isinstance(old, bool) or isinstance(new, bool):
        return
    try:
        before = Decimal(str(old))
        after = Decimal(str(new))
    except (InvalidOperation, ValueError):
        return  # not a number: the strategy's config type validates it
    if not after.is_finite():
        raise OperatorError("invalid", f"{name} must be a finite number, got {new}")
    if before == 0:
        return
    change_pct = abs(after - before) / abs(before) * 100
    if change_pct > Decimal(str(max_change_pct)):
        raise OperatorError(
            "invalid",
            f"{name}: {old} -> {new} is a change of {change_pct:.4g}%, above the bound of {max_change_pct:g}% "
            "per change (api.max_param_change_pct); change it in smaller steps",
        )
