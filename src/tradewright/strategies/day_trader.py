"""The futures day-trading stack on one instrument: VWAP pullback, opening-range retest and mean
reversion, with the regime detector choosing which may trade.

Every bar feeds all three setups (so each is warm when its regime comes) and the shared ATR and regime
detector. When flat, inside the trading session (`trade_session`) and not within
`no_entry_before_close_minutes` of its close, the setups the current regime allows (`regimes`, in the
order listed) are asked in turn; the first that fires enters, sized in R by the bracket (1 R =
`risk_per_trade` over a stop `stop_atr` ATRs away), with its stop and target. The stop and target cover
each part of the entry as it fills (`protect_partial_fills`, on by default here).

Exits: the bracket's stop or target; the setup's own exit (mean reversion at the middle band, the
opening-range trade at its session's end); and everything `exit_before_close_minutes` before the
trading session closes. The daily loss tripwire in R, the trade count, the spread and slippage guards
and the flatten before the close are the risk engine's (`[risk]`, docs/risk.md): this strategy trades,
the risk engine decides what may go out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from tradewright.core.ids import InstrumentId
from tradewright.model.bar_view import BarView
from tradewright.model.enums import OrderSide
from tradewright.strategies.bracket import BracketConfig, BracketStrategy
from tradewright.strategies.mean_reversion import MeanReversionParams, MeanReversionSignal
from tradewright.strategies.orb import SESSION_CLOSE, OrbRetestParams, OrbRetestSignal
from tradewright.strategies.session import SessionTracker
from tradewright.strategies.vwap_pullback import VwapPullbackParams, VwapPullbackSignal

__all__ = ["DayTrader", "DayTraderConfig", "RegimeChoice"]

Setup = Literal["vwap_pullback", "orb_retest", "mean_reversion"]
_MINUTE_NS = 60_000_000_000


class RegimeChoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which setups may enter in each regime, in the order they are asked."""

    trend: list[Setup] = msgspec.field(default_factory=lambda: ["vwap_pullback", "orb_retest"])
    range: list[Setup] = msgspec.field(default_factory=lambda: ["mean_reversion"])
    neutral: list[Setup] = msgspec.field(default_factory=list)


class DayTraderConfig(BracketConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The bracket (sizing in R, stop, target), the trading window and the three setups' parameters."""

    protect_partial_fills: bool = True
    trade_session: str = "rth"
    no_entry_before_close_minutes: Annotated[int, msgspec.Meta(ge=0)] = 30
    exit_before_close_minutes: Annotated[int, msgspec.Meta(ge=0)] = 15
    regimes: RegimeChoice = msgspec.field(default_factory=RegimeChoice)
    vwap_pullback: VwapPullbackParams = msgspec.field(default_factory=lambda: VwapPullbackParams(session="globex"))
    orb_retest: OrbRetestParams = msgspec.field(default_factory=OrbRetestParams)
    mean_reversion: MeanReversionParams = msgspec.field(default_factory=MeanReversionParams)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.use_regime:
            raise ValueError("`use_regime` must be true: the regime detector chooses which setup may trade")
        if self.no_entry_before_close_minutes < self.exit_before_close_minutes:
            raise ValueError(
                "`no_entry_before_close_minutes` must be at least `exit_before_close_minutes` "
                "(an entry must not come after the exit time)"
            )


class DayTrader(BracketStrategy):
    Config = DayTraderConfig

    def __init__(self, strategy_id: str, instruments: list[InstrumentId], config: DayTraderConfig) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.vwap: VwapPullbackSignal | None = None
        self.orb: OrbRetestSignal | None = None
        self.mean_reversion = MeanReversionSignal(config.mean_reversion)
        self.window: SessionTracker | None = None
        self.source = ""  # the setup of the position held (its own exit applies)

    def on_start(self, **kw: Any) -> None:
        inst = self.ctx.instrument(self.iid)
        if inst.session(self.cfg.trade_session) is None:
            raise ValueError(
                f"`trade_session`: {inst.id} has no session {self.cfg.trade_session!r} "
                f"(it has {', '.join(s.name for s in inst.sessions) or 'none'})"
            )
        self.vwap = VwapPullbackSignal(self.cfg.vwap_pullback, inst)
        self.orb = OrbRetestSignal(self.cfg.orb_retest, inst)
        self.window = SessionTracker(inst, self.cfg.trade_session)

    def on_bar(self, bar: BarView, **kw: Any) -> None:
        vwap, orb, window = self.vwap, self.orb, self.window
        assert vwap is not None and orb is not None and window is not None
        self.update_common(bar)
        vwap.update(bar)
        self.mean_reversion.update(bar)
        position = self.position
        busy = self.busy
        orb_decision = orb.on_bar(bar, position_open=position != 0, busy=busy)
        ts = bar.ts_open_ns
        window.update(ts)
        in_window = window.in_session(ts)
        to_close = window.end_ns - bar.ts_event
        if position != 0:
            if not busy:
                closing = in_window and to_close <= self.cfg.exit_before_close_minutes * _MINUTE_NS
                self._manage(bar, position, closing, orb_decision)
            return
        if busy or not self.atr.ready:
            return
        if not in_window or to_close <= self.cfg.no_entry_before_close_minutes * _MINUTE_NS:
            return
        for setup in getattr(self.cfg.regimes, self.regime.value):
            decision = self._ask(setup, bar, orb_decision)
            if decision is None:
                continue
            if self.enter(decision[0], bar, decision[1]) is not None:
                self.source = setup
                if setup == "orb_retest":
                    orb.entered()
            return

    def _ask(self, setup: str, bar: BarView, orb_decision: object) -> tuple[OrderSide, str] | None:
        if setup == "vwap_pullback":
            assert self.vwap is not None
            return self.vwap.entry(bar, self.atr.value)
        if setup == "orb_retest":
            return orb_decision if isinstance(orb_decision, tuple) else None
        return self.mean_reversion.entry(bar)

    def _manage(self, bar: BarView, position: Any, closing_time: bool, orb_decision: object) -> None:
        """Exits other than the bracket's: the trading session's end, then the setup's own."""
        if closing_time:
            self.exit("session_close")
        elif self.source == "orb_retest" and orb_decision == SESSION_CLOSE:
            self.exit(SESSION_CLOSE)
        elif self.source == "mean_reversion":
            reason = self.mean_reversion.exit(bar, position)
            if reason is not None:
                self.exit(reason)

    def snapshot_state(self) -> dict[str, Any]:
        return {**super().snapshot_state(), "source": self.source}

    def restore_state(self, state: dict[str, Any]) -> None:
        super().restore_state(state)
        self.source = str(state.get("source", ""))
