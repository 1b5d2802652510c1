"""Exact text for the wire: decimals written without exponents, JSON written compactly."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "num"]


def num(value: Decimal | int | None, empty: str = "") -> str:
    """A decimal as plain text (``0.00001``, never ``1E-5``; trailing zeros dropped); `empty` for None."""
    if value is None:
        return empty
    if isinstance(value, int):
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))
