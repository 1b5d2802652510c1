"""Daily controls (C5): the loss tripwire in currency and in R, and the trade count, per trading day.

The day's PnL is the change since the day began in Σ (realised - fees + unrealised at the mark) over
every position; a position whose instrument has no mark counts with its realised part only. A "trade"
is an order that filled (partly or fully) — counted once, on its first fill of the day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tradewright.config.run import RiskConfig
from tradewright.core.ids import ClientOrderId
from tradewright.risk.day import TradingDay

__all__ = ["DAILY_LOSS", "MAX_TRADES", "DailyControls", "DailyTrip"]

DAILY_LOSS = "daily_loss"
MAX_TRADES = "max_trades_per_day"
_ZERO = Decimal(0)


@dataclass(slots=True, frozen=True)
class DailyTrip:
    breaker: str
    reason: str


class DailyControls:
    """Counts the day's trades and measures its loss; `roll` starts a new day."""

    def __init__(self, config: RiskConfig, total_pnl: Callable[[], Decimal]) -> None:
        self.cfg = config
        self.day = (
            TradingDay.in_zone(config.trading_day_start, config.trading_day_tz)
            if config.trading_day_tz
            else TradingDay(config.trading_day_offset_ns)
        )
        self._total_pnl = total_pnl
        self.index: int | None = None
        self.baseline = _ZERO
        self.trades = 0
        self._filled: set[ClientOrderId] = set()
        self.watch_loss = config.daily_loss_limit_quote is not None or config.daily_loss_limit_r is not None

    def roll(self, now_ns: int) -> bool:
        """Start a new trading day if `now_ns` is in one; return True when a day (other than the first) began."""
        index = self.day.index(now_ns)
        if index == self.index:
            return False
        first = self.index is None
        self.index = index
        self.trades = 0
        self._filled.clear()
        self.baseline = self._total_pnl() if self.watch_loss else _ZERO
        return not first

    def on_fill(self, cid: ClientOrderId, *, opens: bool = True) -> DailyTrip | None:
        """Count a trade on its first fill; trip when the day's count reaches the limit.

        `opens`: the fill opened or increased a position. With `max_trades_count = "entries"` only such
        fills count (a round trip is one trade); with "orders" every filled order does.
        """
        if cid in self._filled or (self.cfg.max_trades_count == "entries" and not opens):
            return None
        self._filled.add(cid)
        self.trades += 1
        limit = self.cfg.max_trades_per_day
        if limit is not None and self.trades >= limit:
            what = "entries" if self.cfg.max_trades_count == "entries" else "trades"
            return DailyTrip(MAX_TRADES, f"{self.trades} {what} today; max_trades_per_day is {limit}")
        return None

    def loss(self) -> Decimal:
        """Today's loss so far (positive = money lost)."""
        return self.baseline - self._total_pnl()

    def check_loss(self) -> DailyTrip | None:
        if not self.watch_loss:
            return None
        cfg = self.cfg
        loss = self.loss()
        if cfg.daily_loss_limit_quote is not None and loss >= cfg.daily_loss_limit_quote:
            return DailyTrip(
                DAILY_LOSS, f"today's loss {loss} reached daily_loss_limit_quote {cfg.daily_loss_limit_quote}"
            )
        if cfg.daily_loss_limit_r is not None and cfg.r_unit_quote is not None:
            in_r = loss / cfg.r_unit_quote
            if in_r >= cfg.daily_loss_limit_r:
                return DailyTrip(
                    DAILY_LOSS,
                    f"today's loss {loss} is {in_r.quantize(Decimal('0.01'))}R (1R = {cfg.r_unit_quote}); "
                    f"daily_loss_limit_r is {cfg.daily_loss_limit_r}",
                )
        return None
