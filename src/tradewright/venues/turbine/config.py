"""The `[venues.<name>]` table of kind ``turbine``, and its credentials (environment only).

The wallet key signs orders, USDC permits and claims (EIP-712, offline) and registers an API key when
none is configured; the API key id and its Ed25519 private key sign a bearer token for every
authenticated request.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec

from tradewright.core.errors import ConfigError
from tradewright.venues._common.credentials import Credentials
from tradewright.venues.turbine.rotation import RotationConfig

__all__ = ["TurbineConfig", "credentials"]


class TurbineConfig(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="kind", tag="turbine"
):
    """Where Turbine is, which quick markets to trade, and how.

    `permit`: ``per_order`` attaches a USDC permit for each BUY's cost to the order (the venue takes
    the allowance with the order); ``none`` relies on a standing approval (`tradewright turbine
    approve`-style max permit sent beforehand). `fee_rate` is the taker fee as a share of notional
    (the documented 1 %; quick markets have been announced fee-free to takers: set 0 there).
    `claims_file` is the audit record of every claim (JSON lines, appended).
    """

    rest_url: str = "https://api.turbinefi.com"
    ws_url: str = "wss://api.turbinefi.com"
    chain_id: int = 137
    assets: list[str] = msgspec.field(default_factory=lambda: ["BTC"])
    interval_minutes: Annotated[int, msgspec.Meta(ge=1)] = 15
    tick_size: Decimal = Decimal("0.0001")
    permit: Literal["per_order", "none"] = "per_order"
    permit_lifetime_s: Annotated[int, msgspec.Meta(ge=60)] = 3600
    order_lifetime_s: Annotated[int, msgspec.Meta(ge=60)] = 300
    fee_rate: Decimal = Decimal("0.01")
    poll_interval_ms: Annotated[int, msgspec.Meta(ge=50)] = 1000
    discovery_interval_ms: Annotated[int, msgspec.Meta(ge=100)] = 5000
    timeout_ms: Annotated[int, msgspec.Meta(ge=100)] = 10_000
    private_key_env: str = "TURBINE_PRIVATE_KEY"
    api_key_id_env: str = "TURBINE_API_KEY_ID"
    api_private_key_env: str = "TURBINE_API_PRIVATE_KEY"
    check_funding: bool = True
    min_collateral: Decimal = Decimal(1)
    claims_file: str = "turbine-claims.jsonl"
    claim_retries: Annotated[int, msgspec.Meta(ge=0)] = 5
    claim_spacing_s: Annotated[float, msgspec.Meta(ge=0)] = 15.0  # the venue rate-limits claims
    rotation: RotationConfig = RotationConfig()

    def __post_init__(self) -> None:
        for key, url, schemes in (
            ("rest_url", self.rest_url, ("http", "https")),
            ("ws_url", self.ws_url, ("ws", "wss")),
        ):
            parts = urlsplit(url)
            if parts.scheme not in schemes or not parts.netloc:
                raise ConfigError(f"`{key}` must be a {' or '.join(schemes)} URL with a host, got {url!r}")
        if self.chain_id not in (137, 43114):
            raise ConfigError(f"`chain_id` must be 137 (Polygon) or 43114 (Avalanche), got {self.chain_id}")
        if not Decimal("0.000001") <= self.tick_size < 1 or self.tick_size % Decimal("0.000001") != 0:
            raise ConfigError(f"`tick_size` must be a multiple of 0.000001 below 1, got {self.tick_size}")
        if not 0 <= self.fee_rate < 1:
            raise ConfigError(f"`fee_rate` must be in [0, 1), got {self.fee_rate}")


def credentials(config: TurbineConfig, environ: Mapping[str, str] | None = None) -> Credentials:
    """The wallet key (required) and the API key pair (optional together: registered at connect)."""
    creds = Credentials.from_env(
        "Turbine",
        {
            "private_key": config.private_key_env,
            "api_key": config.api_key_id_env,
            "secret": config.api_private_key_env,
        },
        environ,
        optional=frozenset({"api_key", "secret"}),
    )
    if creds.has("api_key") != creds.has("secret"):
        raise ConfigError(
            f"incomplete Turbine API credentials: set both {config.api_key_id_env} and {config.api_private_key_env} "
            "(or neither, to register a key from the wallet)"
        )
    key = creds.get("private_key").removeprefix("0x")
    if len(key) != 64 or any(c not in "0123456789abcdefABCDEF" for c in key):
        raise ConfigError(f"{config.private_key_env} is not a 32-byte hex private key")
    return creds
