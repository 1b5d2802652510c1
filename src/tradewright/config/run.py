"""The backtest/paper run config: one TOML file, validated at load (unknown keys name themselves)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from tradewright.config.loader import apply_env_overrides, load_toml, to_struct
from tradewright.core.errors import ConfigError

__all__ = [
    "AccountConfig",
    "DataConfig",
    "RunConfig",
    "RunSection",
    "StrategyConfig",
    "VenueConfig",
    "load_run_config",
]

NonNeg = Annotated[int, msgspec.Meta(ge=0)]


class RunSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str = "run"
    output_dir: str = "runs/{name}"
    seed: int = 0
    equity_sample_ms: Annotated[int, msgspec.Meta(ge=1)] = 1000


class DataConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where the market data comes from. `paths` are relative to the config file."""

    paths: list[str]
    format: Literal["auto", "binance", "tardis", "es", "parquet"] = "auto"
    market: Literal["", "usdm", "spot", "coinm"] = ""
    symbol: str = ""


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


class AccountConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    starting_balance: Decimal = Decimal(100_000)


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
    base_dir: str = "."
    source_text: str = ""

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(relative)
        return p if p.is_absolute() else Path(self.base_dir) / p


def load_run_config(path: str | Path, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Load and validate a run config; paths inside it are resolved relative to the file."""
    path = Path(path)
    data = apply_env_overrides(load_toml(path))
    for key in ("base_dir", "source_text"):
        if key in data:
            raise ConfigError(f"unknown config key `{key}`")
    if overrides:
        for dotted, value in overrides.items():
            node = data
            *parents, last = dotted.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[last] = value
    data["base_dir"] = str(path.resolve().parent)
    data["source_text"] = path.read_text(encoding="utf-8")
    config = to_struct(RunConfig, data, "")
    if not config.data.paths:
        raise ConfigError("`data.paths` must name at least one recording")
    if config.account.starting_balance < 0:
        raise ConfigError(f"`account.starting_balance` must be >= 0, got {config.account.starting_balance}")
    return config
