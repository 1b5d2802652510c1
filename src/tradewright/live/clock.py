"""A clock that replays recorded time at a multiple of wall-clock speed (defined in `tradewright.core.clock`,
which the emulator uses too; re-exported here for the paper node and existing imports)."""

from tradewright.core.clock import ScaledClock

__all__ = ["ScaledClock"]
