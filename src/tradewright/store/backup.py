"""Back up the state store to one portable file, and restore it, on SQLite and PostgreSQL alike.

The archive is gzip-compressed JSON lines: a header (format, schema revision, source backend), then one
line per row (`{"t": table, "r": [values]}`, tables in foreign-key order, rows in primary-key order), then
a trailer with each table's row count and SHA-256 over its row lines. A backup taken on one backend
restores on the other: money travels as exact decimal strings, never floats.

Restore is all or nothing. In one transaction it builds the archive's schema revision in an empty
database (Alembic), inserts every row, checks every count and hash against the trailer, moves
PostgreSQL's id sequences past the restored ids, and only then commits. A truncated or altered archive,
or a target that already holds a store, changes nothing. A backup of an older revision is restored at
that revision; run `tradewright db upgrade` afterwards.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Numeric, Table, func, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from tradewright.core.errors import StoreError
from tradewright.store.columns import canonical
from tradewright.store.engine import STORE_FAILURES, describe, store_error
from tradewright.store.migrate import alembic_config

__all__ = ["BackupSummary", "backup", "restore"]

FORMAT = "tradewright-store-backup"
VERSION = 1
_VERSION_TABLE = "alembic_version"
_BATCH = 1000


@dataclass(frozen=True, slots=True)
class BackupSummary:
    """What a backup or restore covered: the schema revision and each table's row count."""

    path: Path
    revision: str
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return {"d": format(canonical(value), "f")}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, float):
        # No store column is a float; refuse rather than carry one silently.
        raise StoreError(f"backup: a float value {value!r} found in the store (no column should hold one)")
    raise StoreError(f"backup: cannot encode a {type(value).__name__} value")


def _decode(value: Any, numeric: bool) -> Any:
    if isinstance(value, dict):
        if "d" in value:
            return Decimal(value["d"]) if numeric else value["d"]
        if "b" in value:
            return base64.b64decode(value["b"])
        raise StoreError(f"restore: unknown value encoding {sorted(value)}")
    if numeric and isinstance(value, str):
        return Decimal(value)
    if not numeric and isinstance(value, Decimal):
        return format(canonical(value), "f")
    return value


def _store_tables(conn: Connection) -> list[Table]:
    """The store's tables as the database has them, parents before children (Alembic's own excluded)."""
    reflected = MetaData()
    reflected.reflect(bind=conn)
    return [t for t in reflected.sorted_tables if t.name != _VERSION_TABLE]


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _row_line(table: str, encoded: list[Any]) -> bytes:
    """One row as it is written (and hashed): values already in their JSON encoding."""
    return json.dumps({"t": table, "r": encoded}, separators=(",", ":")).encode() + b"\n"


def backup(engine: Engine, path: str | Path) -> BackupSummary:
    """Write every table of the store to `path` (written to a temporary name, then renamed)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    rows: dict[str, int] = {}
    hashes: dict[str, str] = {}
    try:
        # One read transaction: the archive is a consistent snapshot even while a node writes.
        with engine.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            revision = _revision(conn)
            if revision is None:
                raise StoreError(f"{describe(engine)}: no store schema here, nothing to back up")
            tables = _store_tables(conn)
            header = {
                "format": FORMAT,
                "version": VERSION,
                "revision": revision,
                "backend": conn.dialect.name,
                "source": describe(engine),
                "created_ns": time.time_ns(),
                "tables": {t.name: [c.name for c in t.columns] for t in tables},
            }
            with open(tmp, "wb") as raw:
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
                    _write_tables(conn, tables, header, out, rows, hashes)
                raw.flush()
                os.fsync(raw.fileno())
        os.replace(tmp, path)
    except STORE_FAILURES as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StoreError(f"backup: cannot write {path}: {exc}") from None
        raise store_error(engine, "backup", exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BackupSummary(path, revision, rows)


def _write_tables(
    conn: Connection,
    tables: list[Table],
    header: dict[str, Any],
    out: Any,
    rows: dict[str, int],
    hashes: dict[str, str],
) -> None:
    """Write the header, every table's rows (primary-key order) and the trailer of counts and hashes."""
    out.write(json.dumps(header, separators=(",", ":")).encode() + b"\n")
    for table in tables:
        digest = hashlib.sha256()
        count = 0
        order = list(table.primary_key.columns) or list(table.columns)
        result = conn.execution_options(yield_per=_BATCH).execute(select(*table.columns).order_by(*order))
        for row in result:
            line = _row_line(table.name, [_encode(v) for v in row])
            digest.update(line)
            out.write(line)
            count += 1
        rows[table.name] = count
        hashes[table.name] = digest.hexdigest()
    trailer = {"trailer": True, "rows": rows, "sha256": hashes}
    out.write(json.dumps(trailer, separators=(",", ":")).encode() + b"\n")


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with gzip.open(path, "rb") as src:
            for number, raw in enumerate(src, start=1):
                try:
                    item = json.loads(raw)
                except ValueError:
                    raise StoreError(
                        f"restore: {path}: line {number} is not valid JSON (damaged archive)"
                    ) from None
                if not isinstance(item, dict):
                    raise StoreError(f"restore: {path}: line {number} is not an object (damaged archive)")
                yield item
    except (OSError, EOFError) as exc:
        raise StoreError(f"restore: cannot read {path}: {exc} (damaged or not a backup)") from None


