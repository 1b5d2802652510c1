"""Binance's request-weight and order-count limits, with its headers and its 429 → 418 escalation.

Weight is counted per fixed wall-clock minute (``X-MBX-USED-WEIGHT-1M``). A request that would pass the
limit gets HTTP 429 ``-1003`` with ``Retry-After``; a client that keeps sending while limited more than
``ban_after`` times is banned: HTTP 418 until the ban ends. New orders are also counted per 10 s and per
day (spot) or per minute (USD-M): ``X-MBX-ORDER-COUNT-10S`` and ``-1D``/``-1M``, ``-1015`` past the limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from tradewright.emulator.errors import VenueErrors

__all__ = ["RateLimitConfig", "RateLimiter"]


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    weight_per_minute: int
    orders_per_10s: int
    orders_long: int  # per day (spot) or per minute (USD-M)
    long_window_s: int  # 86400 or 60
    ban_after: int = 10
    ban_s: int = 120


@dataclass(slots=True)
class _Window:
    size_s: int
    start_s: int = -1
    count: int = 0

    def roll(self, now_s: float) -> None:
        start = int(now_s // self.size_s) * self.size_s
        if start != self.start_s:
            self.start_s = start
            self.count = 0

    def seconds_left(self, now_s: float) -> int:
        return max(1, math.ceil(self.start_s + self.size_s - now_s))


class RateLimiter:
    """Count weight and orders for the whole emulator (every client comes from 127.0.0.1)."""

    def __init__(self, config: RateLimitConfig, errors: VenueErrors, wall_s: Callable[[], float]) -> None:
        self.config = config
        self._errors = errors
        self._wall_s = wall_s
        self._weight = _Window(60)
        self._orders_10s = _Window(10)
        self._orders_long = _Window(config.long_window_s)
        self._limited_hits = 0
        self._limited_window = -1
        self._banned_until_s = 0.0
        self._long_label = "1D" if config.long_window_s == 86400 else "1M"

    @property
    def used_weight(self) -> int:
        self._weight.roll(self._wall_s())
        return self._weight.count

    def charge(self, weight: int) -> dict[str, str]:
        """Add a request's weight; return the headers, or raise 429/418 as Binance would."""
        now = self._wall_s()
        if now < self._banned_until_s:
            left = math.ceil(self._banned_until_s - now)
            raise self._errors.ip_banned(int(self._banned_until_s * 1000), left)
        self._weight.roll(now)
        if self._weight.count + weight > self.config.weight_per_minute:
            if self._weight.start_s != self._limited_window:
                self._limited_window = self._weight.start_s
                self._limited_hits = 0
            self._limited_hits += 1
            if self._limited_hits > self.config.ban_after:
                self._banned_until_s = now + self.config.ban_s
                raise self._errors.ip_banned(int(self._banned_until_s * 1000), self.config.ban_s)
            raise self._errors.weight_exceeded(self.config.weight_per_minute, self._weight.seconds_left(now))
        self._weight.count += weight
        return self.headers()

    def headers(self) -> dict[str, str]:
        return {"X-MBX-USED-WEIGHT-1M": str(self.used_weight)}

    def charge_order(self) -> dict[str, str]:
        """Count a new order; raise -1015 past either order limit."""
        now = self._wall_s()
        self._orders_10s.roll(now)
        self._orders_long.roll(now)
        if self._orders_10s.count + 1 > self.config.orders_per_10s:
            raise self._errors.too_many_orders(self.config.orders_per_10s, "10 SECOND")
        if self._orders_long.count + 1 > self.config.orders_long:
            label = "DAY" if self._long_label == "1D" else "MINUTE"
            raise self._errors.too_many_orders(self.config.orders_long, label)
        self._orders_10s.count += 1
        self._orders_long.count += 1
        return self.order_headers()

    def order_headers(self) -> dict[str, str]:
        now = self._wall_s()
        self._orders_10s.roll(now)
        self._orders_long.roll(now)
        return {
            "X-MBX-ORDER-COUNT-10S": str(self._orders_10s.count),
            f"X-MBX-ORDER-COUNT-{self._long_label}": str(self._orders_long.count),
        }

    def ws_rate_limits(self) -> list[dict[str, object]]:
        """The ``rateLimits`` array of a WebSocket API response."""
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.config.weight_per_minute,
                "count": self.used_weight,
            }
        ]
