"""Turbine quick markets: discovery and rotation, Ed25519 bearer auth, EIP-712 orders with USDC
permits, positions seeded from the venue, resolution tracking and claims of winnings.

The venue package's face for the registry: `CONFIG_TYPES`, `credentials`, `connect`, `list_markets`.
"""

import tradewright.venues._common.eth  # noqa: F401  (first: keeps the recursion limit; see that module)
from tradewright.venues.turbine.claims import ClaimAudit, ClaimRecord, claim_winnings, claimable_markets
from tradewright.venues.turbine.config import TurbineConfig
from tradewright.venues.turbine.execution import CAPABILITIES, TurbineExecution
from tradewright.venues.turbine.factory import (
    CONFIG_TYPES,
    TurbineVenue,
    connect,
    credentials,
    discover,
    list_markets,
)
from tradewright.venues.turbine.rotation import Action, ActionKind, QuickMarket, Rotation, RotationConfig

__all__ = [
    "CAPABILITIES",
    "CONFIG_TYPES",
    "Action",
    "ActionKind",
    "ClaimAudit",
    "ClaimRecord",
    "QuickMarket",
    "Rotation",
    "RotationConfig",
    "TurbineConfig",
    "TurbineExecution",
    "TurbineVenue",
    "claim_winnings",
    "claimable_markets",
    "connect",
    "credentials",
    "discover",
    "list_markets",
]
