"""Avellaneda–Stoikov market maker (B1): quote around a reservation price skewed by inventory.

The model (Avellaneda & Stoikov 2008; Guéant, Lehalle & Fernandez-Tapia 2013 for the infinite
horizon). With mid s, inventory q (in quote clips of `order_size`, long > 0), risk aversion γ (per unit
of price), volatility σ (price units per √second), and market orders reaching a quote δ away at the
rate A·exp(-κδ) (A per second, κ per unit of price):

- finite horizon, τ = seconds left in the current `horizon_s` window:
  reservation r = s - q·γ·σ²·τ, total spread γ·σ²·τ + (2/γ)·ln(1 + γ/κ), quotes r ∓ spread / 2;
- infinite horizon (the stationary closed form): with ω = sqrt(σ²γ / (2κA) · (1 + γ/κ)^(1 + κ/γ)),
  bid = s - [(1/γ)·ln(1 + γ/κ) + (2q + 1)/2·ω], ask = s + [(1/γ)·ln(1 + γ/κ) - (2q - 1)/2·ω].

Either way a long inventory lowers both quotes (sell more, buy less), a short one raises them, and a
higher σ widens the spread. σ comes from the realised-volatility indicator on the mid, sampled every
`vol_sample_ms`; κ and A are estimated online from public trades (κ = 1 / mean distance of trades
from the mid, A = trades per second, both exponentially weighted) or fixed by the config. Prices are
rounded onto the grid explicitly, bids down and asks up, and never cross the book (post-only quotes);
no quote goes out on a side that would take the inventory beyond `max_inventory`.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from tradewright.config.bounds import Seconds
from tradewright.core.ids import InstrumentId
from tradewright.indicators import RealisedVolatility
from tradewright.model.book import OrderBook
from tradewright.model.data import TradeTick
from tradewright.model.enums import OrderSide
from tradewright.model.events import OrderEvent, TimerFired
from tradewright.model.instrument import Instrument, to_decimal
from tradewright.strategy.base import BookTrigger, Strategy
from tradewright.strategy.quotes import Quote, QuoteManager, QuoteManagerConfig

__all__ = ["ASInputs", "AvellanedaStoikov", "AvellanedaStoikovConfig", "IntensityEstimator", "as_quotes"]

_SECONDS_PER_YEAR = 365.25 * 86_400
_NS = 1_000_000_000


class AvellanedaStoikovConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Units: sizes in the base asset; γ per unit of price; κ per unit of price; A per second."""

    order_size: Decimal
    max_inventory: Decimal
    risk_aversion: Annotated[float, msgspec.Meta(gt=0)] = 0.1
    horizon: Literal["finite", "infinite"] = "infinite"
    horizon_s: Seconds = 60.0
    vol_window: Annotated[int, msgspec.Meta(ge=2)] = 30
    vol_sample_ms: Annotated[int, msgspec.Meta(ge=1)] = 1000
    intensity: Literal["online", "fixed"] = "online"
    kappa: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    arrival_rate: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    intensity_halflife_s: Seconds = 30.0
    min_spread_ticks: Annotated[int, msgspec.Meta(ge=1)] = 1
    quotes: QuoteManagerConfig = msgspec.field(default_factory=QuoteManagerConfig)

    def __post_init__(self) -> None:
        for name in ("order_size", "max_inventory"):
            value: Decimal = getattr(self, name)
            if not value.is_finite() or value <= 0:
                raise ValueError(f"`{name}` must be a number > 0, got {value}")
        if self.max_inventory < self.order_size:
            raise ValueError(
                f"`max_inventory` ({self.max_inventory}) must be >= `order_size` ({self.order_size})"
            )


class ASInputs(msgspec.Struct, frozen=True, kw_only=True):
    """What the model needs at one moment: the book's touch (ticks), inventory, σ, κ, A and τ."""

    best_bid_tick: int
    best_ask_tick: int
    inventory: Decimal  # base units, long > 0
    sigma: float  # price units per sqrt(second)
    kappa: float  # per unit of price
    arrival_rate: float  # per second
    tau_s: float | None  # seconds left (finite horizon) or None (infinite horizon)


def as_quotes(x: ASInputs, cfg: AvellanedaStoikovConfig, inst: Instrument) -> list[Quote]:
    """The A–S bid and ask for `x` (pure: no state), on the grid and never crossing the book."""
    tick = float(inst.tick_size)
    mid = (x.best_bid_tick + x.best_ask_tick) / 2 * tick
    q = float(x.inventory / cfg.order_size)  # in clips
    gamma, kappa, var = cfg.risk_aversion, x.kappa, x.sigma * x.sigma
    base = math.log1p(gamma / kappa) / gamma
    if x.tau_s is None:
        omega = math.sqrt(
            var * gamma / (2 * kappa * x.arrival_rate) * (1 + gamma / kappa) ** (1 + kappa / gamma)
        )
        bid = mid - (base + (2 * q + 1) / 2 * omega)
        ask = mid + (base - (2 * q - 1) / 2 * omega)
    else:
        reservation = mid - q * gamma * var * x.tau_s
        half = gamma * var * x.tau_s / 2 + base
        bid, ask = reservation - half, reservation + half
    bid_tick = inst.price_to_ticks(inst.round_price_down(to_decimal(bid)))
    ask_tick = inst.price_to_ticks(inst.round_price_up(to_decimal(ask)))
    # Post-only quotes must not cross the book; keep at least the minimum spread between them.
    bid_tick = min(bid_tick, x.best_ask_tick - 1)
    ask_tick = max(ask_tick, x.best_bid_tick + 1)
    if ask_tick - bid_tick < cfg.min_spread_ticks:
        widen = cfg.min_spread_ticks - (ask_tick - bid_tick)
        bid_tick -= widen // 2 + widen % 2
        ask_tick += widen // 2
    quotes = []
    if x.inventory + cfg.order_size <= cfg.max_inventory:
        quotes.append(Quote(side=OrderSide.BUY, price=inst.ticks_to_price(bid_tick), size=cfg.order_size))
    if x.inventory - cfg.order_size >= -cfg.max_inventory:
        quotes.append(Quote(side=OrderSide.SELL, price=inst.ticks_to_price(ask_tick), size=cfg.order_size))
    return quotes


