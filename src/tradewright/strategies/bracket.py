"""What every built-in bar strategy shares: sizing in R, a protective stop and a target, trade tags.

A subclass decides *when* (its `on_bar` calls `enter` and `exit`); this class does the rest:

- `enter(side, reason)` sends a market order (it fills at the next bar's open) sized by `sizing`:
  ``"atr"`` risks `risk_per_trade` (1 R) over a stop `stop_atr` ATRs away (`sizing.atr_position_size`),
  ``"fixed"`` trades `size`, ``"all_in"`` spends the cash balance;
- when the entry fills, a reduce-only STOP_MARKET at the stop and a LIMIT at the target (`target_r`
  times the stop distance beyond the fill) go out; when one fills the strategy cancels the other;
- `exit(reason)` cancels the bracket and, once the cancels are confirmed, closes the position with a
  reduce-only market order. An entry against an open position closes it in the same order.
- with `protect_partial_fills`, the stop and target go out at the entry's first (partial) fill, for
  the size filled so far, and grow with each further fill (priced from the first fill); without it
  they wait for the whole entry.
- with `bracket_orders = "engine"` the entry, the stop and the target go out at once as one bracket
  (`ctx.submit_bracket`), priced from the signal bar's close: the venue holds the children where it can
  (IB parent/child orders, Alpaca `order_class = "bracket"`), the engine everywhere else — in
  backtest and paper too — releasing them for what the entry fills and cancelling one when the other
  fills (`tradewright.engine.contingent`). The strategy code is then the same in every mode. An entry
  against an open opposite position first closes it (no entry on that bar).

Every order is tagged with the regime (when a detector is on), the reason, and for entries the money at
risk, so the run's events and fills say why each trade happened.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from tradewright.core.ids import ClientOrderId, InstrumentId
from tradewright.indicators import ATR
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide, OrderStatus, OrderType
from tradewright.model.events import OrderAccepted, OrderEvent, OrderFilled, OrderModifyRejected, OrderUpdated
from tradewright.model.instrument import Instrument
from tradewright.strategies.regime import Regime, RegimeConfig, RegimeDetector
from tradewright.strategies.sizing import atr_position_size, stop_distance_ticks
from tradewright.strategy.base import Strategy
from tradewright.strategy.tags import trade_tag

__all__ = ["BracketConfig", "BracketStrategy"]

_ZERO = Decimal(0)


class BracketConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Sizing, stop and target of a bar strategy. Money in the settlement currency; distances in ATRs."""

    sizing: Literal["atr", "fixed", "all_in"] = "atr"
    risk_per_trade: Decimal = Decimal(100)  # 1 R, settlement currency (sizing = "atr")
    size: Decimal = Decimal(1)  # base units or contracts (sizing = "fixed")
    atr_period: Annotated[int, msgspec.Meta(ge=1)] = 14
    stop_atr: Annotated[float, msgspec.Meta(ge=0)] = 2.0  # 0: no stop (not with sizing = "atr")
    target_r: Annotated[float, msgspec.Meta(ge=0)] = 2.0  # target at this many stop distances; 0: none
    use_regime: bool = True
    regime: RegimeConfig = msgspec.field(default_factory=RegimeConfig)
    protect_partial_fills: bool = False  # bracket the filled part of an entry at once (see the module doc)
    bracket_orders: Literal["strategy", "engine"] = "strategy"  # who holds the stop and the target

    def __post_init__(self) -> None:
        for name in ("risk_per_trade", "size"):
            value: Decimal = getattr(self, name)
            if not value.is_finite() or value <= 0:
                raise ValueError(f"`{name}` must be a number > 0, got {value}")
        if self.sizing == "atr" and self.stop_atr == 0:
            raise ValueError("`stop_atr` must be > 0 with sizing = 'atr' (the stop defines the risk)")
        if self.target_r > 0 and self.stop_atr == 0:
            raise ValueError("`target_r` needs a stop (`stop_atr` > 0): the target is a multiple of it")
        if self.bracket_orders == "engine" and self.stop_atr == 0:
            raise ValueError("`bracket_orders = 'engine'` needs a stop (`stop_atr` > 0)")


