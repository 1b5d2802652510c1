"""The `[venues.<name>]` table for Interactive Brokers (TWS or IB Gateway through ib-async).

IB has no API keys: the gateway holds the login, and an API client is identified by its client id.
What a config names instead is where the gateway listens and which account to trade; the account id
may come from the environment (`account_env`) so it stays out of config files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from tradewright.core.errors import ConfigError
from tradewright.venues._common.credentials import Credentials

__all__ = ["IbConfig", "IbInstrumentConfig", "credentials"]

_PORTS = "TWS paper 7497, TWS live 7496, IB Gateway paper 4002, IB Gateway live 4001"


class IbInstrumentConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One contract to trade.

    Futures: `symbol` is the root (``MNQ``, ``ES``, ``6E``); the contract is the front month by CME's roll
    rule (`roll_days` before the last trading day, on the gateway's date) unless `contract_month`
    (``YYYYMM``) or a dated `symbol` (``MNQH5``) names one. Stocks: `symbol` is the ticker, routed through
    `exchange` (SMART by default) with its `primary_exchange`.
    """

    symbol: str
    sec_type: Literal["FUT", "STK"] = "FUT"
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = "USD"
    contract_month: str = ""
    roll_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = 8

    def __post_init__(self) -> None:
        if not self.symbol.strip():
            raise ValueError("`symbol` must name a futures root, a dated contract or a stock ticker")
        if self.contract_month and not (len(self.contract_month) == 6 and self.contract_month.isdigit()):
            raise ValueError(f"`contract_month` must be YYYYMM, got {self.contract_month!r}")
        if self.sec_type == "STK" and self.contract_month:
            raise ValueError("`contract_month` applies to futures only")

    @property
    def route(self) -> str:
        return self.exchange or ("CME" if self.sec_type == "FUT" else "SMART")


class IbConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where the gateway is, which account, which contracts, and how to pace and reconnect."""

    kind: Literal["ib"] = "ib"
    venue: str = "IB"  # the venue part of instrument ids: MNQH5.IB
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 4002
    client_id: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] = 1
    account: str = ""  # empty: the gateway's only account (or `account_env`)
    account_env: str = ""  # read the account id from this environment variable instead
    instruments: list[IbInstrumentConfig] = msgspec.field(default_factory=list)
    connect_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 4.0
    request_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    market_data_type: Literal["live", "frozen", "delayed", "delayed_frozen"] = "live"
    outside_rth: bool = True  # futures trade the whole Globex session
    commission_wait_ms: Annotated[int, msgspec.Meta(ge=0, le=60_000)] = 1000
    max_messages_per_s: Annotated[int, msgspec.Meta(ge=5, le=50)] = 40  # IB's limit is 50: keep a margin
    reconnect_base_s: Annotated[float, msgspec.Meta(gt=0)] = 0.5
    reconnect_cap_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    bar_grace_s: Annotated[float, msgspec.Meta(gt=0, le=600)] = 2.0

    def __post_init__(self) -> None:
        if not self.host.strip():
            raise ConfigError("`host` must name the machine TWS or IB Gateway runs on")
        if self.account and self.account_env:
            raise ConfigError("give either `account` or `account_env`, not both")
        if self.reconnect_base_s > self.reconnect_cap_s:
            raise ConfigError("`reconnect_base_s` must not exceed `reconnect_cap_s`")
        seen: set[str] = set()
        for inst in self.instruments:
            key = f"{inst.sec_type}:{inst.symbol.upper()}:{inst.contract_month}"
            if key in seen:
                raise ConfigError(f"instrument {inst.symbol} is listed twice")
            seen.add(key)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port} (client id {self.client_id})"

    @staticmethod
    def usual_ports() -> str:
        return _PORTS


def credentials(config: IbConfig, environ: Mapping[str, str] | None = None) -> Credentials:
    """IB's "credentials": the account id, when the config reads it from the environment (the gateway
    itself holds the login). Refuses, naming the variable, when it is set in the config but empty."""
    if config.account_env:
        return Credentials.from_env("Interactive Brokers", {"account": config.account_env}, environ)
    parts = {"account": config.account} if config.account else {}
    return Credentials("Interactive Brokers", parts)
