"""The plain-Python ladder (a live node's book) and its numba-compiled twin (the replay path) agree
on every result and leave identical arrays behind, for any sequence of level updates."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewright.model import _ladder as plain
from tradewright.model import _ladder_jit as compiled

CAP = 64
_updates = st.lists(
    st.tuples(st.sampled_from([1, -1]), st.integers(-8, CAP + 8), st.integers(0, 4)),
    min_size=1,
    max_size=200,
)


def _ladder(base: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.zeros(CAP, dtype=np.int64),
        np.zeros(CAP, dtype=np.int64),
        np.array([base, -1, -1, CAP], dtype=np.int64),
    )


@settings(max_examples=300, deadline=None)
@given(updates=_updates, base=st.integers(0, 1_000))
def test_compiled_ladder_set_matches_the_plain_python_one(
    updates: list[tuple[int, int, int]], base: int
) -> None:
    a, b = _ladder(base), _ladder(base)
    for side, offset, lots in updates:
        tick = base + offset
        assert plain.ladder_set(*a, side, tick, lots) == compiled.ladder_set(*b, side, tick, lots)
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@settings(max_examples=200, deadline=None)
@given(updates=_updates, depth_n=st.integers(0, 20), want=st.integers(0, 30))
def test_compiled_depth_batch_and_cost_match_the_plain_python_ones(
    updates: list[tuple[int, int, int]], depth_n: int, want: int
) -> None:
    sides = np.array([u[0] for u in updates], dtype=np.int64)
    ticks = np.array([u[1] for u in updates], dtype=np.int64)
    lots = np.array([u[2] for u in updates], dtype=np.int64)
    a, b = _ladder(0), _ladder(0)
    # A batch stops at the first row outside the ladder: both report the same row, leave the same state.
    k_plain = plain.ladder_set_many(*a, sides, ticks, lots, 0, len(ticks))
    k_compiled = compiled.ladder_set_many(*b, sides, ticks, lots, 0, len(ticks))
    assert k_plain == k_compiled
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    for side in (1, -1):
        levels_a = a[0] if side > 0 else a[1]
        levels_b = b[0] if side > 0 else b[1]
        ta, qa = plain.ladder_depth(levels_a, a[2], side, depth_n)
        tb, qb = compiled.ladder_depth(levels_b, b[2], side, depth_n)
        assert ta.tolist() == tb.tolist() and qa.tolist() == qb.tolist()
        assert plain.ladder_cost_to_fill(levels_a, a[2], side, want) == compiled.ladder_cost_to_fill(
            levels_b, b[2], side, want
        )
