"""Turbine quick markets: discovery and rotation, Ed25519 bearer auth, EIP-712 orders with USDC
permits, positions seeded from the venue, resolution tracking and claims of winnings."""

__all__: list[str] = []
