"""Flatten before the session closes (C6 on a schedule): no position is carried through the close.

`flatten_before_close_minutes` before each close of an instrument's session (`flatten_session`; its
main one by default), the instrument is held REDUCING (cause ``session_close``): entries are refused
and orders that would add to the position are cancelled. Then every other open order on it is
cancelled and the position is closed with reduce-only limit orders priced like the kill switch's (the
reference price through the allowed slippage, inside the price band). Every `flatten_retry_ms` it looks
again, up to `flatten_max_attempts`. `FlattenStarted`/`FlattenFinished` record it (actor
``risk:session_close``), and when the session opens again the hold is lifted (`BreakerReset`).

With `flatten_calendar` the exchange's holidays and early closes count (`tradewright.model.calendar`):
on an early-close day the flatten comes before the early close.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradewright.core.clock import ns_to_iso
from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.model.calendar import TradingCalendar, cme_holidays
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradewright.model.events import FlattenFinished, FlattenStarted, TradingState
from tradewright.model.instrument import Instrument, TradingSession
from tradewright.risk.kill_switch import RISK_STRATEGY_ID, cancel_orders
from tradewright.risk.state import instrument_scope

if TYPE_CHECKING:
    from tradewright.risk.engine import RiskEngine

__all__ = ["SESSION_CLOSE", "SessionClose"]

SESSION_CLOSE = "session_close"
_ACTOR = f"risk:{SESSION_CLOSE}"
_MIN = 60_000_000_000
_MS = 1_000_000


class SessionClose:
    """One schedule per instrument with a session (see the module docstring)."""

    def __init__(self, engine: RiskEngine) -> None:
        self._engine = engine
        cfg = engine.cfg
        assert cfg.flatten_before_close_minutes is not None
        self.lead_ns = cfg.flatten_before_close_minutes * _MIN
        self._own: set[ClientOrderId] = set()
        self._attempts: dict[InstrumentId, int] = {}
        self._calendars: dict[InstrumentId, TradingCalendar] = {}
        self.flattens = 0
        self.stopped = False  # the node is stopping: schedule nothing more

    def owns(self, cid: ClientOrderId) -> bool:
        return cid in self._own

    @property
    def active(self) -> bool:
        """Some instrument is being flattened right now."""
        return bool(self._attempts)

    def arm(self, _: Any = None) -> None:
        """Schedule the next flatten of every instrument that has the session (called once at start)."""
        host = self._engine.host
        now = host.clock.now_ns()
        for inst in list(host.instruments.values()):
            self._schedule(inst, now)

    # --- the schedule ---------------------------------------------------------------------------
    def _session(self, inst: Instrument) -> TradingSession | None:
        name = self._engine.cfg.flatten_session
        session = inst.session(name)
        if session is None and inst.sessions:
            self._engine.log.warning(
                "risk.flatten_session: %s has no session %r (it has %s); not flattened before a close",
                inst.id,
                name,
                ", ".join(s.name for s in inst.sessions),
            )
        return session

    def window(self, inst: Instrument, now: int) -> tuple[int, int] | None:
        """(close, reopen) of the session `now` is in or the next one to open, UTC ns; None if the
        instrument has no such session."""
        session = self._session(inst)
        if session is None:
            return None
        family = self._engine.cfg.flatten_calendar
        if family:
            calendar = self._calendars.get(inst.id)
            if calendar is None:
                year = date.fromtimestamp(now // 1_000_000_000).year
                holidays = {}
                for y in range(year - 1, year + 3):
                    holidays.update(cme_holidays(y, "fx" if family == "cme_fx" else "equity_index"))
                calendar = self._calendars[inst.id] = TradingCalendar(session, holidays=holidays)
            close = calendar.next_close_ns(now)
            return close, calendar.next_open_ns(close)
        start = session.start_ns(now)
        close = session.end_ns(start)
        if close <= now:
            start = session.next_start_ns(start)
            close = session.end_ns(start)
        return close, session.next_start_ns(start)

    def _schedule(self, inst: Instrument, now: int) -> None:
        if self.stopped:
            return
        window = self.window(inst, now)
        if window is None:
            return
        close, reopen = window
        self._engine.host.schedule(max(now, close - self.lead_ns), self._fire, (inst.id, close, reopen))

    def _fire(self, arg: tuple[InstrumentId, int, int]) -> None:
        iid, close, reopen = arg
        engine = self._engine
        host = engine.host
        inst = host.instruments.get(iid)
        if inst is None or self.stopped:
            return
        now = host.clock.now_ns()
        self.flattens += 1
        reason = (
            f"{iid}: flatten {engine.cfg.flatten_before_close_minutes} min before the session closes at "
            f"{ns_to_iso(close)}; no entries until it opens again at {ns_to_iso(reopen)}"
        )
        pos = host.portfolio.find_position(iid)
        quantity = pos.quantity if pos is not None else Decimal(0)
        others = self._open_orders(iid, own=False)
        engine.emit(
            FlattenStarted(
                reason=reason,
                actor=_ACTOR,
                orders_canceled=len(others),
                positions={str(iid): quantity} if quantity else {},
                ts_event=now,
                ts_init=now,
            )
        )
        engine.hold(instrument_scope(iid), SESSION_CLOSE, TradingState.REDUCING, reason)
        self._cancel(others)
        self._attempts[iid] = 1
        self._close(inst)
        host.schedule(reopen, self._reopen, (iid, reopen))
        if not self._done(iid):
            host.schedule(now + engine.cfg.flatten_retry_ms * _MS, self._retry, iid)

    def _reopen(self, arg: tuple[InstrumentId, int]) -> None:
        iid, reopen = arg
        engine = self._engine
        if self.stopped:
            return
        engine.release(instrument_scope(iid), SESSION_CLOSE, f"{iid}: the session opened at {ns_to_iso(reopen)}")
        inst = engine.host.instruments.get(iid)
        if inst is not None:
            self._schedule(inst, reopen)

    def _retry(self, iid: InstrumentId) -> None:
        engine = self._engine
        if self._done(iid) or self.stopped:
            return
        attempts = self._attempts.get(iid, 0)
        if attempts >= engine.cfg.flatten_max_attempts:
            self._finish(iid, complete=False)
            return
        self._attempts[iid] = attempts + 1
        self._cancel(self._open_orders(iid, own=False))
        stale = self._open_orders(iid, own=True)
        if stale:
            self._cancel(stale)  # offered again at a fresh price on the next attempt
        else:
            inst = engine.host.instruments.get(iid)
            if inst is not None:
                self._close(inst)
        engine.host.schedule(engine.host.clock.now_ns() + engine.cfg.flatten_retry_ms * _MS, self._retry, iid)

    # --- actions --------------------------------------------------------------------------------
    def _done(self, iid: InstrumentId) -> bool:
        """Flat with nothing open on the instrument: record the finish (once) and say so."""
        if iid not in self._attempts:
            return True
        host = self._engine.host
        pos = host.portfolio.find_position(iid)
        if (pos is not None and pos.quantity != 0) or host.orders.open_orders(iid):
            return False
        self._finish(iid, complete=True)
        return True

    def on_progress(self) -> None:
        """An order of an instrument being flattened ended: finish it if it is flat now."""
        for iid in list(self._attempts):
            self._done(iid)

    def _finish(self, iid: InstrumentId, *, complete: bool) -> None:
        host = self._engine.host
        attempts = self._attempts.pop(iid, 0)
        pos = host.portfolio.find_position(iid)
        now = host.clock.now_ns()
        self._engine.emit(
            FlattenFinished(
                reason=f"{iid}: session close",
                complete=complete,
                attempts=attempts,
                residual={str(iid): pos.quantity} if pos is not None and pos.quantity != 0 else {},
                open_orders=len(host.orders.open_orders(iid)),
                ts_event=now,
                ts_init=now,
            )
        )

    def _open_orders(self, iid: InstrumentId, *, own: bool) -> list[Any]:
        return [
            o
            for o in self._engine.host.orders.open_orders(iid)
            if o.status is not OrderStatus.PENDING_CANCEL and self.owns(o.client_order_id) == own
        ]

    def _cancel(self, orders: list[Any]) -> None:
        cancel_orders(self._engine.host, orders, _ACTOR)

    def _close(self, inst: Instrument) -> None:
        engine = self._engine
        host = engine.host
        pos = host.portfolio.find_position(inst.id)
        if pos is None or pos.quantity == 0:
            return
        side = OrderSide.SELL if pos.quantity > 0 else OrderSide.BUY
        price = engine.kill.closing_price(inst, side)
        if price is None:
            engine.log.warning("session close: %s has no reference price; retrying later", inst.id)
            return
        cid = host.orders.next_id(RISK_STRATEGY_ID)
        self._own.add(cid)
        host.submit(
            SubmitOrder(
                client_order_id=cid,
                strategy_id=RISK_STRATEGY_ID,
                instrument_id=inst.id,
                side=side,
                order_type=OrderType.LIMIT,
                quantity=abs(pos.quantity),
                price=price,
                time_in_force=TimeInForce.GTC,
                reduce_only=True,
                ts_init=host.clock.now_ns(),
                actor=_ACTOR,
            ),
            None,
        )