class IntensityEstimator:
    """Online κ and A from public trades: κ = 1 / EW-mean |trade price - mid|, A = EW trades per second.

    Distances below half a tick count as half a tick (a trade at the touch is half a spread away).
    """

    __slots__ = ("_decay_per_s", "_distance", "_last_ns", "_rate", "_weight", "floor")

    def __init__(self, halflife_s: float, floor: float) -> None:
        self._decay_per_s = math.log(2) / halflife_s
        self.floor = floor
        self._distance = 0.0
        self._weight = 0.0
        self._rate = 0.0
        self._last_ns: int | None = None

    def update(self, ts_ns: int, distance: float) -> None:
        """A trade at `distance` (price units) from the mid, at `ts_ns`."""
        if self._last_ns is not None:
            keep = math.exp(-self._decay_per_s * max(0, ts_ns - self._last_ns) / _NS)
            self._distance *= keep
            self._weight *= keep
            self._rate *= keep
        self._last_ns = ts_ns
        self._distance += max(distance, self.floor)
        self._weight += 1.0
        self._rate += self._decay_per_s  # each trade adds its share of an EW count per second

    @property
    def ready(self) -> bool:
        return self._weight >= 5.0

    @property
    def kappa(self) -> float:
        return self._weight / self._distance

    def arrival_rate(self, now_ns: int) -> float:
        if self._last_ns is None:
            return 0.0
        return self._rate * math.exp(-self._decay_per_s * max(0, now_ns - self._last_ns) / _NS)


class AvellanedaStoikov(Strategy):
    Config = AvellanedaStoikovConfig
    book_trigger = BookTrigger.TOP_PRICE

    def __init__(
        self, strategy_id: str, instruments: list[InstrumentId], config: AvellanedaStoikovConfig
    ) -> None:
        super().__init__(strategy_id, instruments, config)
        self.cfg = config
        self.iid = instruments[0]
        periods = _SECONDS_PER_YEAR * 1000 / config.vol_sample_ms
        self.vol = RealisedVolatility(config.vol_window, periods_per_year=periods)
        self.intensity = IntensityEstimator(config.intensity_halflife_s, floor=0.0)
        self._quotes: QuoteManager | None = None
        self._started_ns = 0

    def on_start(self, **kw: Any) -> None:
        inst = self.ctx.instrument(self.iid)
        inst.size_to_lots(self.cfg.order_size)  # refuse a size off the lot grid up front
        self.intensity.floor = float(inst.tick_size) / 2
        self._quotes = QuoteManager(self.ctx, self.iid, self.cfg.quotes)
        self._started_ns = self.ctx.now_ns()
        self.ctx.set_timer("vol", self.cfg.vol_sample_ms * 1_000_000)

    @property
    def quotes(self) -> QuoteManager:
        assert self._quotes is not None, "on_start has not run"
        return self._quotes

    def on_timer(self, event: TimerFired, **kw: Any) -> None:
        mid = self.ctx.book(self.iid).mid
        if mid is not None:
            self.vol.update(float(mid))

    def on_trade(self, trade: TradeTick, **kw: Any) -> None:
        mid = self.ctx.book(self.iid).mid
        if mid is not None:
            self.intensity.update(trade.ts_event, float(abs(trade.price - mid)))

    def on_book(self, book: OrderBook, **kw: Any) -> None:
        inputs = self.inputs(book)
        if inputs is not None:
            self.quotes.apply(as_quotes(inputs, self.cfg, book.instrument))

    def on_order(self, event: OrderEvent, **kw: Any) -> None:
        order = self.ctx.order(event.client_order_id)
        if order is not None and order.is_closed:
            self.on_book(self.ctx.book(self.iid))  # a quote ended: requote now

    def on_stop(self, **kw: Any) -> None:
        if self._quotes is not None:
            self._quotes.cancel_all()

    def sigma(self, mid: float) -> float:
        """σ in price units per sqrt(second), from the annualised realised volatility of the mid."""
        return mid * self.vol.value / math.sqrt(_SECONDS_PER_YEAR)

    def inputs(self, book: OrderBook) -> ASInputs | None:
        """The model's inputs now, or None while the book is one-sided or the estimators are warming up."""
        bb, ba = book.best_bid_tick, book.best_ask_tick
        if bb is None or ba is None or not self.vol.ready:
            return None
        cfg = self.cfg
        now = self.ctx.now_ns()
        if cfg.intensity == "online":
            if not self.intensity.ready:
                return None
            kappa, rate = self.intensity.kappa, self.intensity.arrival_rate(now)
            if rate <= 0:
                return None
        else:
            kappa, rate = cfg.kappa, cfg.arrival_rate
        tau: float | None = None
        if cfg.horizon == "finite":
            horizon_ns = int(cfg.horizon_s * _NS)
            tau = (horizon_ns - (now - self._started_ns) % horizon_ns) / _NS
        mid = (bb + ba) / 2 * float(book.instrument.tick_size)
        return ASInputs(
            best_bid_tick=bb,
            best_ask_tick=ba,
            inventory=self.ctx.position(self.iid).quantity,
            sigma=self.sigma(mid),
            kappa=kappa,
            arrival_rate=rate,
            tau_s=tau,
        )
