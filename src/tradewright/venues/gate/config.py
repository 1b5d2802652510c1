"""The `[venues.<name>]` table for Gate (`kind = "gate"`); keys come from the environment only."""

from __future__ import annotations

from tradewright.venues._ccxt.config import CcxtVenueConfig

__all__ = ["GateConfig"]


class GateConfig(
    CcxtVenueConfig, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="kind", tag="gate"
):
    """Gate v4 USDT-settled perpetual futures. `symbols` are Gate contract names (``BTC_USDT``); the API
    key and secret, and the account's user id (Gate's futures user stream is addressed by it), are read
    from the variables named here."""

    market: str = "swap"
    api_key_env: str = "GATE_API_KEY"
    api_secret_env: str = "GATE_API_SECRET"
    uid_env: str = "GATE_UID"
