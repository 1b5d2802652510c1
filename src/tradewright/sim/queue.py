"""Queue-position models for passive orders on L2 data.

An L2 feed shows a level's total size, not who is in it. When our (virtual) order joins a level, the
size already there is ahead of us (`front`). Trades at our price consume `front` first; what trades
beyond it fills us. When a level shrinks without a trade (cancellations), a queue model decides how
much of the shrink was ahead of us:

* `ConservativeQueue`: none of it, unless the level became smaller than our front (then front = level).
  Our order advances only through trades. The pessimistic bound.
* `PowerProbQueue(n)`: a cancellation comes from behind us with probability back^n / (back^n + front^n),
  so cancellations near the front advance us more when we are near the back (n = 2 or 3 are common).
* `LogProbQueue`: the same with f(x) = log(1 + x).

The built-in models run inside the compiled replay loop. A custom model (any object with
`on_level_decrease`) also works; the loop then stops at every shrink of a level we are in and calls it.
Trade volume already subtracted from `front` since the last level update is not subtracted again
(`cum_trade` below), so a trade followed by the matching depth update is not counted twice.
"""

from __future__ import annotations

import math
from typing import Protocol

from numba import njit

__all__ = [
    "QUEUE_CONSERVATIVE",
    "QUEUE_CUSTOM",
    "QUEUE_LOG",
    "QUEUE_POWER",
    "ConservativeQueue",
    "LogProbQueue",
    "PowerProbQueue",
    "QueueModel",
    "queue_after_decrease",
    "queue_model_from_config",
]

QUEUE_CONSERVATIVE = 0
QUEUE_POWER = 1
QUEUE_LOG = 2
QUEUE_CUSTOM = -1


class QueueModel(Protocol):
    """Estimate the size ahead of our order after its level shrank without a trade."""

    code: int
    param: float

    def on_level_decrease(
        self, front: float, prev_level: float, new_level: float, cum_trade: float
    ) -> float: ...


@njit(cache=True, nogil=True)
def queue_after_decrease(
    code: int, param: float, front: float, prev_level: float, new_level: float, cum_trade: float
) -> float:
    """Compiled built-in models (see the module docstring). Returns the new front, within [0, new_level]."""
    change = prev_level - new_level - cum_trade  # shrink not already explained by trades
    if code == QUEUE_CONSERVATIVE or change <= 0.0:
        est = front
    else:
        back = prev_level - front
        if back < 0.0:
            back = 0.0
        if code == QUEUE_POWER:
            fb = back**param
            ff = front**param
        else:
            fb = math.log(1.0 + back)
            ff = math.log(1.0 + front)
        prob_back = fb / (fb + ff) if fb + ff > 0.0 else 1.0
        est = front - (1.0 - prob_back) * change
        if (
            back - prob_back * change < 0.0
        ):  # more cancelled "behind" than was there: the rest came from the front
            est += back - prob_back * change
    if est > new_level:
        est = new_level
    if est < 0.0:
        est = 0.0
    return est


class _Builtin:
    code: int = QUEUE_CONSERVATIVE
    param: float = 0.0

    def on_level_decrease(self, front: float, prev_level: float, new_level: float, cum_trade: float) -> float:
        result: float = queue_after_decrease(self.code, self.param, front, prev_level, new_level, cum_trade)
        return result

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.param})" if self.param else f"{type(self).__name__}()"


class ConservativeQueue(_Builtin):
    code = QUEUE_CONSERVATIVE


class PowerProbQueue(_Builtin):
    code = QUEUE_POWER

    def __init__(self, n: float = 2.0) -> None:
        if not n > 0:
            raise ValueError(f"PowerProbQueue: n must be > 0, got {n}")
        self.param = float(n)


class LogProbQueue(_Builtin):
    code = QUEUE_LOG


def queue_model_from_config(name: str, param: float | None = None) -> QueueModel:
    """Build a built-in model by name: 'conservative', 'power' (param n, default 2) or 'log'."""
    if name == "conservative":
        return ConservativeQueue()
    if name == "power":
        return PowerProbQueue(2.0 if param is None else param)
    if name == "log":
        return LogProbQueue()
    raise ValueError(f"unknown queue model {name!r}; choose conservative, power or log")
