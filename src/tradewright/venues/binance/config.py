"""The `[venue]` section for Binance USD-M futures, and the API credentials (from the environment only)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from tradewright.config.urls import check_url
from tradewright.core.errors import ConfigError

__all__ = ["BinanceConfig", "Credentials"]


class BinanceConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where Binance USD-M is and what to trade there.

    `rest_url` and `ws_url` are the venue's roots (scheme and host, e.g. ``https://fapi.binance.com`` and
    ``wss://fstream.binance.com``); tests point them at the local emulator on 127.0.0.1. The API key
    and secret are read from the environment variables named here, never from a file.
    """

    kind: Literal["binance-usdm"] = "binance-usdm"
    symbol: str = "BTCUSDT"
    rest_url: str = "https://fapi.binance.com"
    ws_url: str = "wss://fstream.binance.com"
    api_key_env: str = "BINANCE_API_KEY"
    api_secret_env: str = "BINANCE_API_SECRET"
    timeout_ms: Annotated[int, msgspec.Meta(ge=100)] = 10_000
    book_depth: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 20
    rate_limit: bool = True  # pace requests by Binance's published weights (CCXT's limiter)
    maker_fee: Decimal | None = None  # None: ask the venue (commissionRate)
    taker_fee: Decimal | None = None
    # Modify by amending in place (PUT /fapi/v1/order: same order id, queue kept only for a smaller size at
    # the same price); false: the engine cancels and, once the cancel is confirmed, places a new order.
    amend: bool = True

    def __post_init__(self) -> None:
        check_url("venue.rest_url", self.rest_url, ("http", "https"))
        check_url("venue.ws_url", self.ws_url, ("ws", "wss"))


class Credentials:
    """An API key and secret. The secret never appears in a repr, a log line or an error message."""

    __slots__ = ("_secret", "api_key")

    def __init__(self, api_key: str, secret: str) -> None:
        self.api_key = api_key
        self._secret = secret

    @property
    def secret(self) -> str:
        return self._secret

    @classmethod
    def from_env(cls, config: BinanceConfig, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read the key and secret from the environment; refuse clearly when either is missing."""
        env = os.environ if environ is None else environ
        key = env.get(config.api_key_env, "")
        secret = env.get(config.api_secret_env, "")
        missing = [
            name for name, value in ((config.api_key_env, key), (config.api_secret_env, secret)) if not value
        ]
        if missing:
            raise ConfigError(
                f"missing Binance credentials: set {' and '.join(missing)} in the environment "
                "(credentials are read from the environment only, never from the config file)"
            )
        return cls(key, secret)

    def __repr__(self) -> str:
        shown = self.api_key[:4] + "…" if len(self.api_key) > 8 else "…"
        return f"Credentials(api_key={shown!r}, secret=***)"

    __str__ = __repr__
