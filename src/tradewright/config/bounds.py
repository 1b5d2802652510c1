"""Bounded number types for config keys: a duration is a finite number of seconds in a sane range.

TOML can write ``inf`` and ``nan``; a ``reconcile.interval_s = inf`` would silently mean "never". Every
float-seconds key is one of these types, so such a value is refused at load, naming the key and the
allowed range (msgspec checks the bounds; NaN fails every comparison, infinity fails the upper bound).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["MAX_SECONDS", "Seconds", "SecondsOrZero"]

#: A week: longer than any interval or timeout a node or an emulator could mean.
MAX_SECONDS = 7 * 86_400.0

#: A duration in seconds, > 0 and at most `MAX_SECONDS`.
Seconds = Annotated[float, msgspec.Meta(gt=0, le=MAX_SECONDS)]
#: A duration in seconds where 0 means "off", at most `MAX_SECONDS`.
SecondsOrZero = Annotated[float, msgspec.Meta(ge=0, le=MAX_SECONDS)]
