"""The state store: orders, fills, positions, balances, strategy snapshots and logs, on SQLite (the
default, a file) or PostgreSQL, chosen by one URL. See docs/persistence.md."""

from tradewright.store.columns import ExactDecimal, canonical
from tradewright.store.config import DEFAULT_URL, URL_ENV_VAR, SqliteSync, StoreConfig, default_url
from tradewright.store.credentials import ApiKeyRecord, UserRecord
from tradewright.store.ports import CredentialStore, StateStore
from tradewright.store.records import (
    AuditRecord,
    JournalEntry,
    JournalKind,
    RiskEventRecord,
    RunRecord,
    StoreState,
    StrategySnapshot,
)
from tradewright.store.saga_store import SqlSagaStore
from tradewright.store.sql_store import SqlStateStore, open_store

__all__ = [
    "DEFAULT_URL",
    "URL_ENV_VAR",
    "ApiKeyRecord",
    "AuditRecord",
    "CredentialStore",
    "ExactDecimal",
    "JournalEntry",
    "JournalKind",
    "RiskEventRecord",
    "RunRecord",
    "SqlSagaStore",
    "SqlStateStore",
    "SqliteSync",
    "StateStore",
    "StoreConfig",
    "StoreState",
    "StrategySnapshot",
    "UserRecord",
    "canonical",
    "default_url",
    "open_store",
]
