"""Restart recovery and reconciliation for the live node.

`restore` rebuilds the kernel from the store after a restart: positions with their FIFO lots,
balances, every unfinished order (handed back to its strategy and to the venue client), and each
strategy's state from its last snapshot plus the fills committed since.

`Reconciler` then compares that state with the venue (`VenueStatePort`) through the pure rules of
`tradewright.engine.reconcile` and carries out what they say: order events go through the kernel (so
they are journaled like any other), corrections are committed with an audit record before memory
changes, and a drift above the threshold halts the instrument with the reason. It runs at start and
then every `reconcile.interval_s`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradewright.core.errors import StoreError, TradewrightError
from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.engine.journal import copy_position
from tradewright.engine.kernel import Kernel
from tradewright.engine.reconcile import (
    Action,
    ApplyEvent,
    CancelUnknownOrder,
    CorrectBalance,
    CorrectPosition,
    HaltInstrument,
    ReconcileConfig,
    ReportUnknownOrder,
    ResendCancel,
    reconcile_account,
    reconcile_orders,
)
from tradewright.engine.venue_state import VenueOrder, VenueStatePort
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import OrderFilled
from tradewright.model.orders import Order
from tradewright.model.position import Position
from tradewright.store import codec
from tradewright.store.ports import StateStore
from tradewright.store.records import AuditRecord, RiskEventRecord, StoreState

__all__ = ["ReconcileReport", "Reconciler", "RestoreSummary", "VenueOrderActions", "restore"]

ACTOR = "reconcile"


@dataclass
class RestoreSummary:
    orders: int = 0
    positions: int = 0
    balances: int = 0
    snapshots: int = 0
    replayed_fills: int = 0
    skipped: list[str] = field(default_factory=list)


def restore(
    kernel: Kernel, state: StoreState, track: Callable[[Order], None], log: logging.Logger
) -> RestoreSummary:
    """Rebuild the kernel's orders, positions, balances and strategy state from the store (before start).

    `track` hands each restored order to the venue client that will hear about it.
    """
    summary = RestoreSummary()
    for iid, stored in state.positions.items():
        inst = kernel.instruments.get(iid)
        if inst is None:
            summary.skipped.append(f"position in {iid} (not traded by this node)")
            continue
        copy_position(kernel.portfolio.position(inst), stored)
        summary.positions += 1
    for currency, amount in state.balances.items():
        kernel.portfolio.set_balance(currency, amount)
        summary.balances += 1
    for order in sorted(state.orders.values(), key=lambda o: o.ts_init):
        if order.status.is_terminal:
            continue
        if order.instrument_id not in kernel.instruments:
            summary.skipped.append(f"order {order.client_order_id} in {order.instrument_id}")
            continue
        kernel.restore_order(order)
        track(order)
        summary.orders += 1
    # Strategies rebuild their own state: the snapshot, then the fills since (orders they send while
    # replaying are refused: the node is not trading yet).
    if not any(s.id in state.snapshots for s in kernel.strategies):
        return _logged(summary, log)
    kernel.halts[None] = "replaying strategy state after a restart"
    try:
        for strategy in kernel.strategies:
            snapshot = state.snapshots.get(strategy.id)
            if snapshot is None:
                continue
            try:
                strategy.restore_state(snapshot.decode(dict))
                for fill in state.fills_since_snapshot.get(strategy.id, ()):
                    strategy.on_fill(fill, replay=True)
                    summary.replayed_fills += 1
            except TradewrightError:
                raise
            except Exception as exc:
                raise TradewrightError(
                    f"strategy {strategy.id} could not restore its state: {exc!r}"
                ) from exc
            summary.snapshots += 1
    finally:
        kernel.halts.pop(None, None)
    return _logged(summary, log)


def _logged(summary: RestoreSummary, log: logging.Logger) -> RestoreSummary:
    for line in summary.skipped:
        log.warning("not restored: %s", line)
    return summary


class VenueOrderActions:
    """What reconciliation asks of the venue client beyond the kernel's own commands."""

    def __init__(
        self, resend_cancel: Callable[[Order], None], cancel_unknown: Callable[[VenueOrder], None]
    ) -> None:
        self.resend_cancel = resend_cancel
        self.cancel_unknown = cancel_unknown


