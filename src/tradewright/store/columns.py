"""Column types that keep money exact on both backends.

`ExactDecimal` is PostgreSQL `NUMERIC` (no precision or scale: arbitrary precision, exact) and SQLite
`TEXT` holding the decimal in plain notation. SQLite has no exact decimal type: its `NUMERIC`/`REAL`
affinities would turn 0.1 into a binary float, so a text column is the only lossless choice that still
reads well in the sqlite3 shell (a scaled integer would need one fixed scale for every instrument, and
64 bits overflow at 18 digits).

Round trip: the value always comes back equal (`==`) and with the same scale. Both backends store
plain notation, so a positive exponent comes back written out (`Decimal("1E+2")` → `Decimal("100")`)
and negative zero comes back as zero — exactly what PostgreSQL `NUMERIC` does, so both backends
return identical `Decimal`s. `canonical` computes that form.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, Numeric, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["ID_TYPE", "ExactDecimal", "canonical"]

# Surrogate keys: BIGINT on PostgreSQL; on SQLite only "INTEGER PRIMARY KEY" is an alias of the
# rowid (and so auto-assigned), and it is 64-bit there anyway.
ID_TYPE: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")


def canonical(value: Decimal) -> Decimal:
    """Return the form in which the store gives `value` back: plain notation, no negative zero."""
    if not value.is_finite():
        raise ValueError(f"money must be finite, got {value}")
    if value.is_zero() and value.is_signed():
        value = value.copy_abs()
    if value.as_tuple().exponent > 0:  # type: ignore[operator]  # an int for finite values
        value = Decimal(format(value, "f"))  # exact at any length, unlike quantize (context precision)
    return value


def _plain(value: Decimal) -> str:
    return format(canonical(value), "f")


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, plain-notation TEXT on SQLite. Never a float."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            # An int would be exact, but a float must never reach a money column by accident.
            raise TypeError(f"money columns take Decimal, got {type(value).__name__} {value!r}")
        if dialect.name == "postgresql":
            return canonical(value)
        return _plain(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        if isinstance(value, str):
            return Decimal(value)
        raise TypeError(f"money column holds a {type(value).__name__} ({value!r}), not an exact decimal")
