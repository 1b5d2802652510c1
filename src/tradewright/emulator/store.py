"""The emulator's durable state: one SQLite file (WAL) with orders, fills, balances, positions, id counters
and the replay position. Each change is committed in one transaction before the emulator answers or
publishes it, so after a kill -9 a restart finds exactly what clients were told.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from tradewright.core.errors import StoreError
from tradewright.emulator.keyhash import hash_secret
from tradewright.emulator.ledger import Account, FuturesPosition, SpotBalance
from tradewright.emulator.records import EmFill, EmOrder

__all__ = ["StateStore"]

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    api_key TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, leverage INTEGER NOT NULL, update_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS balances (
    api_key TEXT NOT NULL, asset TEXT NOT NULL, free TEXT NOT NULL, locked TEXT NOT NULL,
    PRIMARY KEY (api_key, asset));
CREATE TABLE IF NOT EXISTS wallets (
    api_key TEXT NOT NULL, asset TEXT NOT NULL, balance TEXT NOT NULL, PRIMARY KEY (api_key, asset));
CREATE TABLE IF NOT EXISTS positions (
    api_key TEXT NOT NULL, symbol TEXT NOT NULL, amount TEXT NOT NULL, entry_price TEXT NOT NULL,
    realized TEXT NOT NULL, open_fees TEXT NOT NULL, update_ms INTEGER NOT NULL,
    PRIMARY KEY (api_key, symbol));
CREATE TABLE IF NOT EXISTS orders (
    order_id INTEGER PRIMARY KEY, api_key TEXT NOT NULL, symbol TEXT NOT NULL, client_order_id TEXT NOT NULL,
    side TEXT NOT NULL, type TEXT NOT NULL, tif TEXT NOT NULL, price TEXT NOT NULL, orig_qty TEXT NOT NULL,
    executed_qty TEXT NOT NULL, cum_quote TEXT NOT NULL, status TEXT NOT NULL, time_ms INTEGER NOT NULL,
    update_ms INTEGER NOT NULL, reduce_only INTEGER NOT NULL, locked TEXT NOT NULL, queue_ahead REAL,
    cancel_client_id TEXT NOT NULL, expiry_reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fills (
    trade_id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, api_key TEXT NOT NULL, symbol TEXT NOT NULL,
    side TEXT NOT NULL, price TEXT NOT NULL, qty TEXT NOT NULL, quote_qty TEXT NOT NULL,
    commission TEXT NOT NULL, commission_asset TEXT NOT NULL, realized_pnl TEXT NOT NULL,
    time_ms INTEGER NOT NULL, is_maker INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS listen_keys (
    listen_key TEXT PRIMARY KEY, api_key TEXT NOT NULL, keepalive_ms INTEGER NOT NULL);
"""


