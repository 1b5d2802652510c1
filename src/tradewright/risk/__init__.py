"""Risk: pre-trade checks, portfolio caps, rate limits, circuit breakers, daily controls, trading states
(ACTIVE / REDUCING / HALTED) and the kill switch. `RiskEngine` is the kernel's `RiskGate`; docs/risk.md
lists every limit."""

from tradewright.risk.checks import Denial, Proposal
from tradewright.risk.engine import OPERATOR, RiskEngine
from tradewright.risk.host import TradingHost
from tradewright.risk.kill_switch import KILL_SWITCH, RISK_STRATEGY_ID
from tradewright.risk.state import NODE, Scope, TradingStates, instrument_scope, venue_scope

__all__ = [
    "KILL_SWITCH",
    "NODE",
    "OPERATOR",
    "RISK_STRATEGY_ID",
    "Denial",
    "Proposal",
    "RiskEngine",
    "Scope",
    "TradingHost",
    "TradingStates",
    "instrument_scope",
    "venue_scope",
]
