"""The backtest/paper run config: one TOML file, validated at load (unknown keys name themselves)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from tradewright.config.api import ApiConfig
from tradewright.config.effective import apply_overrides, effective_config_text
from tradewright.config.loader import apply_env_overrides, load_toml, to_struct
from tradewright.core.errors import ConfigError
from tradewright.model.instrument import TradingSession

__all__ = [
    "AccountConfig",
    "DataConfig",
    "InstrumentLimits",
    "RiskConfig",
    "RunConfig",
    "RunSection",
    "StrategyConfig",
    "VenueConfig",
    "load_run_config",
]

NonNeg = Annotated[int, msgspec.Meta(ge=0)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
TripAction = Literal["reducing", "halted"]


class RunSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`min_annualised_span`: runs shorter than this (e.g. "30d", "12h") report per-period ratios
    instead of annualised ones (docs/research.md).

    `store_url` (bar runs): also record every intent, order event, fill and risk decision in this
    state store, committed before it takes effect, as a live node does (``sqlite:///day.sqlite``)."""

    name: str = "run"
    output_dir: str = "runs/{name}"
    seed: int = 0
    equity_sample_ms: Annotated[int, msgspec.Meta(ge=1)] = 1000
    min_annualised_span: Annotated[str, msgspec.Meta(pattern=r"^(\d+(ms|s|m|h|d|w))+$")] = "30d"
    store_url: str = ""


BarFormat = Literal[
    "auto", "nautilus", "binance_klines", "freqtrade_feather", "freqtrade_json", "backtrader", "bench"
]
# The bar-only keys of `[data]` and their defaults (an L2 run must leave them unset).
_BAR_ONLY: dict[str, Any] = {
    "bar_format": "auto",
    "stamped_at": "",
    "instrument": "",
    "contract": "",
    "kind": "",
    "tick_size": None,
    "lot_size": None,
    "multiplier": None,
    "currency": "",
    "sessions": {},
}


class DataConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where the market data comes from. `paths` are relative to the config file.

    `format = "bars"` reads OHLCV bar files (docs/strategies.md): `bar_format` names the loader (`auto`
    picks it from the file), `stamped_at` says whether the file stamps bars at their open or close (empty:
    the format's convention), `instrument` is the id (``6EH4.XCME``). A futures contract takes its tick,
    multiplier and sessions from the spec table (`contract`, or read from the symbol); otherwise, or to
    override, give `kind`, `tick_size`, `lot_size`, `multiplier`, `currency` and `sessions`
    (``{ name = "HH:MM-HH:MM Area/City" }``, main session first).

    `format = "binary"` replays prediction-market recordings (`tradewright record --venue polymarket`
    or ``turbine``: folders of markets); `symbol` then names the outcome token the strategy trades.
    """

    paths: list[str]
    format: Literal["auto", "binance", "tardis", "es", "parquet", "bars", "binary"] = "auto"
    market: Literal["", "usdm", "spot", "coinm"] = ""
    symbol: str = ""
    bar_format: BarFormat = "auto"
    stamped_at: Literal["", "open", "close"] = ""
    instrument: str = ""
    contract: str = ""
    kind: Literal["", "future", "spot", "perpetual"] = ""
    tick_size: Decimal | None = None
    lot_size: Decimal | None = None
    multiplier: Decimal | None = None
    currency: str = ""
    sessions: dict[str, str] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.format != "bars":
            for name, default in _BAR_ONLY.items():
                if getattr(self, name) != default:
                    raise ValueError(f'`data.{name}` applies to bar data only (`data.format = "bars"`)')
            return
        if self.market or self.symbol:
            raise ValueError("`data.market` and `data.symbol` apply to L2 recordings, not to bars")
        if not self.instrument:
            raise ValueError('bar data needs `data.instrument` (SYMBOL.VENUE, e.g. "6EH4.XCME")')
        symbol, dot, venue = self.instrument.rpartition(".")
        if not (dot and symbol and venue):
            raise ValueError(f"`data.instrument` must be SYMBOL.VENUE, got {self.instrument!r}")
        for name in ("tick_size", "lot_size", "multiplier"):
            value: Decimal | None = getattr(self, name)
            if value is not None and (not value.is_finite() or value <= 0):
                raise ValueError(f"`data.{name}` must be a number > 0, got {value}")


class VenueConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The simulated venue's realism models."""

    queue_model: Literal["conservative", "power", "log"] = "conservative"
    queue_power: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    order_latency_us: NonNeg = 0
    cancel_latency_us: NonNeg | None = None
    response_latency_us: NonNeg = 0
    latency_file: str = ""
    market_data_latency_us: NonNeg = 0
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    # Bar data only (`tradewright.sim.bar_fill`); None means the default there.
    slippage_ticks: NonNeg | None = None
    intrabar: Literal["worst", "best", "nearest"] | None = None
    limit_fill: Literal["through", "touch"] | None = None
    # Bar data only: the quotes the market shows around each bar's close (`tradewright.daytrade.quotes`):
    # a spread in ticks per instrument session name or "HH:MM-HH:MM Area/City" window (the first that
    # holds the bar wins; "default" for the rest), `bar_quote_size` lots on each side.
    bar_spread_ticks: dict[str, Annotated[int, msgspec.Meta(ge=1)]] = msgspec.field(default_factory=dict)
    bar_quote_size: Decimal | None = None

    def __post_init__(self) -> None:
        if self.bar_quote_size is not None and (not self.bar_quote_size.is_finite() or self.bar_quote_size <= 0):
            raise ValueError(f"`venue.bar_quote_size` must be a number > 0, got {self.bar_quote_size}")
        if self.bar_quote_size is not None and not self.bar_spread_ticks:
            raise ValueError("`venue.bar_quote_size` needs `venue.bar_spread_ticks` (the quotes it sizes)")
        for key in self.bar_spread_ticks:
            if any(ch.isdigit() for ch in key[:2]):
                try:
                    TradingSession.parse(key, key)
                except ValueError as exc:
                    raise ValueError(f"`venue.bar_spread_ticks`: {exc}") from None


class AccountConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`mark_price`: how open positions are valued for exposure and daily PnL (mid, or the last trade)."""

    starting_balance: Decimal = Decimal(100_000)
    mark_price: Literal["mid", "last_trade"] = "mid"
    # Multi-instrument runs: inventory held at the start, bought at each instrument's first mid from the
    # starting balance, without a fee (a spot venue sells only what is held). {"BTCUSDT.BINANCE" = "0.2"}
    starting_positions: dict[str, Decimal] = msgspec.field(default_factory=dict)


def _check_decimals(where: str, obj: msgspec.Struct, *, upper: dict[str, Decimal] | None = None) -> None:
    """Every Decimal field of `obj` that is set must be finite and > 0 (and <= its upper bound)."""
    for name in obj.__struct_fields__:
        value = getattr(obj, name)
        if not isinstance(value, Decimal):
            continue
        if not value.is_finite() or value <= 0:
            raise ValueError(f"`{where}.{name}` must be a number > 0, got {value}")
        bound = (upper or {}).get(name)
        if bound is not None and value > bound:
            raise ValueError(f"`{where}.{name}` must be <= {bound}, got {value}")


def _check_min_max(where: str, obj: msgspec.Struct, pairs: tuple[tuple[str, str], ...]) -> None:
    for low, high in pairs:
        lo, hi = getattr(obj, low), getattr(obj, high)
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"`{where}.{low}` ({lo}) must not exceed `{where}.{high}` ({hi})")


_MIN_MAX = (
    ("min_order_size_base", "max_order_size_base"),
    ("min_order_notional_quote", "max_order_notional_quote"),
)


class InstrumentLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Per-order and per-instrument limits; in `[risk.instruments."ID"]` they override `[risk]`'s for one
    instrument. Unset (None) means no limit."""

    min_order_size_base: Decimal | None = None
    max_order_size_base: Decimal | None = None
    min_order_notional_quote: Decimal | None = None
    max_order_notional_quote: Decimal | None = None
    max_position_base: Decimal | None = None
    max_position_quote: Decimal | None = None
    price_band_bps: Decimal | None = None
    max_spread_ticks: Positive | None = None
    max_slippage_bps: Decimal | None = None


class RiskConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The `[risk]` section: every limit, breaker and kill-switch setting (docs/risk.md lists them all).

    Every limit defaults to None (no limit), so a config without `[risk]` trades exactly as before.
    A breaker's `*_action` says what it sets when it trips: "reducing" (only exposure-reducing orders
    pass) or "halted" (nothing new passes; cancels always do).
    """

    # C1: each order and each instrument (the `instruments` table overrides these per instrument)
    min_order_size_base: Decimal | None = None
    max_order_size_base: Decimal | None = None
    min_order_notional_quote: Decimal | None = None
    max_order_notional_quote: Decimal | None = None
    max_position_base: Decimal | None = None
    max_position_quote: Decimal | None = None
    price_band_bps: Decimal | None = None
    check_balance: bool = False
    initial_margin_pct: Decimal = Decimal(100)
    instruments: dict[str, InstrumentLimits] = msgspec.field(default_factory=dict)
    # C2: the whole portfolio
    max_gross_exposure_quote: Decimal | None = None
    max_net_exposure_quote: Decimal | None = None
    max_venue_notional_quote: Decimal | None = None
    max_open_order_notional_quote: Decimal | None = None
    # C3: rate limits (token buckets on the kernel clock; a full bucket allows a burst of the limit)
    max_orders_per_second_instrument: Positive | None = None
    max_orders_per_second_venue: Positive | None = None
    max_cancels_per_minute_instrument: Positive | None = None
    max_cancels_per_minute_venue: Positive | None = None
    # C4: circuit breakers
    breaker_consecutive_rejects: Positive | None = None
    breaker_reject_burst_count: Positive | None = None
    breaker_reject_burst_window_ms: Positive = 10_000
    breaker_ignore_reject_reasons: list[str] = msgspec.field(default_factory=lambda: ["post_only_would_take"])
    breaker_rejects_action: TripAction = "halted"
    breaker_ack_latency_ms: Positive | None = None
    breaker_ack_latency_count: Positive = 1
    breaker_latency_action: TripAction = "reducing"
    breaker_price_move_pct: Decimal | None = None
    breaker_price_move_window_ms: Positive = 10_000
    breaker_crossed_book: bool = False
    breaker_empty_book: bool = False
    breaker_market_action: TripAction = "reducing"
    breaker_cooldown_ms: Positive | None = None
    monitor_interval_ms: Positive = 100
    # C5: daily controls
    daily_loss_limit_quote: Decimal | None = None
    daily_loss_limit_r: Decimal | None = None
    r_unit_quote: Decimal | None = None
    daily_loss_action: TripAction = "reducing"
    max_trades_per_day: Positive | None = None
    max_trades_count: Literal["orders", "entries"] = "orders"  # every filled order, or only position openings
    max_trades_action: TripAction = "reducing"
    max_spread_ticks: Positive | None = None
    max_slippage_bps: Decimal | None = None
    trading_day_start: str = "00:00"
    trading_day_utc_offset_minutes: Annotated[int, msgspec.Meta(ge=-720, le=840)] = 0
    trading_day_tz: str = ""  # IANA zone of trading_day_start (daylight saving followed), e.g. America/Chicago
    # Session close (C6 on a schedule): flatten each instrument this many minutes before its session
    # closes and take no new entries until the session opens again.
    flatten_before_close_minutes: NonNeg | None = None
    flatten_session: str = ""  # the instrument session whose close counts ("" = its main session)
    flatten_calendar: Literal["", "cme_equity_index", "cme_fx"] = ""  # holidays and early closes
    # C6: kill switch and shutdown
    flatten_max_slippage_bps: Decimal = Decimal(50)
    flatten_retry_ms: Positive = 1000
    flatten_max_attempts: Positive = 10
    close_positions_on_sigterm: bool = False
    cancel_orders_on_halt: bool = True

    def __post_init__(self) -> None:
        _check_decimals("risk", self, upper={"initial_margin_pct": Decimal(100)})
        _check_min_max("risk", self, _MIN_MAX)
        if self.daily_loss_limit_r is not None and self.r_unit_quote is None:
            raise ValueError(
                "`risk.daily_loss_limit_r` needs `risk.r_unit_quote` (the currency amount of 1 R)"
            )
        hours, colon, minutes = self.trading_day_start.partition(":")
        if not (colon and hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError(
                f"`risk.trading_day_start` must be HH:MM (24-hour), got {self.trading_day_start!r}"
            )
        if self.trading_day_tz:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(self.trading_day_tz)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"`risk.trading_day_tz`: unknown time zone {self.trading_day_tz!r}") from None
            if self.trading_day_utc_offset_minutes != 0:
                raise ValueError(
                    "give either `risk.trading_day_tz` (a time zone) or `risk.trading_day_utc_offset_minutes` "
                    "(a fixed offset), not both"
                )
        for key, limits in self.instruments.items():
            symbol, dot, venue = key.rpartition(".")
            if not (dot and symbol and venue):
                raise ValueError(f"`risk.instruments.{key}`: the key must be an instrument id SYMBOL.VENUE")
            _check_decimals(f"risk.instruments.{key}", limits)
            _check_min_max(f"risk.instruments.{key}", limits, _MIN_MAX)

    @property
    def trading_day_offset_ns(self) -> int:
        """Nanoseconds after UTC midnight at which a trading day starts (session start minus UTC offset)."""
        hours, _, minutes = self.trading_day_start.partition(":")
        start_min = int(hours) * 60 + int(minutes) - self.trading_day_utc_offset_minutes
        return (start_min % (24 * 60)) * 60_000_000_000

    def limits_for(self, instrument_id: str) -> InstrumentLimits:
        """The per-instrument limits in force for one instrument: its override where set, else `[risk]`'s."""
        override = self.instruments.get(instrument_id)
        fields = {name: getattr(self, name) for name in InstrumentLimits.__struct_fields__}
        if override is not None:
            for name in InstrumentLimits.__struct_fields__:
                value = getattr(override, name)
                if value is not None:
                    fields[name] = value
        return InstrumentLimits(**fields)


class StrategyConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`path` (a .py file, relative to the config) or `module` (importable), and the class name."""

    class_name: str = msgspec.field(name="class")
    path: str = ""
    module: str = ""
    id: str = "S1"
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class RunConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    data: DataConfig
    strategy: StrategyConfig
    run: RunSection = msgspec.field(default_factory=RunSection)
    venue: VenueConfig = msgspec.field(default_factory=VenueConfig)
    account: AccountConfig = msgspec.field(default_factory=AccountConfig)
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    api: ApiConfig = msgspec.field(default_factory=ApiConfig)
    base_dir: str = "."
    source_text: str = ""

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(relative)
        return p if p.is_absolute() else Path(self.base_dir) / p


def load_run_config(path: str | Path, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Load and validate a run config; paths inside it are resolved relative to the file."""
    path = Path(path)
    raw = load_toml(path)
    data = apply_env_overrides(raw)
    for key in ("base_dir", "source_text"):
        if key in data:
            raise ConfigError(f"unknown config key `{key}`")
    changed = bool(overrides) or data != raw
    if overrides:
        apply_overrides(data, overrides)
    data["base_dir"] = str(path.resolve().parent)
    if changed:
        # What ran is not the file as written: keep the effective config (overrides applied, paths
        # absolute), so the run folder's config.toml repeats the run.
        names = ", ".join(f"{k}={v!r}" for k, v in (overrides or {}).items()) or "environment variables"
        data["source_text"] = effective_config_text(
            path, overrides or {}, header=f"effective config: {path} with overrides {names}"
        )
    else:
        data["source_text"] = path.read_text(encoding="utf-8")
    config = to_struct(RunConfig, data, "")
    if config.data.format != "bars" and (config.venue.bar_spread_ticks or config.run.store_url):
        raise ConfigError(
            "`venue.bar_spread_ticks` and `run.store_url` apply to bar data only (`data.format = \"bars\"`)"
        )
    if not config.data.paths:
        raise ConfigError("`data.paths` must name at least one recording")
    if config.account.starting_balance < 0:
        raise ConfigError(f"`account.starting_balance` must be >= 0, got {config.account.starting_balance}")
    return config
