"""Crash hooks for the crash-safety tests: kill the node at an exact point of its work.

`TRADEWRIGHT_CRASH_AT=POINT:N[,POINT:N...]` makes the node call `os._exit(137)` (as abrupt as SIGKILL:
no cleanup, no flush) the N-th time it reaches POINT. Unset, a hook costs one dict lookup.

Points:
  after_intent_commit   an order's intent is durable and it has not been sent
  after_send            the venue accepted the order, and its answer is not recorded yet
  fill_received         a fill arrived from the venue and is not recorded yet
  after_fill_commit     a fill is durable and memory has not applied it yet
  after_cancel_commit   a cancel request is durable and it has not been sent
  workflow_step_committed  a multi-leg workflow's step is durable and not acted on (engine/executor.py)
  workflow_step_acted      the order of a recorded workflow step went to the kernel; nothing newer recorded
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from tradewright.core.errors import ConfigError

__all__ = ["CRASH_ENV", "POINTS", "CrashHooks"]

CRASH_ENV = "TRADEWRIGHT_CRASH_AT"
POINTS = (
    "after_intent_commit",
    "after_send",
    "fill_received",
    "after_fill_commit",
    "after_cancel_commit",
    "workflow_step_committed",
    "workflow_step_acted",
)
EXIT_CODE = 137  # what a shell reports for SIGKILL


class CrashHooks:
    """Count the points reached; exit at the configured one."""

    __slots__ = ("_seen", "_targets")

    def __init__(self, spec: str = "") -> None:
        self._targets: dict[str, int] = {}
        self._seen: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            point, colon, count = item.partition(":")
            if point not in POINTS or not colon or not count.isdigit() or int(count) < 1:
                raise ConfigError(
                    f"{CRASH_ENV}: {item!r} is not POINT:N with N >= 1 and POINT one of {', '.join(POINTS)}"
                )
            self._targets[point] = int(count)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CrashHooks:
        env = os.environ if environ is None else environ
        return cls(env.get(CRASH_ENV, ""))

    @property
    def armed(self) -> bool:
        return bool(self._targets)

    def reached(self, point: str) -> None:
        """Note that `point` was reached; exit the process if this is the configured time."""
        target = self._targets.get(point)
        if target is None:
            return
        seen = self._seen.get(point, 0) + 1
        self._seen[point] = seen
        if seen == target:
            sys.stderr.write(f"tradewright: crash hook {point}:{target} reached, exiting with {EXIT_CODE}\n")
            sys.stderr.flush()
            os._exit(EXIT_CODE)
