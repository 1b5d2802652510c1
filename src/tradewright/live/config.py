"""The live node's config: one TOML file (unknown keys are errors), credentials from the environment.

```toml
[node]
name = "mm-live"
snapshot_interval_s = 10        # strategy snapshots (and the audit flush)
shutdown_timeout_s = 10         # SIGTERM: how long to wait for the cancels to be confirmed

[venue]                         # Binance USD-M (tradewright.venues.binance.BinanceConfig)
symbol = "BTCUSDT"
rest_url = "https://fapi.binance.com"
ws_url = "wss://fstream.binance.com"
api_key_env = "BINANCE_API_KEY"         # the key and secret are read from these variables only
api_secret_env = "BINANCE_API_SECRET"

[store]                         # tradewright.store.StoreConfig; default $TRADEWRIGHT_STORE_URL or SQLite
url = "sqlite:///live.sqlite"

[reconcile]                     # tradewright.engine.reconcile.ReconcileConfig
interval_s = 30
drift_pct = 5
drift_lots = 1

[strategy]                      # as in a backtest config
path = "symmetric_mm.py"
class = "SymmetricMarketMaker"
id = "MM"
[strategy.params]
size = "0.002"

[risk]                          # as in a backtest config (docs/risk.md)
```
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import msgspec

from tradewright.config.api import ApiConfig
from tradewright.config.bounds import Seconds
from tradewright.config.loader import apply_env_overrides, load_toml, to_struct
from tradewright.config.run import DataConfig, RiskConfig, RunConfig, StrategyConfig
from tradewright.core.errors import ConfigError
from tradewright.engine.reconcile import ReconcileConfig
from tradewright.store.config import URL_ENV_VAR, StoreConfig, default_url
from tradewright.venues.binance.config import BinanceConfig

__all__ = ["LiveConfig", "NodeSection", "load_live_config"]

_STRATEGY_ID = re.compile(r"^[A-Za-z0-9_]{1,12}$")


class NodeSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`min_order_age_s`: periodic reconciliation leaves orders younger than this alone (their requests
    may still be in flight)."""

    name: str = "live"
    snapshot_interval_s: Seconds = 10.0
    shutdown_timeout_s: Seconds = 10.0
    min_order_age_s: Seconds = 5.0
    mark_price: Literal["mid", "last_trade"] = "mid"


class LiveConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    venue: BinanceConfig
    strategy: StrategyConfig
    node: NodeSection = msgspec.field(default_factory=NodeSection)
    store: StoreConfig = msgspec.field(default_factory=lambda: StoreConfig(url=default_url()))
    reconcile: ReconcileConfig = msgspec.field(default_factory=ReconcileConfig)
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    api: ApiConfig = msgspec.field(default_factory=ApiConfig)
    base_dir: str = "."
    source_text: str = ""

    def __post_init__(self) -> None:
        if not _STRATEGY_ID.match(self.strategy.id):
            raise ConfigError(
                f"`strategy.id` must be 1-12 letters, digits or _ (it goes into every client order id), "
                f"got {self.strategy.id!r}"
            )

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(self.source_text.encode()).hexdigest()[:16]

    def as_run_config(self) -> RunConfig:
        """The strategy part as the strategy loader reads it (it takes a run config: no data section
        is used for loading a strategy)."""
        return RunConfig(
            data=DataConfig(paths=[]),
            strategy=self.strategy,
            risk=self.risk,
            base_dir=self.base_dir,
            source_text=self.source_text,
        )


def load_live_config(path: str | Path, overrides: dict[str, Any] | None = None) -> LiveConfig:
    """Load and validate a live config (paths inside it are relative to the file)."""
    path = Path(path)
    raw = load_toml(path)
    _no_password_in_file(raw)
    data = apply_env_overrides(raw)
    for key in ("base_dir", "source_text"):
        if key in data:
            raise ConfigError(f"unknown config key `{key}`")
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, last = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    if "venue" not in data:
        raise ConfigError("missing required config key `venue`")
    if "store" not in data or "url" not in data["store"]:
        data.setdefault("store", {})["url"] = default_url()
    data["base_dir"] = str(path.resolve().parent)
    data["source_text"] = path.read_text(encoding="utf-8")
    try:
        return to_struct(LiveConfig, data, "")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _no_password_in_file(raw: dict[str, Any]) -> None:
    """A store URL with a password belongs in the environment, not in a config file (which is copied,
    committed and shared): refuse it, without showing it."""
    store = raw.get("store")
    url = store.get("url") if isinstance(store, dict) else None
    if not isinstance(url, str):
        return
    try:
        parts = urlsplit(url)
        has_password = parts.password is not None
    except ValueError:
        return  # StoreConfig reports an unreadable URL (redacted)
    secret_params = [
        name
        for name, _ in parse_qsl(parts.query)
        if any(w in name.lower() for w in ("password", "passwd", "secret", "token"))
    ]
    if has_password or secret_params:
        raise ConfigError(
            f"`store.url` in the config file carries a password; set the whole URL in ${URL_ENV_VAR} instead "
            "(the URL is not shown)"
        )
