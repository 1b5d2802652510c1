"""The `[venues.<name>]` table for Alpaca (stocks and crypto through alpaca-py), and its credentials.

`paper = true` (the default) trades Alpaca's paper environment, `false` the live one; the URLs follow
from it unless given (tests point them at the local server). The key and secret are read from the
environment variables named here, never from a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec

from tradewright.core.errors import ConfigError
from tradewright.venues._common.credentials import Credentials

__all__ = ["AlpacaConfig", "credentials"]

_PAPER = ("https://paper-api.alpaca.markets", "wss://paper-api.alpaca.markets/stream")
_LIVE = ("https://api.alpaca.markets", "wss://api.alpaca.markets/stream")
_DATA = "wss://stream.data.alpaca.markets"


class AlpacaConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Which environment, which symbols (``AAPL``, ``BTC/USD``), and how to pace and time out."""

    kind: Literal["alpaca"] = "alpaca"
    venue: str = "ALPACA"
    paper: bool = True
    symbols: list[str] = msgspec.field(default_factory=list)
    api_key_env: str = "APCA_API_KEY_ID"
    api_secret_env: str = "APCA_API_SECRET_KEY"
    trading_url: str = ""  # default: the paper or live Trading API
    stream_url: str = ""  # default: the paper or live trade_updates stream
    data_url: str = ""  # default: wss://stream.data.alpaca.markets (the feed path is added)
    data_feed: Literal["iex", "sip", "delayed_sip", "test"] = "iex"
    timeout_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    requests_per_minute: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 200  # Alpaca's documented limit
    extended_hours: bool = False

    def __post_init__(self) -> None:
        if not self.symbols:
            raise ConfigError("the Alpaca venue lists no `symbols`")
        for key, url, schemes in (
            ("trading_url", self.trading_url, ("http", "https")),
            ("stream_url", self.stream_url, ("ws", "wss")),
            ("data_url", self.data_url, ("ws", "wss")),
        ):
            if url:
                parts = urlsplit(url)
                if parts.scheme not in schemes or not parts.netloc:
                    raise ConfigError(f"`{key}` must be a {' or '.join(schemes)} URL with a host, got {url!r}")

    @property
    def rest_root(self) -> str:
        return (self.trading_url or (_PAPER if self.paper else _LIVE)[0]).rstrip("/")

    @property
    def trade_stream(self) -> str:
        return self.stream_url or (_PAPER if self.paper else _LIVE)[1]

    def data_stream(self, crypto: bool) -> str:
        root = (self.data_url or _DATA).rstrip("/")
        return f"{root}/v1beta3/crypto/us" if crypto else f"{root}/v2/{self.data_feed}"

    @property
    def environment(self) -> str:
        return "paper" if self.paper else "live"


def credentials(config: AlpacaConfig, environ: Mapping[str, str] | None = None) -> Credentials:
    """The key id and secret from the environment; refuses naming the variables when either is unset."""
    return Credentials.from_env(
        f"Alpaca ({config.environment})", {"api_key": config.api_key_env, "secret": config.api_secret_env}, environ
    )
