"""The config of a live node on a broker (`tradewright live CONFIG.toml` with a `[broker]` table):

```toml
[broker]                        # the venue table (docs/futures.md): kind "ib" or "alpaca" and its keys
kind = "ib"
host = "127.0.0.1"
port = 4002
client_id = 7
account_env = "IB_ACCOUNT"
[[broker.instruments]]
symbol = "6E"

[node]
name = "futures-day"
symbol = "6EH4"                 # which of the venue's instruments the strategy trades (default: the only one)
bar_seconds = 60                # the bars the strategy gets

[store]
url = "sqlite:///futures-day.sqlite"

[strategy]                      # as in a backtest config
[risk]                          # as in a backtest config (docs/risk.md)
```

Unknown keys are errors; credentials come only from the environment variables the venue table names.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import msgspec

from tradewright.config.loader import apply_env_overrides, load_toml, to_struct
from tradewright.config.run import DataConfig, RiskConfig, RunConfig, StrategyConfig
from tradewright.core.errors import ConfigError
from tradewright.engine.reconcile import ReconcileConfig
from tradewright.store.config import StoreConfig, default_url
from tradewright.venues.registry import venue_package

__all__ = ["BrokerConfig", "BrokerNodeSection", "is_broker_config", "load_broker_config"]


class BrokerNodeSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str = "broker"
    symbol: str | None = None
    bar_seconds: int = 60

    def __post_init__(self) -> None:
        if self.bar_seconds <= 0:
            raise ValueError(f"`node.bar_seconds` must be > 0, got {self.bar_seconds}")


class BrokerConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    broker: dict[str, Any]
    strategy: StrategyConfig
    node: BrokerNodeSection = msgspec.field(default_factory=BrokerNodeSection)
    store: StoreConfig = msgspec.field(default_factory=lambda: StoreConfig(url=default_url()))
    reconcile: ReconcileConfig = msgspec.field(default_factory=lambda: ReconcileConfig(interval_s=0))
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    base_dir: str = "."
    source_text: str = ""

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(self.source_text.encode()).hexdigest()[:16]

    def venue_config(self) -> Any:
        """The `[broker]` table as its venue package's config (unknown keys and bad values named)."""
        kind = self.broker.get("kind")
        if not isinstance(kind, str):
            raise ConfigError("`broker.kind` must name the broker: 'ib' or 'alpaca'")
        package = venue_package(kind)
        for config_type in package.CONFIG_TYPES:
            try:
                return to_struct(config_type, self.broker, "broker")
            except ConfigError:
                if len(package.CONFIG_TYPES) == 1:
                    raise
        raise ConfigError(f"`[broker]` is not a valid {kind} venue table")

    def as_run_config(self) -> RunConfig:
        """The strategy and risk parts as the strategy loader reads them."""
        return RunConfig(
            data=DataConfig(paths=[]),
            strategy=self.strategy,
            risk=self.risk,
            base_dir=self.base_dir,
            source_text=self.source_text,
        )


def is_broker_config(path: str | Path) -> bool:
    """True when the file is a broker node's config (it has a `[broker]` table)."""
    return "broker" in load_toml(Path(path))


def load_broker_config(path: str | Path) -> BrokerConfig:
    """Load and validate a broker node's config (paths inside it are relative to the file)."""
    path = Path(path)
    data = apply_env_overrides(load_toml(path))
    for key in ("base_dir", "source_text"):
        if key in data:
            raise ConfigError(f"unknown config key `{key}`")
    data["base_dir"] = str(path.resolve().parent)
    data["source_text"] = path.read_text(encoding="utf-8")
    config = to_struct(BrokerConfig, data, "")
    config.venue_config()  # a bad venue table stops here, before anything connects
    return config
