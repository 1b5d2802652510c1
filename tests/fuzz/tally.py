"""Count what a fuzzed boundary did with each message: accepted, refused (by reason), or crashed.

A "crash" is any exception the boundary does not promise (anything but its documented error type, e.g.
`VenueError` for the live decoders, `DataError` for file loaders) or, over the wire, a 5xx answer, a
non-JSON answer or a dropped connection. The counts of every run are printed at the end of the session
(see conftest.py) and the test fails on the first crash, showing the message that caused it.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["RESULTS", "Tally", "reason_of"]

_REASONS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in [
        ("nested_too_deep", r"nested|too deep|recursion"),
        (
            "not_finite_or_too_large",
            r"not a finite|finite number|out of range|must be finite|beyond|too large|<= \d",
        ),
        ("negative_or_zero", r"negative|must be > 0|price and size must be > 0|priced <= 0"),
        ("wrong_type", r"Expected `|expected|must be a number|not a number|true or false|not text"),
        ("missing_field", r"missing required field|without|mandatory"),
        ("off_grid", r"grid|tick|lot size|multiple of"),
        ("bad_enum", r"unknown side|unknown order status|invalid enum|event is"),
        ("book_shape", r"crossed|price order|from the mid|bids and asks"),
        ("unicode", r"utf-8|unicode|surrogate|illegal characters"),
    ]
]


def reason_of(message: str) -> str:
    """A short reason for a refusal, from its message (for the counts only)."""
    head = message[:160]  # the reason comes first; the rest is the message's excerpt
    for name, pattern in _REASONS:
        if pattern.search(head):
            return name
    return "other"


@dataclass
class Tally:
    """What one fuzzed boundary did with its messages."""

    target: str
    messages: int = 0
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0

    def ok(self) -> None:
        self.messages += 1
        self.accepted += 1

    def refuse(self, reason: str) -> None:
        self.messages += 1
        self.refused[reason] += 1

    def crash(self, what: str) -> None:
        self.messages += 1
        self.crashes.append(what[:2000])

    def done(self) -> Tally:
        self.seconds = time.perf_counter() - self.started
        RESULTS.append(self)
        return self

    def line(self) -> str:
        reasons = ", ".join(f"{k} {v:,}" for k, v in self.refused.most_common())
        return (
            f"{self.target}: {self.messages:,} messages in {self.seconds:.1f} s — {self.accepted:,} accepted, "
            f"{sum(self.refused.values()):,} refused ({reasons or 'none'}), {len(self.crashes)} uncaught"
        )


#: Every tally of this session, printed by conftest.py's terminal summary.
RESULTS: list[Tally] = []
