"""Parameter grids for sweeps: `--grid KEY=SPEC` parsed into axes, expanded into points, or turned into an
Optuna search space.

SPEC is a comma-separated list of values, each read as a TOML value as `--set` reads it (``0,1,2``,
``"0.002","0.003"``, ``true,false``; a bare word is a string), or a range ``LO..HI`` with an optional step
``LO..HI:STEP``. A grid expands an integer range to every integer (or every STEP) from LO to HI
inclusive, a decimal range needs a STEP; under `--optuna` a range is searched continuously (integers
stay integers, a STEP keeps decimals on their grid) and a list is a set of choices.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tradewright.core.errors import ConfigError

__all__ = ["GridAxis", "expand_grid", "parse_axis", "parse_value", "trial_id"]

_RANGE = re.compile(
    r"^\s*(?P<lo>[-+]?[0-9][0-9_.eE+-]*)\s*\.\.\s*(?P<hi>[-+]?[0-9][0-9_.eE+-]*)\s*(:\s*(?P<step>[0-9][0-9_.eE+-]*))?\s*$"
)
_KEY = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
# Keys a sweep cannot vary: where the data and the outputs come from belongs to the sweep itself.
_FORBIDDEN_PREFIXES = ("data.", "run.output_dir", "run.name")


@dataclass(frozen=True, slots=True)
class GridAxis:
    """One `--grid` option: either `values` (choices) or a range `low..high` (with `step`, maybe)."""

    key: str
    text: str
    values: tuple[Any, ...] = ()
    low: Decimal | None = None
    high: Decimal | None = None
    step: Decimal | None = None
    integer: bool = False

    @property
    def is_range(self) -> bool:
        return self.low is not None

    def points(self) -> tuple[Any, ...]:
        """Every value of this axis in a grid (a decimal range without a step has none: it is refused)."""
        if not self.is_range:
            return self.values
        assert self.low is not None and self.high is not None
        if self.step is None and not self.integer:
            raise ConfigError(
                f"--grid {self.text}: a decimal range needs a step in a grid (LO..HI:STEP), or use --optuna"
            )
        step = self.step if self.step is not None else Decimal(1)
        out: list[Any] = []
        value = self.low
        while value <= self.high:
            out.append(int(value) if self.integer else float(value))
            value += step
        return tuple(out)

    def endpoints(self) -> tuple[Any, ...]:
        """The values that bound the axis: a range's low and high, or every choice."""
        if not self.is_range:
            return self.values
        assert self.low is not None and self.high is not None
        if self.integer:
            return (int(self.low), int(self.high))
        return (float(self.low), float(self.high))

    def snap(self, value: Any) -> Any:
        """Put a value suggested by a search back on this axis's grid (integers, or STEP's decimals)."""
        if not self.is_range:
            return value
        if self.integer:
            return round(float(value))
        places = _decimals(self.step) if self.step is not None else None
        if places is None:
            return float(value)
        assert self.low is not None
        places = max(places, _decimals(self.low))
        return float(round(Decimal(repr(float(value))), places))


def parse_axis(text: str) -> GridAxis:
    """Parse one `--grid KEY=SPEC`; the error quotes the option."""
    key, eq, spec = text.partition("=")
    key = key.strip()
    if not eq or not key or not spec.strip():
        raise ConfigError(f"--grid expects KEY=VALUES or KEY=LO..HI, got {text!r}")
    if _KEY.fullmatch(key) is None:
        raise ConfigError(
            f"--grid {text}: {key!r} is not a dotted config key such as strategy.params.offset_ticks"
        )
    if key.startswith(_FORBIDDEN_PREFIXES) or key in ("data", "run"):
        raise ConfigError(
            f"--grid {text}: {key} cannot be swept (the sweep chooses the data and the output folders; "
            "walk-forward windows are `tradewright walkforward`)"
        )
    match = _RANGE.fullmatch(spec)
    if match is not None:
        return _range_axis(key, text, match)
    values = tuple(parse_value(item) for item in _split(spec, text))
    if not values:
        raise ConfigError(f"--grid {text}: no values")
    seen: set[str] = set()
    for value in values:
        canonical = _canonical(value)
        if canonical in seen:
            raise ConfigError(f"--grid {text}: the value {value!r} appears twice")
        seen.add(canonical)
    return GridAxis(key=key, text=text, values=values)


def parse_value(raw: str) -> Any:
    """Read a value as `--set` does: as TOML (``2``, ``0.5``, ``"text"``, ``[1, 2]``), else as the bare string."""
    raw = raw.strip()
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def expand_grid(axes: Sequence[GridAxis]) -> list[dict[str, Any]]:
    """Every combination of the axes' points, the first axis varying slowest."""
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ConfigError(f"--grid names {dup} more than once")
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(a.points() for a in axes))]


def trial_id(params: dict[str, Any]) -> str:
    """A short stable id of one parameter point (the same point always gets the same id)."""
    return hashlib.sha256(_canonical(params).encode()).hexdigest()[:12]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _range_axis(key: str, text: str, match: re.Match[str]) -> GridAxis:
    try:
        low, high = Decimal(match["lo"]), Decimal(match["hi"])
        step = None if match["step"] is None else Decimal(match["step"])
    except InvalidOperation:
        raise ConfigError(f"--grid {text}: the range bounds must be numbers") from None
    if not (low.is_finite() and high.is_finite()) or low > high:
        raise ConfigError(f"--grid {text}: a range needs LO <= HI")
    if step is not None and not (step.is_finite() and step > 0):
        raise ConfigError(f"--grid {text}: the step must be > 0")
    integer = all(_is_int_text(t) for t in (match["lo"], match["hi"])) and (
        match["step"] is None or _is_int_text(match["step"])
    )
    return GridAxis(key=key, text=text, low=low, high=high, step=step, integer=integer)


def _is_int_text(text: str) -> bool:
    return re.fullmatch(r"[-+]?[0-9_]+", text) is not None


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _split(spec: str, text: str) -> list[str]:
    """Split on commas outside quotes and brackets."""
    parts: list[str] = []
    depth = 0
    quote = ""
    current: list[str] = []
    escaped = False
    for ch in spec:
        if quote:
            current.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    if quote or depth:
        raise ConfigError(f"--grid {text}: unbalanced quotes or brackets")
    parts.append("".join(current))
    if any(not p.strip() for p in parts):
        raise ConfigError(f"--grid {text}: an empty value between commas")
    return parts