class BracketStrategy(Strategy):
    """Base for bar strategies with a stop and a target (see the module docstring)."""

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: BracketConfig) -> None:
        super().__init__(strategy_id, instruments, config)
        self.bracket: BracketConfig = config
        self.iid = instruments[0]
        self.atr = ATR(config.atr_period)
        self.detector = RegimeDetector(config.regime) if config.use_regime else None
        self.regime = Regime.NEUTRAL
        self._entry: ClientOrderId | None = None
        self._entry_stop_ticks = 0
        self._regime_at_entry = ""
        self._stop: ClientOrderId | None = None
        self._target: ClientOrderId | None = None
        self._exit: ClientOrderId | None = None
        self._exit_reason: str | None = None
        self._closing: list[ClientOrderId] = []  # bracket legs whose cancel is on its way
        self._protected = Decimal(0)  # the size the bracket legs are meant to cover (partial protection)
        self.trades = 0
        self._inst: Instrument | None = None

    @property
    def inst(self) -> Instrument:
        inst = self._inst
        if inst is None:
            inst = self._inst = self.ctx.instrument(self.iid)
        return inst

    def update_common(self, bar: BarView) -> None:
        """Feed the ATR and the regime detector (call once per bar, before deciding)."""
        high, low, close = bar.high, bar.low, bar.close
        self.atr.update(high, low, close)
        if self.detector is not None:
            self.regime = self.detector.update(high, low, close)

    @property
    def position(self) -> Decimal:
        return self.ctx.position(self.iid).quantity

    @property
    def busy(self) -> bool:
        """An entry or an exit is on its way: decide nothing new until it is done."""
        return self._entry is not None or self._exit is not None or self._exit_reason is not None

    # --- decisions ------------------------------------------------------------------------------
    def enter(self, side: OrderSide, bar: BarView, reason: str) -> ClientOrderId | None:
        """Open a position at the next open (closing an opposite one in the same order); return the
        order id, or None when the size rounds to 0 or the ATR is not ready."""
        cfg = self.bracket
        inst = self.inst
        stop_ticks = 0
        if cfg.stop_atr > 0:
            if not self.atr.ready:
                return None
            stop_ticks = stop_distance_ticks(self.atr.value, cfg.stop_atr, inst)
        if cfg.sizing == "atr":
            size = atr_position_size(cfg.risk_per_trade, stop_ticks, inst)
        elif cfg.sizing == "fixed":
            size = inst.round_size_down(cfg.size)
        else:
            size = inst.round_size_down(self.ctx.balance(inst.settle) / (bar.close_px * inst.multiplier))
        if size <= 0 or size < inst.min_size:
            self.ctx.log.info("no entry (%s): size rounds to %s", reason, size)
            return None
        position = self.position
        opposite = abs(position) if position * side.sign < 0 else _ZERO
        if opposite and cfg.bracket_orders == "engine":
            self.exit(f"{reason}: close before the opposite entry")
            return None
        if opposite:
            self._cancel_bracket()
        risk = inst.ticks_to_price(stop_ticks) * size * inst.multiplier if stop_ticks else None
        regime = self.regime.value if self.detector is not None else ""
        self._entry_stop_ticks = stop_ticks
        self._regime_at_entry = regime
        tag = trade_tag(regime=regime, reason=reason, risk=risk)
        if cfg.bracket_orders == "engine":
            return self._enter_bracket(side, size, bar, tag)
        cid = self.ctx.submit(self.iid, side, size + opposite, tag=tag)
        if self._ended_at_once(cid):
            return None  # denied before it left (risk): there is nothing to wait for
        self._entry = cid
        return cid

    def _enter_bracket(self, side: OrderSide, size: Decimal, bar: BarView, tag: str) -> ClientOrderId | None:
        """One bracket: a market entry, its stop and its target priced from this bar's close."""
        cfg = self.bracket
        inst = self.inst
        sign = side.sign
        ref_ticks = inst.price_to_ticks(bar.close_px)
        stop_ticks = ref_ticks - sign * self._entry_stop_ticks
        if stop_ticks <= 0:
            return None
        target = None
        if cfg.target_r > 0:
            reach = max(1, math.floor(self._entry_stop_ticks * cfg.target_r))
            target = inst.ticks_to_price(ref_ticks + sign * reach)
        regime = self._regime_at_entry
        cid, stop, target_id = self.ctx.submit_bracket(
            self.iid,
            side,
            size,
            stop_price=inst.ticks_to_price(stop_ticks),
            target_price=target,
            tag=tag,
            stop_tag=trade_tag(regime=regime, reason="stop"),
            target_tag=trade_tag(regime=regime, reason="target"),
        )
        if self._ended_at_once(cid):
            return None
        self._entry, self._stop, self._target = cid, stop, target_id
        return cid

    def _ended_at_once(self, cid: ClientOrderId) -> bool:
        """True when an order was refused inside `submit` (its denial reached `on_order` before the
        caller knew its id)."""
        order = self.ctx.order(cid)
        return order is not None and order.is_closed

    def exit(self, reason: str) -> None:
        """Close the whole position at the next open: cancel the bracket (and an entry on its way),
        then, once the venue has confirmed the cancels, send a reduce-only market order."""
        if self._entry is not None:
            self.ctx.cancel(self._entry)
        self._cancel_bracket()
        if self.position == 0 or self._exit is not None:
            return
        if self._closing:
            self._exit_reason = reason  # sent when the last cancel is confirmed (see on_order)
        else:
            self._send_exit(reason)

    def _send_exit(self, reason: str) -> None:
        qty = self.position
        if qty == 0:
            return
        side = OrderSide.SELL if qty > 0 else OrderSide.BUY
        regime = self.regime.value if self.detector is not None else ""
        tag = trade_tag(regime=regime, reason=reason)
        cid = self.ctx.submit(self.iid, side, abs(qty), reduce_only=True, tag=tag)
        self._exit = None if self._ended_at_once(cid) else cid

    # --- order events ---------------------------------------------------------------------------
    def on_fill(self, fill: OrderFilled, **kw: Any) -> None:
        cid = fill.client_order_id
        order = self.ctx.order(cid)
        if (
            cid == self._entry
            and self.bracket.protect_partial_fills
            and self.bracket.bracket_orders == "strategy"
        ):
            self._protect(fill)
            if order is not None and order.is_open:
                return  # more of the entry to come: the legs grow with it
            self._entry = None
            self.trades += 1
            self._after_close(cid)
            return
        if order is not None and order.is_open:
            return  # a partial fill: wait for the rest
        if cid == self._entry:
            self._entry = None
            self.trades += 1
            if self.bracket.bracket_orders == "strategy":
                self._place_bracket(fill)
        elif cid == self._exit:
            self._exit = None
        elif (cid == self._stop or cid == self._target) and self.position == 0:
            if self.bracket.bracket_orders == "engine":
                # The venue or the engine cancels the other leg (one cancels the other): nothing to send.
                self._stop = self._target = None
                self._protected = Decimal(0)
            else:
                self._cancel_bracket()  # the other leg: one cancels the other
        self._after_close(cid)

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        etype = type(event)
        if etype is OrderAccepted or etype is OrderFilled:
            return  # nothing to forget (fills are handled in on_fill)
        if etype is OrderUpdated or etype is OrderModifyRejected:
            self._resize_legs()  # a leg's earlier resize was answered: bring it to the size wanted now
            return
        cid = event.client_order_id
        order = self.ctx.order(cid)
        if order is None or not order.is_closed:
            return
        if cid == self._entry:
            self._entry = None
        elif cid == self._exit:
            self._exit = None
        elif cid == self._stop:
            self._stop = None
        elif cid == self._target:
            self._target = None
        self._after_close(cid)

    def _after_close(self, cid: ClientOrderId) -> None:
        """An order ended: once no bracket leg is still being cancelled, send a deferred exit."""
        if cid in self._closing:
            self._closing.remove(cid)
        if self._exit_reason is not None and not self._closing:
            reason, self._exit_reason = self._exit_reason, None
            self._send_exit(reason)

    def _place_bracket(self, fill: OrderFilled) -> None:
        """Protect the position just opened: a reduce-only stop, then a limit at the target.

        Only the stop is reduce-only: a risk engine counts every open reduce-only order against the
        position, so two legs of the full size could not both be. The strategy cancels the target
        when the stop fills (and the venue drops a reduce-only stop once the target has closed the
        position)."""
        cfg = self.bracket
        if self._entry_stop_ticks == 0:
            return  # no stop: no bracket (sizing "fixed" or "all_in" with stop_atr = 0)
        qty = self.position
        if qty == 0:
            return
        inst = self.inst
        side = OrderSide.SELL if qty > 0 else OrderSide.BUY
        sign = 1 if qty > 0 else -1
        entry_ticks = inst.price_to_ticks(fill.last_px)
        regime = self._regime_at_entry
        stop_ticks = entry_ticks - sign * self._entry_stop_ticks
        if stop_ticks > 0:
            # A reduce-only stop cannot grow while the target works beside it (the risk engine counts
            # every working sell against the position), so a stop that follows a partly filled entry is
            # a plain order; the strategy cancels the other leg when one fills, as it always does.
            self._stop = self.ctx.submit(
                self.iid,
                side,
                abs(qty),
                order_type=OrderType.STOP_MARKET,
                trigger_price=inst.ticks_to_price(stop_ticks),
                reduce_only=not cfg.protect_partial_fills,
                tag=trade_tag(regime=regime, reason="stop"),
            )
        if cfg.target_r > 0:
            reach = max(1, math.floor(self._entry_stop_ticks * cfg.target_r))
            self._target = self.ctx.submit(
                self.iid,
                side,
                abs(qty),
                inst.ticks_to_price(entry_ticks + sign * reach),
                tag=trade_tag(regime=regime, reason="target"),
            )

    def _protect(self, fill: OrderFilled) -> None:
        """Bracket what the entry has filled so far: place the legs at the first fill, resize after."""
        qty = abs(self.position)
        if qty == 0:
            return
        self._protected = qty
        if self._stop is None and self._target is None:
            self._place_bracket(fill)
        else:
            self._resize_legs()

    def _resize_legs(self) -> None:
        want = self._protected
        if want <= 0:
            return
        for cid in (self._stop, self._target):
            if cid is None:
                continue
            order = self.ctx.order(cid)
            if order is None or not order.is_open or order.quantity == want:
                continue
            if order.status is OrderStatus.PENDING_UPDATE or order.status is OrderStatus.PENDING_CANCEL:
                continue  # asked already: resized again when that answer comes
            self.ctx.modify(cid, quantity=want)

    def _cancel_bracket(self) -> None:
        for cid in (self._stop, self._target):
            if cid is None:
                continue
            order = self.ctx.order(cid)
            if order is not None and order.is_open:
                self.ctx.cancel(cid)
                self._closing.append(cid)
        self._stop = self._target = None
        self._protected = Decimal(0)

    # --- persistence ----------------------------------------------------------------------------
    def snapshot_state(self) -> dict[str, Any]:
        return {
            "entry": self._entry,
            "entry_stop_ticks": self._entry_stop_ticks,
            "regime_at_entry": self._regime_at_entry,
            "stop": self._stop,
            "target": self._target,
            "exit": self._exit,
            "exit_reason": self._exit_reason,
            "closing": list(self._closing),
            "protected": str(self._protected),
            "trades": self.trades,
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        self._entry = state.get("entry")
        self._entry_stop_ticks = int(state.get("entry_stop_ticks", 0))
        self._regime_at_entry = str(state.get("regime_at_entry", ""))
        self._stop = state.get("stop")
        self._target = state.get("target")
        self._exit = state.get("exit")
        self._exit_reason = state.get("exit_reason")
        self._closing = [ClientOrderId(c) for c in state.get("closing", [])]
        self._protected = Decimal(str(state.get("protected", "0")))
        self.trades = int(state.get("trades", 0))
