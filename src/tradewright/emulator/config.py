"""The emulator's configuration: CLI flags, optionally a TOML file (``--config``), unknown keys are errors.

Account secrets come from the environment (``secret_env`` names the variable). The default account,
used when no account is configured, has the key ``emulator-api-key`` and the secret from
``TRADEWRIGHT_EMULATOR_API_SECRET`` (default ``emulator-api-secret``): the emulator holds no real money,
so its demo credentials may be public.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from tradewright.config.bounds import Seconds
from tradewright.config.loader import load_toml, to_struct
from tradewright.core.errors import ConfigError
from tradewright.emulator.faults import FaultSettings

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_SECRET_ENV",
    "AccountConfig",
    "EmulatorConfig",
    "load_emulator_config",
    "resolve_secret",
]

DEFAULT_API_KEY = "emulator-api-key"
DEFAULT_SECRET_ENV = "TRADEWRIGHT_EMULATOR_API_SECRET"
DEFAULT_SECRET = "emulator-api-secret"
Pos = Annotated[int, msgspec.Meta(gt=0)]


class AccountConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One API key of the emulated venue and its starting money (used only when the state file is new)."""

    api_key: str
    secret_env: str = DEFAULT_SECRET_ENV
    balances: dict[str, Decimal] = msgspec.field(default_factory=dict)
    leverage: Annotated[int, msgspec.Meta(ge=1, le=125)] = 20


class EmulatorConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    venue: Literal["binance-spot", "binance-usdm"]
    data: list[str]
    symbol: str = ""
    speed: Annotated[float, msgspec.Meta(gt=0, le=1_000_000)] = 1.0
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    state: str = ""
    fresh: bool = False
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    min_notional: Decimal | None = None
    queue_model: Literal["conservative", "power", "log"] = "conservative"
    queue_power: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    order_latency_ms: Annotated[float, msgspec.Meta(ge=0, le=3_600_000)] = 0.0
    weight_limit: Pos | None = None
    orders_per_10s: Pos | None = None
    orders_long: Pos | None = None
    ban_after: Annotated[int, msgspec.Meta(ge=0)] = 10
    ban_s: Pos = 120
    # A new connection must send a whole request head (and a request its body) within this; a
    # kept-alive connection idle this long is closed.
    header_timeout_s: Seconds = 10.0
    idle_timeout_s: Seconds = 60.0
    accounts: list[AccountConfig] = msgspec.field(default_factory=list)
    faults: FaultSettings = msgspec.field(default_factory=FaultSettings)

    @property
    def futures(self) -> bool:
        return self.venue == "binance-usdm"

    def state_path(self) -> Path:
        return Path(self.state or f"emulator-{self.venue}.sqlite")

    def account_list(self) -> list[AccountConfig]:
        if self.accounts:
            return self.accounts
        balances = (
            {"USDT": Decimal(100_000)} if self.futures else {"USDT": Decimal(100_000), "BTC": Decimal(1)}
        )
        return [AccountConfig(api_key=DEFAULT_API_KEY, balances=balances)]


def resolve_secret(account: AccountConfig, environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    secret = env.get(account.secret_env)
    if secret:
        return secret
    if account.secret_env == DEFAULT_SECRET_ENV and account.api_key == DEFAULT_API_KEY:
        return DEFAULT_SECRET
    raise ConfigError(
        f"account {account.api_key}: set the environment variable {account.secret_env} to its secret"
    )


def load_emulator_config(file: str | None, overrides: dict[str, Any]) -> EmulatorConfig:
    """Merge a TOML file (if any) with CLI values (which win) into a checked config."""
    data: dict[str, Any] = {}
    base = Path(".")
    if file is not None:
        data = load_toml(file)
        base = Path(file).parent
        data["data"] = [str(base / p) for p in data.get("data", [])]
        if data.get("state"):
            data["state"] = str(base / data["state"])
    data.update({k: v for k, v in overrides.items() if v is not None})
    return to_struct(EmulatorConfig, data, "")
