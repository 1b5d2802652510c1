"""Contingent orders in the engine: brackets (an entry with its stop and target) and one-cancels-all
groups, handled the same way in backtest, paper and live, so one strategy's code runs in every mode.

A strategy sends a bracket with `ctx.submit_bracket(...)` (three linked `SubmitOrder`s,
`tradewright.model.bracket`) and an OCA member with `ctx.submit(..., oca_group=...)`. Then:

- **native**, where the venue holds contingent orders itself (its execution client has
  `capabilities.brackets` and `submit_bracket`: IB's parent/child orders, Alpaca's
  `order_class = "bracket"`): the three intents are recorded in one commit, the entry passes risk for
  the bracket, and the three go out together. The venue releases, resizes and cancels the children and
  says so with events (`OrderUpdated`, `OrderCanceled`); the engine only records them. OCA members on a
  venue with `capabilities.oca_groups` go out with their group (IB's `ocaGroup`).
- **emulated** everywhere else (the simulated venues of backtest and paper, venues without contingent
  orders): the children are recorded as held orders (status INITIALIZED: in the store, never sent) and
  the entry goes out alone. Each fill of the entry releases the children for what it has filled so far
  (a smaller child for its share), then resizes them as more fills; a fill of a child shrinks its
  siblings by as much and cancels them once nothing is left for them; an entry that ends with nothing
  filled ends its held children (`OrderDenied`, reason `parent_ended`). A child's working size is always
  ``its share of what the entry filled - what its siblings filled`` (never below its own fills).

Durability (commit before acting): the held children are in the store before the entry is sent; every
release, resize and cancel is recorded before it is sent, like any order. A crash between a fill and its
consequence (a release, a sibling's cancel) loses neither: at the next start `resume` reads the bracket
back from the store (the entry and every child, finished ones included) and carries out what is still
due — it releases children of a filled entry, cancels a sibling whose partner filled, resizes the rest.
The reconciliation leaves held children alone (they are not at the venue, by design).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tradewright.core.errors import StoreError, TradewrightError
from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.bracket import Bracket, child_quantity
from tradewright.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradewright.model.enums import OrderStatus
from tradewright.model.events import (
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderModifyRejected,
    OrderSubmitted,
    OrderUpdated,
)
from tradewright.model.orders import Order

if TYPE_CHECKING:
    from tradewright.engine.kernel import Kernel
    from tradewright.strategy.base import Strategy

__all__ = ["ContingentOrders", "NativeBrackets"]

ENGINE_ACTOR = "engine:contingent"
_ZERO = Decimal(0)
_RESYNC = frozenset({OrderUpdated, OrderModifyRejected, OrderCancelRejected})


@runtime_checkable
class NativeBrackets(Protocol):
    """An execution client that sends a bracket as the venue's own contingent orders
    (`tradewright.venues._common.ports.BracketExecution`, seen from the engine)."""

    def submit_bracket(self, entry: Order, stop: Order, target: Order | None) -> None: ...


def _capability(client: object, name: str) -> bool:
    return bool(getattr(getattr(client, "capabilities", None), name, False))


class ContingentOrders:
    """The kernel's brackets and OCA groups (see the module docstring). One per kernel."""

    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel
        self._children: dict[ClientOrderId, list[ClientOrderId]] = {}  # entry -> its children (emulated)
        self._parent_size: dict[ClientOrderId, Decimal] = {}  # entry -> its size as asked (= each child's)
        self._groups: dict[str, list[ClientOrderId]] = {}  # plain OCA group -> members (emulated)
        self._finished: dict[ClientOrderId, Order] = {}  # finished orders read back from the store at start
        self.active = False  # the kernel calls `on_order_event` only once something is contingent
        self.released = 0
        self.resized = 0
        self.oca_cancels = 0
        self.log = logging.getLogger("tradewright.contingent")

    # --- placing --------------------------------------------------------------------------------
    def submit_bracket(self, bracket: Bracket, strategy: Strategy | None) -> Order:
        """Send a bracket: natively where the venue holds contingent orders, emulated otherwise.
        Return the entry order (the children are in the order manager under their own ids)."""
        kernel = self._kernel
        client = kernel._client_for(bracket.entry.instrument_id)
        if isinstance(client, NativeBrackets) and _capability(client, "brackets"):
            return self._submit_native(bracket, strategy, client)
        self.active = True
        entry_id = bracket.entry.client_order_id
        children = [c for c in (bracket.stop, bracket.target) if c is not None]
        self._children[entry_id] = [c.client_order_id for c in children]
        self._parent_size[entry_id] = bracket.entry.quantity
        for command in children:
            self._hold(command, strategy)
        return kernel.submit(bracket.entry, strategy)

    def submit_oca(self, command: SubmitOrder, strategy: Strategy | None) -> Order:
        """Send an order of a one-cancels-all group (natively where the venue has OCA groups)."""
        if not command.oca_group or command.parent_order_id is not None:
            raise TradewrightError(
                f"order {command.client_order_id}: submit_oca takes a plain order with an oca_group"
            )
        client = self._kernel._client_for(command.instrument_id)
        if not _capability(client, "oca_groups"):
            self.active = True
            self._groups.setdefault(command.oca_group, []).append(command.client_order_id)
        return self._kernel.submit(command, strategy)

    def _hold(self, command: SubmitOrder, strategy: Strategy | None) -> Order:
        """Record a child the engine keeps until its entry fills (nothing is sent)."""
        kernel = self._kernel
        order = Order(command)
        kernel.orders.add(order)
        if strategy is not None:
            kernel._owner[order.client_order_id] = strategy
        kernel._emit_command(command)
        journal = kernel.journal
        if journal is not None and kernel.store_failure is None:
            try:
                journal.record_held(command)
            except StoreError as exc:
                kernel._journal_failed(exc, f"the held bracket child {command.client_order_id}")
        return order

    def _submit_native(self, bracket: Bracket, strategy: Strategy | None, client: NativeBrackets) -> Order:
        kernel = self._kernel
        commands = bracket.commands
        orders = [Order(c) for c in commands]
        for order in orders:
            kernel.orders.add(order)
            if strategy is not None:
                kernel._owner[order.client_order_id] = strategy
        for command in commands:
            kernel._emit_command(command)
        entry_cmd, entry = commands[0], orders[0]
        refusal = self._refusal(entry_cmd, entry, strategy)
        if refusal is not None:
            for command in commands:
                kernel._deny(command, *refusal)
            return entry
        now = kernel.clock.now_ns()
        submitted = [_submitted(c, c.quantity, now) for c in commands]
        journal = kernel.journal
        if journal is not None:
            stored = True
            try:
                with journal.batch():
                    for command, event in zip(commands, submitted, strict=True):
                        stored = journal.record_intent(command, event) and stored
            except StoreError as exc:
                kernel._journal_failed(exc, f"the bracket of order {entry_cmd.client_order_id}")
                stored = False
            if not stored:
                why = kernel.store_failure or (
                    f"an order of the bracket of {entry_cmd.client_order_id} is already recorded; "
                    "no order is sent twice"
                )
                for command in commands:
                    kernel._deny(
                        command,
                        "store_failed" if kernel.store_failure else "duplicate_client_order_id",
                        why,
                        record=False,
                    )
                return entry
        for event in submitted:
            kernel._apply(event, committed=True)
            kernel._count("orders_submitted")
        client.submit_bracket(orders[0], orders[1], orders[2] if len(orders) > 2 else None)
        return entry

    def _refusal(
        self, command: SubmitOrder, order: Order, strategy: Strategy | None
    ) -> tuple[str, str] | None:
        """The kernel's pre-send checks of a new order (pause, engine halts, risk), for a native bracket."""
        kernel = self._kernel
        if (
            kernel.paused
            and strategy is not None
            and strategy.id in kernel.paused
            and not command.reduce_only
        ):
            return "strategy_paused", f"strategy {strategy.id} is paused by an operator"
        if kernel.halts:
            halted = kernel.halts.get(None) or kernel.halts.get(command.instrument_id)
            if halted is not None:
                return "halted", halted
        if kernel.risk is not None:
            denial = kernel.risk.check(command, order)
            if denial is not None:
                return denial.reason, denial.message
        return None

    # --- cancels of held children ---------------------------------------------------------------------
    def cancel_held(self, command: CancelOrder, order: Order) -> bool:
        """A cancel of a child the engine still holds: it ends here (nothing was ever sent)."""
        self._kernel._emit_command(command)
        return self._end_held(
            order,
            "canceled_while_held",
            f"order {order.client_order_id} was cancelled before its entry filled",
        )

    def _end_held(self, order: Order, reason: str, message: str) -> bool:
        now = self._kernel.clock.now_ns()
        denied = OrderDenied(
            client_order_id=order.client_order_id,
            instrument_id=order.instrument_id,
            reason=reason,
            message=message,
            ts_event=now,
            ts_init=now,
        )
        return self._kernel._apply(denied)

    # --- following the orders -------------------------------------------------------------------
    def on_order_event(self, event: OrderEvent, order: Order) -> None:
        """An order event was applied: bring the entry's children and the OCA siblings in line."""
        etype = type(event)
        cid = event.client_order_id
        if cid in self._children and (etype is OrderFilled or order.status.is_terminal):
            self._follow(cid)
            return
        parent = order.parent_order_id
        if parent is not None and parent in self._children and (etype is OrderFilled or etype in _RESYNC):
            self._follow(parent)
            return
        group = order.oca_group
        if group and group in self._groups and parent is None and etype is OrderFilled:
            assert isinstance(event, OrderFilled)
            self._one_cancels_all(group, order, event.last_qty)

    def _order(self, cid: ClientOrderId) -> Order | None:
        return self._kernel.orders.get(cid) or self._finished.get(cid)

    def _follow(self, entry_id: ClientOrderId) -> None:
        """Size every child of one entry: its share of what the entry filled, less its siblings' fills."""
        entry = self._order(entry_id)
        if entry is None:
            return
        kids = [o for o in (self._order(c) for c in self._children.get(entry_id, ())) if o is not None]
        inst = self._kernel.instruments[entry.instrument_id]
        parent_size = self._parent_size.get(entry_id, entry.quantity)
        for child in kids:
            if child.status.is_terminal:
                continue
            # A bracket's children are the entry's size (`Bracket` checks it): each works for all it filled.
            share = inst.round_size_down(child_quantity(parent_size, parent_size, entry.filled_qty))
            taken = sum((s.filled_qty for s in kids if s is not child), _ZERO)
            size = share - taken
            if child.status is OrderStatus.INITIALIZED:
                if size > 0:
                    self._release(child, size)
                elif entry.status.is_terminal:
                    self._end_held(
                        child, "parent_ended", f"its entry {entry_id} ended with nothing left to protect"
                    )
                continue
            if size <= child.filled_qty:
                self._cancel(child, f"its siblings took the {taken} its entry {entry_id} filled")
            elif size != child.quantity:
                self._resize(child, size)
        if entry.status.is_terminal and all(k.status.is_terminal for k in kids):
            self._forget(entry_id)

    def _release(self, child: Order, size: Decimal) -> None:
        """Send a held child for `size` (recorded first: OrderSubmitted carries the size)."""
        kernel = self._kernel
        if kernel.store_failure is not None:
            self.log.error("bracket child %s not released: %s", child.client_order_id, kernel.store_failure)
            return
        submitted = OrderSubmitted(
            client_order_id=child.client_order_id,
            instrument_id=child.instrument_id,
            strategy_id=child.strategy_id,
            side=child.side,
            order_type=child.order_type,
            quantity=size,
            price=child.price,
            trigger_price=child.trigger_price,
            time_in_force=child.time_in_force,
            expire_ns=child.expire_ns,
            post_only=child.post_only,
            reduce_only=child.reduce_only,
            parent_order_id=child.parent_order_id,
            oca_group=child.oca_group,
            ts_event=kernel.clock.now_ns(),
            ts_init=kernel.clock.now_ns(),
        )
        if not kernel._apply(submitted):
            return  # not durable: not sent (the kernel halted new orders)
        self.released += 1
        kernel._count("orders_submitted")
        kernel._client_for(child.instrument_id).submit(child)

    def _resize(self, child: Order, size: Decimal) -> None:
        if child.status in (OrderStatus.PENDING_UPDATE, OrderStatus.PENDING_CANCEL):
            return  # asked already: sized again when that answer comes
        command = ModifyOrder(
            client_order_id=child.client_order_id,
            instrument_id=child.instrument_id,
            quantity=size,
            ts_init=self._kernel.clock.now_ns(),
            actor=ENGINE_ACTOR,
        )
        if self._kernel.modify(command):
            self.resized += 1

    def _cancel(self, order: Order, why: str) -> None:
        if order.status is OrderStatus.PENDING_CANCEL:
            return
        self.log.debug("cancelling %s: %s", order.client_order_id, why)
        command = CancelOrder(
            client_order_id=order.client_order_id,
            instrument_id=order.instrument_id,
            ts_init=self._kernel.clock.now_ns(),
            actor=ENGINE_ACTOR,
        )
        if self._kernel.cancel(command):
            self.oca_cancels += 1

    def _one_cancels_all(self, group: str, filled: Order, quantity: Decimal) -> None:
        """A member of a plain OCA group filled `quantity`: the others shrink by as much; once it is done
        (or a member has nothing left) they are cancelled."""
        for cid in self._groups.get(group, ()):
            other = self._kernel.orders.get(cid)
            if other is None or other is filled or not other.is_open:
                continue
            size = other.quantity - quantity
            if filled.status is OrderStatus.FILLED or size <= other.filled_qty:
                self._cancel(other, f"{filled.client_order_id} of its group {group} filled")
            else:
                self._resize(other, size)
        members = [self._kernel.orders.get(c) for c in self._groups.get(group, ())]
        if all(m is None or m.is_closed for m in members):
            self._groups.pop(group, None)

    def _forget(self, entry_id: ClientOrderId) -> None:
        for cid in self._children.pop(entry_id, ()):
            self._finished.pop(cid, None)
        self._parent_size.pop(entry_id, None)
        self._finished.pop(entry_id, None)

    # --- restart --------------------------------------------------------------------------------
    def resume(self, load_orders_since: Callable[[int], Mapping[ClientOrderId, Order]]) -> list[str]:
        """After the kernel's orders were restored from the store: rebuild the emulated brackets and OCA
        groups still working and carry out what a crash left undone. `load_orders_since(ts_ns)` reads
        every stored order touched since then (finished ones too: the entry, a filled sibling).
        Return what was done, in words."""
        kernel = self._kernel
        live = [
            o
            for o in kernel.orders.all_orders
            if not o.status.is_terminal and (o.parent_order_id is not None or o.oca_group)
        ]
        live = [o for o in live if not self._native(o.instrument_id)]
        if not live:
            return []
        self.active = True
        stored = load_orders_since(min(o.ts_init for o in live))
        done: list[str] = []
        entries: set[ClientOrderId] = set()
        groups: set[str] = set()
        for order in stored.values():
            known = kernel.orders.get(order.client_order_id)
            current = known if known is not None else order
            if known is None and order.status.is_terminal:
                self._finished[order.client_order_id] = order
            parent = current.parent_order_id
            if parent is not None:
                kids = self._children.setdefault(parent, [])
                if current.client_order_id not in kids:
                    kids.append(current.client_order_id)
                entries.add(parent)
            elif current.oca_group:
                members = self._groups.setdefault(current.oca_group, [])
                if current.client_order_id not in members:
                    members.append(current.client_order_id)
                groups.add(current.oca_group)
        for entry_id in sorted(entries):
            entry = self._order(entry_id)
            if entry is None:
                continue
            self._parent_size[entry_id] = _asked(entry)
            before = self.released, self.resized, self.oca_cancels
            self._follow(entry_id)
            after = self.released, self.resized, self.oca_cancels
            if after != before:
                done.append(
                    f"bracket {entry_id}: {after[0] - before[0]} children released, {after[1] - before[1]} "
                    f"resized, {after[2] - before[2]} cancelled"
                )
        for group in sorted(groups):
            found = [self._order(c) for c in self._groups[group]]
            if any(m is not None and m.status is OrderStatus.FILLED for m in found):
                for m in found:
                    if m is not None and m.is_open:
                        self._cancel(m, f"a member of its group {group} filled before the restart")
                        done.append(f"OCA group {group}: {m.client_order_id} cancelled")
        for line in done:
            self.log.warning("contingent orders after the restart: %s", line)
        return done

    def _native(self, instrument_id: InstrumentId) -> bool:
        client = self._kernel._clients.get(instrument_id.venue)
        return client is not None and isinstance(client, NativeBrackets) and _capability(client, "brackets")

    def snapshot(self) -> dict[str, Any]:
        """Counts for status and tests."""
        return {
            "brackets": len(self._children),
            "oca_groups": len(self._groups),
            "released": self.released,
            "resized": self.resized,
            "cancelled": self.oca_cancels,
        }


def _asked(entry: Order) -> Decimal:
    """An entry's size as it was asked: its first `OrderSubmitted`'s (a later modify changes `quantity`)."""
    for event in entry.events:
        if type(event) is OrderSubmitted:
            return event.quantity
    return entry.quantity


def _submitted(command: SubmitOrder, quantity: Decimal, now: int) -> OrderSubmitted:
    return OrderSubmitted(
        client_order_id=command.client_order_id,
        instrument_id=command.instrument_id,
        strategy_id=command.strategy_id,
        side=command.side,
        order_type=command.order_type,
        quantity=quantity,
        price=command.price,
        trigger_price=command.trigger_price,
        time_in_force=command.time_in_force,
        expire_ns=command.expire_ns,
        post_only=command.post_only,
        reduce_only=command.reduce_only,
        parent_order_id=command.parent_order_id,
        oca_group=command.oca_group,
        ts_event=now,
        ts_init=now,
    )
