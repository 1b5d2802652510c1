"""The config of a node trading several venues and strategies at once (`tradewright live CONFIG.toml`
with a `[venues.<name>]` table per venue and a `[[strategies]]` entry per strategy).

```toml
[node]
name = "multi"

[venues.okx]                    # any venue kind of tradewright.venues.registry
kind = "okx"
symbols = ["BTC-USDT", "ETH-USDT"]

[venues.gate]
kind = "gate"
symbols = ["BTC_USDT"]

[[strategies]]                  # one strategy, many markets: one instance per market
id = "MM"
path = "symmetric_mm.py"
class = "SymmetricMarketMaker"
markets = ["okx:BTC-USDT", "gate:BTC_USDT"]   # <venue name>:<symbol as in its `symbols`>
params = { size = "0.001", max_position = "0.004" }
[strategies.overrides."gate:BTC_USDT"]        # per-market parameters over `params`
size = "0.002"

[budget]                        # one portfolio budget shared by every strategy and market
total_quote = "5000"
stage = "small"                 # paper | small | full

[alerts]                        # webhooks and e-mail (tradewright.live.alerts)
webhooks = ["https://hooks.example/alerts"]

[risk]  [store]  [reconcile]  [api]   # as in a single-venue live config
```

Each (strategy, market) pair is one strategy instance with its own id: the entry's `id` when it trades
one market, else `<id>_<n>` (n = the market's place in `markets`, from 1). Ids go into client order
ids, so they stay 1-12 letters, digits or _. Credentials come from the environment variables each
venue's table names, never from the file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import msgspec

from tradewright.config.api import ApiConfig
from tradewright.config.loader import apply_env_overrides, load_toml, to_struct
from tradewright.config.run import DataConfig, RiskConfig, RunConfig, StrategyConfig
from tradewright.core.errors import ConfigError
from tradewright.engine.reconcile import ReconcileConfig
from tradewright.live.alerts import AlertsConfig
from tradewright.live.config import NodeSection, _no_password_in_file
from tradewright.store.config import StoreConfig, default_url
from tradewright.venues.registry import venue_package

__all__ = [
    "BudgetConfig",
    "MultiConfig",
    "StrategyEntry",
    "StrategyTask",
    "VenueEntry",
    "is_multi_config",
    "load_multi_config",
]

_ID = re.compile(r"^[A-Za-z0-9_]{1,12}$")
_VENUE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class BudgetConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One portfolio budget drawn on by every (strategy, market), in stages.

    `total_quote`: the capital the node may put at risk, in the quote currency. `stage` scales it:
    ``paper`` (nothing: a live node refuses to start — trade it with `tradewright paper` or
    `--dry-run` first), ``small`` (`small_pct` of it) or ``full``. Each running (strategy, market)
    gets a share proportional to its `budget_weight`; when one stops (fenced, or stopped by an
    operator), the others share its part. A share caps the notional of the position plus the open
    orders that add to it; orders that reduce the position always pass.
    """

    total_quote: Decimal | None = None
    stage: Literal["paper", "small", "full"] = "full"
    small_pct: Decimal = Decimal(10)

    def __post_init__(self) -> None:
        if self.total_quote is not None and self.total_quote <= 0:
            raise ConfigError(f"`budget.total_quote` must be > 0, got {self.total_quote}")
        if not 0 < self.small_pct <= 100:
            raise ConfigError(f"`budget.small_pct` must be in (0, 100], got {self.small_pct}")

    @property
    def stage_quote(self) -> Decimal | None:
        """What the stage lets the node use (None: no budget configured)."""
        if self.total_quote is None:
            return None
        if self.stage == "paper":
            return Decimal(0)
        if self.stage == "small":
            return self.total_quote * self.small_pct / 100
        return self.total_quote


class StrategyEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One `[[strategies]]` entry: a strategy class, the markets it trades and per-market overrides."""

    class_name: str = msgspec.field(name="class")
    markets: list[str] = msgspec.field(default_factory=list)
    path: str = ""
    module: str = ""
    id: str = "S1"
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    budget_weight: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if self.budget_weight <= 0:
            raise ConfigError(f"`strategies.budget_weight` must be > 0, got {self.budget_weight}")


class MultiConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    venues: dict[str, dict[str, Any]]
    strategies: list[StrategyEntry]
    node: NodeSection = msgspec.field(default_factory=NodeSection)
    store: StoreConfig = msgspec.field(default_factory=lambda: StoreConfig(url=default_url()))
    reconcile: ReconcileConfig = msgspec.field(default_factory=ReconcileConfig)
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    api: ApiConfig = msgspec.field(default_factory=ApiConfig)
    alerts: AlertsConfig = msgspec.field(default_factory=AlertsConfig)
    budget: BudgetConfig = msgspec.field(default_factory=BudgetConfig)
    base_dir: str = "."
    source_text: str = ""

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(self.source_text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class VenueEntry:
    """One `[venues.<name>]` table decoded into its package's config."""

    name: str
    kind: str
    config: Any

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(getattr(self.config, "symbols", ()) or ())


@dataclass(frozen=True, slots=True)
class StrategyTask:
    """One strategy instance: an entry on one market, with its merged parameters."""

    strategy_id: str
    entry: StrategyEntry
    venue: str  # the venue's name in the config
    symbol: str  # as written in the venue's `symbols`
    params: dict[str, Any]

    @property
    def market(self) -> str:
        return f"{self.venue}:{self.symbol}"

    def run_config(self, config: MultiConfig) -> RunConfig:
        """The strategy part as the strategy loader reads it."""
        entry = self.entry
        return RunConfig(
            data=DataConfig(paths=[]),
            strategy=StrategyConfig(
                class_name=entry.class_name,
                path=entry.path,
                module=entry.module,
                id=self.strategy_id,
                params=self.params,
            ),
            risk=config.risk,
            base_dir=config.base_dir,
            source_text=config.source_text,
        )


