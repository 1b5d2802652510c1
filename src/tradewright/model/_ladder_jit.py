"""The ladder functions of `tradewright.model._ladder`, compiled with numba for the replay path.

Only code that replays recorded data imports this module (the backtest loop, the simulated venue's
row handler, data verification): a live node never does, so it never loads numba. Importing it also
installs the compiled functions as the kernels every `OrderBook` in the process uses (`KERNELS`).

numba compiles lazily, on the first call with a given signature, and caches the machine code beside
`_ladder.py` (`cache=True`), so a process pays only for the paths it actually runs.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from numba import njit

from tradewright.model import _ladder

__all__ = ["OK", "OUT_OF_RANGE", "ladder_cost_to_fill", "ladder_depth", "ladder_set", "ladder_set_many"]

OK = _ladder.OK
OUT_OF_RANGE = _ladder.OUT_OF_RANGE


def _compile(func: Callable[..., Any], **globals_: Any) -> Any:
    """Compile a plain function from `_ladder`; `globals_` replace the plain callees it refers to with
    their compiled versions (numba resolves a function's globals when it compiles it)."""
    if globals_:
        func = types.FunctionType(
            func.__code__,
            {**func.__globals__, **globals_},
            func.__name__,
            func.__defaults__,
            func.__closure__,
        )
        func.__qualname__ = func.__name__
    return njit(cache=True, nogil=True)(func)


ladder_set = _compile(_ladder.ladder_set)
ladder_set_many = _compile(_ladder.ladder_set_many, ladder_set=ladder_set)
ladder_depth = _compile(_ladder.ladder_depth)
ladder_cost_to_fill = _compile(_ladder.ladder_cost_to_fill)

_ladder.KERNELS.install(ladder_set, ladder_set_many, ladder_depth, ladder_cost_to_fill)
