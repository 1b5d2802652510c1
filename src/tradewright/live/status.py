"""What a running node (paper or live) reports about itself: a status snapshot and fill notices.

The node builds a `NodeStatus` every `interval_s` and hands it, and a `FillNotice` per fill, to the
`StatusSink` it was given; the command line draws them (a live line on a terminal, a log line every
few seconds in a pipe). Nothing here prints: the node stays free of any terminal concern.
"""

from __future__ import annotations

import inspect
import logging
import os
import time
import traceback
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from tradewright.core.clock import ns_to_iso
from tradewright.core.ids import InstrumentId
from tradewright.engine.kernel import Kernel
from tradewright.model.events import OrderFilled
from tradewright.strategy.base import Strategy

__all__ = ["FillNotice", "NodeStatus", "StatusSink", "StatusTracker", "StrategyFailures"]


@dataclass(frozen=True, slots=True)
class FillNotice:
    ts_ns: int
    side: str
    quantity: Decimal
    price: Decimal
    liquidity: str
    fee: Decimal
    position_after: Decimal

    def text(self) -> str:
        return (
            f"fill {ns_to_iso(self.ts_ns)[11:23]} {self.side} {self.quantity} @ {self.price} "
            f"({self.liquidity.lower()}, fee {self.fee}) → position {self.position_after}"
        )


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """A node at one moment. `data_time_ns` is the market's time (replay time on paper)."""

    mode: str
    instrument: str
    data_time_ns: int
    wall_s: float
    events: int
    events_per_s: float
    position: Decimal
    pnl: Decimal | None  # equity change since the start, marked at the mid (None without a mid)
    currency: str
    open_orders: int
    trading_state: str
    fills: int
    last_fill: FillNotice | None

    def text(self) -> str:
        """One compact line: `paper BTCUSDT-PERP.BINANCE 23:55:01 · 12.0 s · 41,210 ev/s · pos 0.004 · …`."""
        pnl = "–" if self.pnl is None else f"{self.pnl:+.2f} {self.currency}".replace("-", "−")
        last = (
            "–"
            if self.last_fill is None
            else f"{self.last_fill.side} {self.last_fill.quantity} @ {self.last_fill.price}"
        )
        return (
            f"{self.mode} {self.instrument} data {ns_to_iso(self.data_time_ns)[11:19]} · wall {self.wall_s:.0f} s · "
            f"{self.events:,} events ({self.events_per_s:,.0f}/s) · position {self.position} · PnL {pnl} · "
            f"{self.open_orders} open orders · {self.trading_state} · {self.fills} fills, last {last}"
        )


class StatusSink(Protocol):
    def status(self, status: NodeStatus) -> None: ...

    def fill(self, notice: FillNotice) -> None: ...


class StatusTracker:
    """An `EventSink` that counts fills and keeps the last one; `snapshot()` builds a `NodeStatus`."""

    def __init__(
        self,
        kernel: Kernel,
        instrument_id: InstrumentId,
        mode: str,
        sink: StatusSink | None,
        *,
        start_equity: Decimal | None = None,
    ) -> None:
        self.kernel = kernel
        self.instrument_id = instrument_id
        self.mode = mode
        self.sink = sink
        self.fills = 0
        self.events = 0  # for runners that count their own progress (paper on bars)
        self.last_fill: FillNotice | None = None
        self.started = time.monotonic()
        self._last = (self.started, 0)
        self._start_equity = start_equity

    def on_event(self, event: object) -> None:
        if type(event) is not OrderFilled:
            return
        assert isinstance(event, OrderFilled)
        inst = self.kernel.instruments[event.instrument_id]
        notice = FillNotice(
            ts_ns=event.ts_event,
            side=event.side.value,
            quantity=event.last_qty,
            price=event.last_px,
            liquidity=event.liquidity.value,
            fee=event.fee,
            position_after=self.kernel.portfolio.position(inst).quantity,
        )
        self.fills += 1
        self.last_fill = notice
        if self.sink is not None:
            self.sink.fill(notice)

    def on_command(self, command: object) -> None:
        return None

    def equity(self) -> Decimal | None:
        kernel = self.kernel
        inst = kernel.instruments[self.instrument_id]
        mark = kernel.mark(self.instrument_id)
        if mark is None:
            return None
        return kernel.portfolio.balance(inst.settle) + kernel.portfolio.position_value(inst, mark)

    def snapshot(self, events: int) -> NodeStatus:
        kernel = self.kernel
        inst = kernel.instruments[self.instrument_id]
        now = time.monotonic()
        then, before = self._last
        rate = (events - before) / (now - then) if now > then else 0.0
        self._last = (now, events)
        equity = self.equity()
        if self._start_equity is None and equity is not None:
            self._start_equity = equity
        risk = kernel.risk
        state = getattr(risk, "state_for", None)
        trading = str(state(self.instrument_id).value) if callable(state) else "ACTIVE"
        return NodeStatus(
            mode=self.mode,
            instrument=str(self.instrument_id),
            data_time_ns=kernel.clock.now_ns(),
            wall_s=now - self.started,
            events=events,
            events_per_s=rate,
            position=kernel.portfolio.position(inst).quantity,
            pnl=None if equity is None or self._start_equity is None else equity - self._start_equity,
            currency=inst.settle,
            open_orders=len(kernel.orders.open_orders()),
            trading_state=trading,
            fills=self.fills,
            last_fill=self.last_fill,
        )

    def report(self, events: int) -> None:
        if self.sink is not None:
            self.sink.status(self.snapshot(events))


class StrategyFailures(logging.Handler):
    """Collect why each strategy a fenced kernel stopped: the kernel logs "strategy %s raised in %s"
    with the exception; this keeps `{strategy id: "raised … in on_book at file.py:42"}`.

    Attach it to the logger given to the kernel (`Kernel(log=...)`); records still reach the
    logger's other handlers. It also takes the kernel's `on_strategy_failed` call when no one else
    has: once a node registers its credentials for redaction, log records are formatted (and their
    exception detached) as they are made, so the log record alone no longer says which strategy raised.
    """

    def __init__(self, kernel: Kernel) -> None:
        super().__init__(level=logging.ERROR)
        self.kernel = kernel
        self.reasons: dict[str, str] = {}
        if kernel.on_strategy_failed is None:
            kernel.on_strategy_failed = self._failed

    def _failed(self, strategy: Strategy, hook: str, exc: Exception) -> None:
        where = _location_in(exc, type(strategy))
        text = f"raised {exc!r} in {hook}" + (f" at {where}" if where else "") + "; it was stopped"
        self.reasons.setdefault(strategy.id, text)

    def emit(self, record: logging.LogRecord) -> None:
        if not str(record.msg).startswith("strategy %s raised in %s") or len(record.args or ()) < 2:
            return
        sid, hook = (str(a) for a in tuple(record.args or ())[:2])
        exc = record.exc_info[1] if record.exc_info else None
        where = ""
        strategy = next((s for s in self.kernel.strategies if s.id == sid), None)
        if exc is not None and strategy is not None:
            where = _location_in(exc, type(strategy))
        text = f"raised {exc!r} in {hook}" if exc is not None else f"raised in {hook}"
        self.reasons.setdefault(sid, text + (f" at {where}" if where else "") + "; it was stopped")


def _location_in(exc: BaseException, cls: type) -> str:
    """`file.py:42 in on_book`: the deepest frame of the error inside the strategy class's source file."""
    try:
        source = inspect.getsourcefile(cls)
    except TypeError:
        source = None
    if source is None:
        return ""
    found = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.realpath(frame.filename) == os.path.realpath(source):
            found = f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"
    return found
