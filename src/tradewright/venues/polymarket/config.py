"""The `[venues.<name>]` table of kind ``polymarket``, and the credentials it names (environment only).

The wallet's private key signs orders (EIP-712, offline) and, when no API key is configured, proves
control of the wallet to derive one (L1). The API key, secret and passphrase sign every trading
request (L2 HMAC). All of them are read from environment variables named here, never from the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec

from tradewright.core.errors import ConfigError
from tradewright.venues._common.credentials import Credentials

__all__ = ["PolymarketConfig", "credentials"]


class PolymarketConfig(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="kind", tag="polymarket"
):
    """Where Polymarket is, which wallet trades, and what to trade.

    `rest_url` points at a local server (``tradewright venues serve --venue polymarket``), which serves
    the CLOB at its root and Gamma under ``/gamma``; it replaces `clob_url` and `gamma_url`.
    `markets` are condition ids (``0x…``); every outcome token of each becomes an instrument
    ``{condition_id}-{token_id}.POLYMARKET``. `signature_type`: 0 a plain wallet (EOA), 1 a Polymarket
    proxy (email/Magic), 2 a Gnosis safe, 3 a deposit wallet (ERC-1271); for 1-3 `funder` is the
    address holding the funds. `order_version` "auto" asks `GET /version` (and re-signs when the venue
    says the version changed).
    """

    markets: list[str] = []
    clob_url: str = "https://clob.polymarket.com"
    gamma_url: str = "https://gamma-api.polymarket.com"
    ws_url: str = "wss://ws-subscriptions-clob.polymarket.com"
    rest_url: str | None = None  # a local server's root: the CLOB at it, Gamma under /gamma
    chain_id: int = 137
    signature_type: Annotated[int, msgspec.Meta(ge=0, le=3)] = 0
    funder: str = ""
    order_version: Literal["auto", "1", "2"] = "auto"
    collateral: str = "pUSD"
    private_key_env: str = "POLYMARKET_PRIVATE_KEY"
    api_key_env: str = "POLYMARKET_API_KEY"
    api_secret_env: str = "POLYMARKET_API_SECRET"
    api_passphrase_env: str = "POLYMARKET_API_PASSPHRASE"
    timeout_ms: Annotated[int, msgspec.Meta(ge=100)] = 10_000
    heartbeat_interval_ms: Annotated[int, msgspec.Meta(ge=500)] = 5_000
    ping_interval_ms: Annotated[int, msgspec.Meta(ge=500)] = 10_000
    book_depth: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50
    max_assets_per_connection: Annotated[int, msgspec.Meta(ge=1, le=500)] = 200
    use_server_time: bool = False
    check_funding: bool = True  # refuse to start when the wallet has no collateral or no allowance
    min_collateral: Decimal = Decimal(1)

    @property
    def clob(self) -> str:
        return self.rest_url.rstrip("/") if self.rest_url else self.clob_url

    @property
    def gamma(self) -> str:
        return self.rest_url.rstrip("/") + "/gamma" if self.rest_url else self.gamma_url

    def __post_init__(self) -> None:
        for key, url, schemes in (
            ("rest_url", self.rest_url or "http://unset", ("http", "https")),
            ("clob_url", self.clob_url, ("http", "https")),
            ("gamma_url", self.gamma_url, ("http", "https")),
            ("ws_url", self.ws_url, ("ws", "wss")),
        ):
            parts = urlsplit(url)
            if parts.scheme not in schemes or not parts.netloc:
                raise ConfigError(f"`{key}` must be a {' or '.join(schemes)} URL with a host, got {url!r}")
        for cid in self.markets:
            if not (cid.startswith("0x") and len(cid) == 66):
                raise ConfigError(f"`markets`: {cid!r} is not a condition id (0x and 64 hex digits)")
        if self.signature_type in (1, 2, 3) and not self.funder:
            raise ConfigError(
                f"`funder` is required with `signature_type` {self.signature_type} (the funds' address)"
            )
        if self.chain_id not in (137, 80002):
            raise ConfigError(f"`chain_id` must be 137 (Polygon) or 80002 (Amoy), got {self.chain_id}")


def credentials(config: PolymarketConfig, environ: Mapping[str, str] | None = None) -> Credentials:
    """The wallet key (required) and the API key set (optional together: derived at connect if absent)."""
    creds = Credentials.from_env(
        "Polymarket",
        {
            "private_key": config.private_key_env,
            "api_key": config.api_key_env,
            "secret": config.api_secret_env,
            "passphrase": config.api_passphrase_env,
        },
        environ,
        optional=frozenset({"api_key", "secret", "passphrase"}),
    )
    given = [p for p in ("api_key", "secret", "passphrase") if creds.has(p)]
    if given and len(given) != 3:
        names = {
            "api_key": config.api_key_env,
            "secret": config.api_secret_env,
            "passphrase": config.api_passphrase_env,
        }
        missing = [names[p] for p in names if p not in given]
        raise ConfigError(
            f"incomplete Polymarket API credentials: also set {' and '.join(missing)} "
            "(or unset all three to derive them from the wallet key)"
        )
    key = creds.get("private_key").removeprefix("0x")
    if len(key) != 64 or any(c not in "0123456789abcdefABCDEF" for c in key):
        raise ConfigError(f"{config.private_key_env} is not a 32-byte hex private key")
    return creds