class StateStore:
    """Read and write the emulator's state file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash (kill -9)
            self._db.execute("PRAGMA secure_delete=ON")  # what is deleted (an old secret) is overwritten
            self._hash_plain_secrets()
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open emulator state {path}: {exc}") from None

    def _hash_plain_secrets(self) -> None:
        """State files from before secrets were hashed kept them in plain text: hash them and wipe the
        plain text from the file (secure_delete, then a checkpoint that truncates the write-ahead log)."""
        db = self._db
        columns = [row[1] for row in db.execute("PRAGMA table_info(accounts)")]
        if "secret" not in columns:
            return
        rows = db.execute("SELECT api_key, secret, leverage, update_ms FROM accounts").fetchall()
        db.execute("BEGIN IMMEDIATE")
        db.execute("DROP TABLE accounts")
        db.execute(
            "CREATE TABLE accounts (api_key TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, "
            "leverage INTEGER NOT NULL, update_ms INTEGER NOT NULL)"
        )
        db.executemany(
            "INSERT INTO accounts VALUES (?, ?, ?, ?)",
            [(key, hash_secret(secret), leverage, ms) for key, secret, leverage, ms in rows],
        )
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self._db.close()

    # --- reading ---------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def accounts(self) -> dict[str, Account]:
        found: dict[str, Account] = {}
        for key, secret_hash, leverage, update_ms in self._db.execute("SELECT * FROM accounts"):
            found[key] = Account(
                key, None, leverage=leverage, update_ms=update_ms, dirty=False, secret_hash=secret_hash
            )
        for key, asset, free, locked in self._db.execute("SELECT * FROM balances"):
            found[key].balances[asset] = SpotBalance(Decimal(free), Decimal(locked))
        for key, asset, balance in self._db.execute("SELECT * FROM wallets"):
            found[key].wallet[asset] = Decimal(balance)
        for row in self._db.execute("SELECT * FROM positions"):
            key, symbol, amount, entry, realized, open_fees, update_ms = row
            found[key].positions[symbol] = FuturesPosition(
                Decimal(amount), Decimal(entry), Decimal(realized), Decimal(open_fees), update_ms
            )
        return found

    def orders(self) -> list[EmOrder]:
        rows = self._db.execute("SELECT * FROM orders ORDER BY order_id").fetchall()
        return [
            EmOrder(
                order_id=r[0],
                api_key=r[1],
                symbol=r[2],
                client_order_id=r[3],
                side=r[4],
                type=r[5],
                tif=r[6],
                price=Decimal(r[7]),
                orig_qty=Decimal(r[8]),
                executed_qty=Decimal(r[9]),
                cum_quote=Decimal(r[10]),
                status=r[11],
                time_ms=r[12],
                update_ms=r[13],
                reduce_only=bool(r[14]),
                locked=Decimal(r[15]),
                queue_ahead=r[16],
                cancel_client_id=r[17],
                expiry_reason=r[18],
                dirty=False,
            )
            for r in rows
        ]

    def fills(self) -> list[EmFill]:
        rows = self._db.execute("SELECT * FROM fills ORDER BY trade_id").fetchall()
        return [
            EmFill(
                trade_id=r[0],
                order_id=r[1],
                api_key=r[2],
                symbol=r[3],
                side=r[4],
                price=Decimal(r[5]),
                qty=Decimal(r[6]),
                quote_qty=Decimal(r[7]),
                commission=Decimal(r[8]),
                commission_asset=r[9],
                realized_pnl=Decimal(r[10]),
                time_ms=r[11],
                is_maker=bool(r[12]),
            )
            for r in rows
        ]

    def listen_keys(self) -> dict[str, tuple[str, int]]:
        return {k: (a, t) for k, a, t in self._db.execute("SELECT * FROM listen_keys")}

    # --- writing ---------------------------------------------------------------------------------
    def commit(
        self,
        meta: dict[str, str],
        accounts: Iterable[Account] = (),
        orders: Iterable[EmOrder] = (),
        fills: Iterable[EmFill] = (),
        listen_keys: dict[str, tuple[str, int] | None] | None = None,
        deleted_orders: Iterable[int] = (),
    ) -> None:
        """Write everything given in one transaction (a listen key mapped to None is deleted)."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(meta.items()))
            for acc in accounts:
                self._write_account(acc)
            db.executemany(
                "INSERT OR REPLACE INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [_order_row(o) for o in orders],
            )
            db.executemany("DELETE FROM orders WHERE order_id = ?", [(i,) for i in deleted_orders])
            db.executemany(
                "INSERT OR REPLACE INTO fills VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [_fill_row(f) for f in fills],
            )
            for key, value in (listen_keys or {}).items():
                if value is None:
                    db.execute("DELETE FROM listen_keys WHERE listen_key = ?", (key,))
                else:
                    db.execute("INSERT OR REPLACE INTO listen_keys VALUES (?, ?, ?)", (key, *value))
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"cannot commit emulator state to {self.path}: {exc}") from None

    def _write_account(self, acc: Account) -> None:
        db = self._db
        db.execute(
            "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?)",
            (acc.api_key, acc.secret_hash, acc.leverage, acc.update_ms),
        )
        db.executemany(
            "INSERT OR REPLACE INTO balances VALUES (?, ?, ?, ?)",
            [(acc.api_key, a, str(b.free), str(b.locked)) for a, b in acc.balances.items()],
        )
        db.executemany(
            "INSERT OR REPLACE INTO wallets VALUES (?, ?, ?)",
            [(acc.api_key, a, str(v)) for a, v in acc.wallet.items()],
        )
        db.executemany(
            "INSERT OR REPLACE INTO positions VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    acc.api_key,
                    s,
                    str(p.amount),
                    str(p.entry_price),
                    str(p.realized),
                    str(p.open_fees),
                    p.update_ms,
                )
                for s, p in acc.positions.items()
            ],
        )


def _order_row(o: EmOrder) -> tuple[object, ...]:
    return (
        o.order_id,
        o.api_key,
        o.symbol,
        o.client_order_id,
        o.side,
        o.type,
        o.tif,
        str(o.price),
        str(o.orig_qty),
        str(o.executed_qty),
        str(o.cum_quote),
        o.status,
        o.time_ms,
        o.update_ms,
        int(o.reduce_only),
        str(o.locked),
        o.queue_ahead,
        o.cancel_client_id,
        o.expiry_reason,
    )


def _fill_row(f: EmFill) -> tuple[object, ...]:
    return (
        f.trade_id,
        f.order_id,
        f.api_key,
        f.symbol,
        f.side,
        str(f.price),
        str(f.qty),
        str(f.quote_qty),
        str(f.commission),
        f.commission_asset,
        str(f.realized_pnl),
        f.time_ms,
        int(f.is_maker),
    )
