"""API keys and operator accounts in the state store, and the fills history the API pages through.

The store keeps only hashes: `tradewright.api.credentials` makes the secrets, shows them once and
hashes them; the store never sees a secret. Reads are plain lookups by primary key (one indexed row).
"""

from __future__ import annotations

import msgspec
from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection

from tradewright.core.errors import StoreError
from tradewright.model.events import OrderFilled
from tradewright.store import codec
from tradewright.store.schema import api_keys, api_users, fills
from tradewright.store.transactions import Tx

__all__ = ["ApiKeyRecord", "UserRecord"]


class ApiKeyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A scoped API key: `secret_hash` is a salted digest of the secret, which is never stored."""

    key_id: str
    name: str
    role: str
    secret_hash: str
    created_ns: int
    expires_ns: int | None = None
    revoked_ns: int | None = None

    def usable(self, now_ns: int) -> bool:
        return self.revoked_ns is None and (self.expires_ns is None or now_ns < self.expires_ns)


class UserRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An operator account for the dashboard: `password_hash` is a salted scrypt hash."""

    username: str
    role: str
    password_hash: str
    created_ns: int
    updated_ns: int


def insert_key(tx: Tx, record: ApiKeyRecord) -> None:
    if tx.conn.execute(select(api_keys.c.key_id).where(api_keys.c.key_id == record.key_id)).first():
        raise StoreError(f"API key id {record.key_id} exists already")
    tx.write(api_keys.insert(), _fields(record))


def revoke_key(tx: Tx, key_id: str, ts_ns: int) -> bool:
    done = tx.write(
        update(api_keys).where(and_(api_keys.c.key_id == key_id, api_keys.c.revoked_ns.is_(None))),
        {"revoked_ns": ts_ns},
    )
    return done.rowcount == 1


def read_key(conn: Connection, key_id: str) -> ApiKeyRecord | None:
    row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
    return None if row is None else ApiKeyRecord(**row._asdict())


def read_keys(conn: Connection) -> list[ApiKeyRecord]:
    return [ApiKeyRecord(**r._asdict()) for r in conn.execute(select(api_keys).order_by(api_keys.c.created_ns))]


def upsert_user(tx: Tx, record: UserRecord) -> None:
    existing = tx.conn.execute(select(api_users.c.created_ns).where(api_users.c.username == record.username))
    created = existing.scalar()
    if created is None:
        tx.write(api_users.insert(), _fields(record))
    else:
        tx.write(
            update(api_users).where(api_users.c.username == record.username),
            {"role": record.role, "password_hash": record.password_hash, "updated_ns": record.updated_ns},
        )


def delete_user(tx: Tx, username: str) -> bool:
    return tx.write(delete(api_users).where(api_users.c.username == username)).rowcount == 1


def read_user(conn: Connection, username: str) -> UserRecord | None:
    row = conn.execute(select(api_users).where(api_users.c.username == username)).first()
    return None if row is None else UserRecord(**row._asdict())


def read_users(conn: Connection) -> list[UserRecord]:
    return [UserRecord(**r._asdict()) for r in conn.execute(select(api_users).order_by(api_users.c.username))]


def read_fills(
    conn: Connection, since_ns: int, strategy_id: str | None, limit: int, node_id: str
) -> list[OrderFilled]:
    """Node `node_id`'s fills with `ts_event >= since_ns` (one strategy's, if given), newest first, at most `limit`."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    query = select(fills.c.payload).where(and_(fills.c.node_id == node_id, fills.c.ts_event >= since_ns))
    if strategy_id is not None:
        query = query.where(fills.c.strategy_id == strategy_id)
    rows = conn.execute(query.order_by(fills.c.ts_event.desc(), fills.c.id.desc()).limit(limit))
    out: list[OrderFilled] = []
    for (payload,) in rows:
        event = codec.decode_event(payload)
        if not isinstance(event, OrderFilled):
            raise StoreError(f"fills row holds a {type(event).__name__}, not an OrderFilled")
        out.append(event)
    return out


def _fields(record: msgspec.Struct) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__struct_fields__}