@dataclass
class ReconcileReport:
    """What one reconciliation found and did."""

    orders_checked: int = 0
    events: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    halted: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.events and not self.actions and not self.pending and not self.halted


class Reconciler:
    """Run the reconciliation rules against the venue and carry out their actions."""

    def __init__(
        self,
        kernel: Kernel,
        venue: VenueStatePort,
        store: StateStore,
        config: ReconcileConfig,
        venue_actions: VenueOrderActions,
        *,
        min_order_age_s: float,
        log: logging.Logger | None = None,
    ) -> None:
        self.kernel = kernel
        self.venue = venue
        self.store = store
        self.config = config
        self.venue_actions = venue_actions
        self.min_order_age_ns = int(min_order_age_s * 1e9)
        self.log = log or logging.getLogger("tradewright.live.reconcile")
        self._seen: dict[str, int] = {}  # drift key -> consecutive passes that saw it
        self.runs = 0

    async def at_start(self) -> ReconcileReport:
        """Reconcile until nothing waits for confirmation (at most `confirmations` passes, back to back)."""
        report = await self.run_once(check_all=True)
        for _ in range(self.config.confirmations - 1):
            if not report.pending:
                break
            await asyncio.sleep(0.2)
            report = await self.run_once(check_all=True)
        # Brackets and OCA groups the engine emulates: carry out what a crash left undone (a release of
        # a filled entry's children, a sibling's cancel), now that the venue's missed events are in.
        store = self.store
        report.actions.extend(
            self.kernel.contingent.resume(lambda since: store.load_state(orders_since_ns=since).orders)
        )
        return report

    async def run_once(self, *, check_all: bool = False) -> ReconcileReport:
        """One pass: orders first (their missed fills move positions), then positions and balances.

        `check_all` also checks orders whose last change is recent (at start nothing of ours is in
        flight; while running, a young order's request may still be on its way).
        """
        self.runs += 1
        report = ReconcileReport()
        kernel = self.kernel
        for iid in sorted(kernel.instruments):
            await self._orders(iid, check_all, report)
        await self._account(report)
        for line in report.events:
            self.log.info("reconcile: applied %s", line)
        for line in report.actions + report.halted:
            self.log.warning("reconcile: %s", line)
        return report

    # --- orders -----------------------------------------------------------------------------
    async def _orders(self, iid: InstrumentId, check_all: bool, report: ReconcileReport) -> None:
        kernel = self.kernel
        now = kernel.clock.now_ns()
        local = {o.client_order_id: o for o in self._unfinished(iid)}
        venue_open = await self.venue.open_orders(iid)
        by_cid = {v.client_order_id: v for v in venue_open}
        views: dict[ClientOrderId, VenueOrder | None] = {}
        fills: dict[ClientOrderId, list[OrderFilled]] = {}
        versions: dict[ClientOrderId, int] = {}
        for cid, order in local.items():
            last = order.events[-1].ts_init if order.events else order.ts_init
            if not check_all and now - last < self.min_order_age_ns:
                continue
            versions[cid] = len(order.events)
            view = by_cid.get(cid)
            if view is None:
                view = await self.venue.query_order(iid, cid)
            views[cid] = view
            if view is not None and view.filled_qty > order.filled_qty:
                fills[cid] = await self.venue.order_fills(view)
        # While we were asking, the user stream kept applying updates: an order that changed meanwhile
        # is compared next time (its view may be older than what we now hold), and an order sent
        # meanwhile is open here, not unknown.
        current = {o.client_order_id: o for o in self._unfinished(iid)}
        views = {
            cid: v for cid, v in views.items() if cid in current and len(current[cid].events) == versions[cid]
        }
        report.orders_checked += len(views)
        actions = reconcile_orders(current, views, fills, venue_open, self.config, kernel.clock.now_ns())
        for action in actions:
            self._carry_out_order_action(action, report)

    def _unfinished(self, iid: InstrumentId) -> list[Order]:
        # A bracket child the engine holds (INITIALIZED, with a parent) is not at the venue by design:
        # the engine releases it when its entry fills (engine/contingent.py), so it is not looked up there.
        return [
            o
            for o in self.kernel.orders.all_orders
            if o.instrument_id == iid
            and not o.status.is_terminal
            and not (o.status is OrderStatus.INITIALIZED and o.parent_order_id is not None)
        ]

    def _carry_out_order_action(self, action: Action, report: ReconcileReport) -> None:
        kernel = self.kernel
        if isinstance(action, ApplyEvent):
            event = action.event
            applied = kernel.orders.refusal(event) is None
            kernel.on_venue_event(event)
            if applied:
                report.events.append(f"{event.client_order_id}: {type(event).__name__} ({action.reason})")
        elif isinstance(action, ResendCancel):
            order = kernel.orders.get(action.client_order_id)
            if order is not None:
                self.venue_actions.resend_cancel(order)
                report.actions.append(f"{action.client_order_id}: cancel sent again ({action.reason})")
        elif isinstance(action, CancelUnknownOrder):
            self.venue_actions.cancel_unknown(action.order)
            self._audit("CancelUnknownOrder", action.reason, action.order)
            report.actions.append(f"cancel sent: {action.reason}")
        elif isinstance(action, ReportUnknownOrder):
            self._audit("ReportUnknownOrder", action.reason, action.order)
            report.actions.append(f"left alone: {action.reason}")
        elif isinstance(action, HaltInstrument):
            self._halt(action, report)

    # --- positions and balances -------------------------------------------------------------
    async def _account(self, report: ReconcileReport) -> None:
        kernel = self.kernel
        snapshot = await self.venue.account(sorted(kernel.instruments))
        positions = {
            iid: (p.quantity if (p := kernel.portfolio.find_position(iid)) is not None else Decimal(0))
            for iid in kernel.instruments
        }
        recent = [
            e
            for o in kernel.orders.all_orders
            if o.instrument_id in kernel.instruments
            for e in o.events
            if type(e) is OrderFilled and e.ts_event > snapshot.as_of_ns
        ]
        actions = reconcile_account(
            kernel.instruments,
            positions,
            kernel.portfolio.balances,
            recent,
            snapshot,
            self.config,
        )
        keys = set()
        for action in actions:
            key = self._key(action)
            keys.add(key)
            seen = self._seen[key] = self._seen.get(key, 0) + 1
            if seen < self.config.confirmations:
                report.pending.append(f"{action.reason} (seen {seen} of {self.config.confirmations} times)")
                continue
            self._seen.pop(key, None)
            if isinstance(action, CorrectPosition):
                self._correct_position(action, report)
            elif isinstance(action, CorrectBalance):
                self._correct_balance(action, report)
            elif isinstance(action, HaltInstrument):
                self._halt(action, report)
        for key in list(self._seen):
            if key not in keys:
                del self._seen[key]  # the difference went away on its own

    @staticmethod
    def _key(action: Action) -> str:
        if isinstance(action, CorrectPosition | HaltInstrument):
            return f"position:{action.instrument_id}"
        if isinstance(action, CorrectBalance):
            return f"balance:{action.currency}"
        return repr(action)

    def _correct_position(self, action: CorrectPosition, report: ReconcileReport) -> None:
        """Commit the corrected position with its audit record, then change memory the same way."""
        kernel = self.kernel
        inst = kernel.instruments[action.instrument_id]
        held = kernel.portfolio.find_position(inst.id)
        corrected = Position(inst)
        if held is not None:
            copy_position(corrected, held)
        price = action.price if action.price > 0 else (kernel.mark(inst.id) or corrected.avg_px)
        _adjust(corrected, action.quantity, price)
        if kernel.store_failure is not None:
            return
        now = kernel.clock.now_ns()
        try:
            with self.store.batch():
                self.store.save_portfolio([corrected], {}, ts_ns=now)
                self.store.record_audit(
                    AuditRecord(
                        ts_ns=now,
                        actor=ACTOR,
                        action="CorrectPosition",
                        reason=action.reason,
                        detail=codec.encode(
                            {
                                "instrument_id": str(action.instrument_id),
                                "local": action.local,
                                "venue": action.venue,
                                "drift": action.drift,
                                "threshold": action.threshold,
                                "quantity": action.quantity,
                                "price": price,
                            }
                        ),
                    )
                )
        except StoreError as exc:
            self._store_failed(exc)
            return
        _adjust(kernel.portfolio.position(inst), action.quantity, price)
        report.actions.append(action.reason)

    def _correct_balance(self, action: CorrectBalance, report: ReconcileReport) -> None:
        kernel = self.kernel
        if kernel.store_failure is not None:
            return
        now = kernel.clock.now_ns()
        try:
            with self.store.batch():
                self.store.save_portfolio([], {action.currency: action.amount}, ts_ns=now)
                self.store.record_audit(
                    AuditRecord(
                        ts_ns=now,
                        actor=ACTOR,
                        action="CorrectBalance",
                        reason=action.reason,
                        detail=codec.encode(
                            {"currency": action.currency, "local": action.local, "venue": action.venue}
                        ),
                    )
                )
        except StoreError as exc:
            self._store_failed(exc)
            return
        kernel.portfolio.set_balance(action.currency, action.amount)
        report.actions.append(action.reason)

    def _halt(self, action: HaltInstrument, report: ReconcileReport) -> None:
        kernel = self.kernel
        if kernel.halts.get(action.instrument_id) == action.reason:
            return
        kernel.halt(action.reason, action.instrument_id)
        report.halted.append(action.reason)
        if kernel.store_failure is None:
            try:
                self.store.record_risk_event(
                    RiskEventRecord(
                        ts_ns=kernel.clock.now_ns(),
                        kind="ReconcileHalt",
                        message=action.reason,
                        instrument_id=action.instrument_id,
                    )
                )
            except StoreError as exc:
                self._store_failed(exc)
        kernel.cancel_all_orders(actor=f"{ACTOR}: halted", instrument_id=action.instrument_id)

    def _audit(self, what: str, reason: str, order: VenueOrder) -> None:
        if self.kernel.store_failure is not None:
            return
        try:
            self.store.record_audit(
                AuditRecord(
                    ts_ns=self.kernel.clock.now_ns(),
                    actor=ACTOR,
                    action=what,
                    reason=reason,
                    detail=codec.encode(_venue_order_fields(order)),
                )
            )
        except StoreError as exc:
            self._store_failed(exc)

    def _store_failed(self, exc: StoreError) -> None:
        self.log.critical("reconcile could not record its correction: %s", exc)
        self.kernel.halt(f"the state store failed during reconciliation: {exc}")


def _adjust(position: Position, quantity: Decimal, price: Decimal) -> None:
    """Bring `position` to `quantity` by a book adjustment at `price`: its lots change, its realised
    PnL, fees and traded volume do not (it is not a trade of ours)."""
    delta = quantity - position.quantity
    if delta == 0:
        return
    realized, fees, volume = position.realized_pnl, position.fees, position.traded_volume
    position.apply_fill(OrderSide.BUY if delta > 0 else OrderSide.SELL, price, abs(delta))
    position.realized_pnl, position.fees, position.traded_volume = realized, fees, volume


def _venue_order_fields(order: VenueOrder) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id,
        "venue_order_id": order.venue_order_id,
        "instrument_id": str(order.instrument_id),
        "side": order.side.value,
        "status": order.status.value,
        "quantity": order.quantity,
        "filled_qty": order.filled_qty,
        "price": order.price,
    }