def is_multi_config(path: str | Path) -> bool:
    """True when the file has a `[venues]` table (several venues and strategies), not `[venue]`."""
    return "venues" in load_toml(path)


def load_multi_config(path: str | Path) -> tuple[MultiConfig, list[VenueEntry], list[StrategyTask]]:
    """Load and validate a multi-venue config: every venue table decoded by its package, every market
    a strategy names found in its venue's symbols, every strategy id unique (paths relative to the file)."""
    path = Path(path)
    raw = load_toml(path)
    _no_password_in_file(raw)
    data = apply_env_overrides(raw)
    for key in ("base_dir", "source_text"):
        if key in data:
            raise ConfigError(f"unknown config key `{key}`")
    for key in ("venue", "strategy"):
        if key in data:
            raise ConfigError(
                f"`[{key}]` belongs to a single-venue config; a config with `[venues.<name>]` names its "
                f"strategies in `[[strategies]]`"
            )
    if not data.get("strategies"):
        raise ConfigError("missing `[[strategies]]`: name at least one strategy and the markets it trades")
    if "store" not in data or "url" not in data["store"]:
        data.setdefault("store", {})["url"] = default_url()
    data["base_dir"] = str(path.resolve().parent)
    data["source_text"] = path.read_text(encoding="utf-8")
    try:
        config = to_struct(MultiConfig, data, "")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    venues = decode_venues(config)
    return config, venues, strategy_tasks(config, venues)


def decode_venues(config: MultiConfig) -> list[VenueEntry]:
    """Each `[venues.<name>]` table as its package's config (the package is imported only if named)."""
    if not config.venues:
        raise ConfigError("`venues`: name at least one venue ([venues.<name>] with its `kind`)")
    out: list[VenueEntry] = []
    seen_kinds: dict[str, str] = {}
    for name, table in config.venues.items():
        if not _VENUE_NAME.match(name):
            raise ConfigError(f"`venues.{name}`: a venue name is lower-case letters, digits, - or _")
        if not isinstance(table, dict) or not isinstance(table.get("kind"), str):
            raise ConfigError(f'`venues.{name}.kind`: say which venue this is (e.g. kind = "okx")')
        kind = table["kind"]
        if kind in seen_kinds:
            raise ConfigError(
                f"`venues.{name}`: venue kind {kind!r} is already `venues.{seen_kinds[kind]}`; one node "
                "connects to a venue once (list every market in that table's `symbols`)"
            )
        seen_kinds[kind] = name
        package = venue_package(kind)
        types = [t for t in package.CONFIG_TYPES if _tag(t) == kind] or list(package.CONFIG_TYPES)
        out.append(VenueEntry(name, kind, to_struct(types[0], table, f"venues.{name}")))
    return out


def strategy_tasks(config: MultiConfig, venues: list[VenueEntry]) -> list[StrategyTask]:
    """Expand each strategy entry into one task per market, with its overrides applied."""
    by_name = {v.name: v for v in venues}
    tasks: list[StrategyTask] = []
    ids: set[str] = set()
    for k, entry in enumerate(config.strategies):
        where = f"strategies[{k}]"
        if not _ID.match(entry.id):
            raise ConfigError(
                f"`{where}.id` must be 1-12 letters, digits or _ (it goes into every client order id), "
                f"got {entry.id!r}"
            )
        if not entry.markets:
            raise ConfigError(f'`{where}.markets`: name the markets it trades, as "<venue>:<symbol>"')
        unknown = sorted(set(entry.overrides) - set(entry.markets))
        if unknown:
            raise ConfigError(
                f"`{where}.overrides`: {', '.join(unknown)} is not one of its markets ({', '.join(entry.markets)})"
            )
        for n, market in enumerate(entry.markets, start=1):
            venue_name, sep, symbol = market.partition(":")
            venue = by_name.get(venue_name)
            if not sep or venue is None:
                raise ConfigError(
                    f'`{where}.markets`: {market!r} is not "<venue>:<symbol>" with a venue of this config '
                    f"({', '.join(sorted(by_name))})"
                )
            if venue.symbols and symbol not in venue.symbols:
                raise ConfigError(
                    f"`{where}.markets`: {symbol!r} is not in `venues.{venue_name}.symbols` "
                    f"({', '.join(venue.symbols)})"
                )
            sid = entry.id if len(entry.markets) == 1 else f"{entry.id}_{n}"
            if not _ID.match(sid):
                raise ConfigError(
                    f"`{where}.id`: {entry.id!r} is too long for {len(entry.markets)} markets (the ids "
                    f"{entry.id}_1.. must stay within 12 characters)"
                )
            if sid in ids:
                raise ConfigError(f"`{where}`: strategy id {sid!r} is used twice; give each entry its own id")
            ids.add(sid)
            params = {**entry.params, **entry.overrides.get(market, {})}
            tasks.append(StrategyTask(sid, entry, venue_name, symbol, params))
    return tasks


def _tag(struct_type: type[Any]) -> str | None:
    config = getattr(struct_type, "__struct_config__", None)
    tag = getattr(config, "tag", None)
    return tag if isinstance(tag, str) else None
