"""The strategy API: the base class and the context it talks to."""

from tradewright.strategy.base import BookTrigger, Strategy
from tradewright.strategy.context import StrategyContext

__all__ = ["BookTrigger", "Strategy", "StrategyContext"]
