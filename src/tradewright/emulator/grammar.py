"""Binance's grammar for numeric request parameters, applied exactly.

Binance names the legal forms in its -1100 message: integers ``^[0-9]{1,20}$`` and decimals
``^([0-9]{1,20})(\\.[0-9]{1,20})?$``. Python's `int()` and `Decimal()` are far more lenient (``+5``,
``1_000``, `` 7``, ``7\\n``, Arabic-Indic digits, ``1e5``, ``NaN``), so every number is matched against
these patterns in full before it is converted; an integer must also fit a signed 64-bit long.
"""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal
from typing import Any

from tradewright.emulator.errors import VenueErrors

__all__ = ["DECIMAL_RANGE", "INT_RANGE", "MAX_JSON_DEPTH", "json_value", "parse_decimal", "parse_int"]

INT_RANGE = "^[0-9]{1,20}$"
DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
_INT = re.compile(r"[0-9]{1,20}", re.ASCII)
_DECIMAL = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?", re.ASCII)
_LONG_MAX = 2**63 - 1
MAX_JSON_DEPTH = 16  # Binance's requests nest 3 levels at most (batchOrders: a list of objects)
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def parse_int(text: str, name: str, errors: VenueErrors) -> int:
    """An integer parameter, or -1100 naming it and the legal range."""
    if not _INT.fullmatch(text) or int(text) > _LONG_MAX:
        raise errors.illegal_chars(name, INT_RANGE)
    return int(text)


def parse_decimal(text: str, name: str, errors: VenueErrors) -> Decimal:
    """A decimal parameter, or -1100 naming it and the legal range."""
    if not _DECIMAL.fullmatch(text):
        raise errors.illegal_chars(name, DECIMAL_RANGE)
    return Decimal(text)


def json_value(text: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON whose nesting is at most `max_depth` and whose objects repeat no key; raise ValueError
    otherwise (never RecursionError)."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    steps = (1 if c in "[{" else -1 for c in brackets)
    if max(itertools.accumulate(steps, initial=0)) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:  # cannot happen below the depth limit; kept as a last guard
        raise ValueError("JSON nested too deeply") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different: ``{"quantity": "0.002", "quantity": "5"}`` is refused (a
    parser would keep the last one, as with a parameter sent twice)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("a key is sent twice")
    return obj