def _check_header(path: Path, header: dict[str, Any]) -> str:
    if header.get("format") != FORMAT:
        raise StoreError(f"restore: {path} is not a tradewright store backup")
    if header.get("version") != VERSION:
        raise StoreError(
            f"restore: {path} is backup format {header.get('version')}, this version reads {VERSION}"
        )
    revision = header.get("revision")
    if not isinstance(revision, str):
        raise StoreError(f"restore: {path} names no schema revision")
    return revision


def _target_is_empty(conn: Connection, engine: Engine) -> None:
    if _revision(conn) is not None or set(inspect(conn).get_table_names()) - {_VERSION_TABLE}:
        raise StoreError(
            f"{describe(engine)}: the target already holds tables; restore only into an empty database "
            "(create a new one, or remove the old SQLite file), so nothing is overwritten by accident"
        )


def _reset_sequences(conn: Connection, tables: dict[str, Table]) -> None:
    """PostgreSQL: move each identity/serial sequence past the ids just inserted explicitly."""
    for table in tables.values():
        for column in table.primary_key.columns:
            seq = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            ).scalar()
            if seq is None:
                continue
            top = conn.execute(select(func.max(column))).scalar()
            if top is not None:
                conn.execute(text("SELECT setval(:s, :v)"), {"s": seq, "v": int(top)})


def restore(engine: Engine, path: str | Path) -> BackupSummary:
    """Restore `path` into the empty database behind `engine`, all or nothing."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"restore: no backup file at {path}")
    items = _lines(path)
    header = next(items, None)
    if header is None:
        raise StoreError(f"restore: {path} is empty")
    revision = _check_header(path, header)
    columns: dict[str, list[str]] = header.get("tables") or {}
    rows: dict[str, int] = dict.fromkeys(columns, 0)
    hashes = {name: hashlib.sha256() for name in columns}
    trailer: dict[str, Any] | None = None
    try:
        with engine.begin() as conn:
            _target_is_empty(conn, engine)
            command.upgrade(alembic_config(conn), revision)
            tables = {t.name: t for t in _store_tables(conn)}
            missing = set(columns) - set(tables)
            if missing:
                raise StoreError(f"restore: revision {revision} has no tables {sorted(missing)}")
            numeric = {
                name: [isinstance(tables[name].columns[c].type, Numeric) for c in cols]
                for name, cols in columns.items()
            }
            batch: list[dict[str, Any]] = []
            batch_table = ""

            def flush() -> None:
                if batch:
                    conn.execute(tables[batch_table].insert(), batch)
                    batch.clear()

            for item in items:
                if item.get("trailer"):
                    trailer = item
                    break
                name, values = item.get("t"), item.get("r")
                if name not in columns or not isinstance(values, list) or len(values) != len(columns[name]):
                    raise StoreError(
                        f"restore: {path}: a row does not match the header's tables (damaged archive)"
                    )
                hashes[name].update(_row_line(name, values))
                rows[name] += 1
                if name != batch_table:
                    flush()
                    batch_table = name
                kinds = numeric[name]
                batch.append(
                    {
                        c: _decode(v, kinds[i])
                        for i, (c, v) in enumerate(zip(columns[name], values, strict=True))
                    }
                )
                if len(batch) >= _BATCH:
                    flush()
            flush()
            if trailer is None or next(items, None) is not None:
                raise StoreError(
                    f"restore: {path} has no trailer or data after it (truncated or damaged archive)"
                )
            for name in columns:
                expected_rows = (trailer.get("rows") or {}).get(name)
                expected_hash = (trailer.get("sha256") or {}).get(name)
                if expected_rows != rows[name] or expected_hash != hashes[name].hexdigest():
                    raise StoreError(
                        f"restore: table {name}: {rows[name]} rows read, the archive says {expected_rows}; "
                        "or its contents differ from its checksum (damaged archive); nothing was restored"
                    )
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn, tables)
    except STORE_FAILURES as exc:
        raise store_error(engine, f"restore of {path}", exc) from exc
    return BackupSummary(path, revision, rows)
