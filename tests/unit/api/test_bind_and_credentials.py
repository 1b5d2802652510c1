"""The API's safety at start and its secrets: a non-loopback bind without TLS or credentials refuses to
start (before anything listens), passwords are checked and hashed, keys are shown once and stored hashed,
tokens expire and cannot be forged, the login limiter locks an address out."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from tradewright.api.auth import LoginLimiter
from tradewright.api.credentials import (
    TokenSigner,
    check_password_strength,
    hash_password,
    hash_secret,
    new_api_key,
    parse_api_key,
    verify_password,
)
from tradewright.api.server import check_bind, start_server
from tradewright.config.api import ApiConfig
from tradewright.core.errors import ConfigError
from tradewright.store import ApiKeyRecord, SqlStateStore, StoreConfig


@pytest.fixture
def store(tmp_path: Path) -> SqlStateStore:
    return SqlStateStore(StoreConfig(url=f"sqlite:///{tmp_path / 's.sqlite'}"))


def test_a_non_loopback_bind_without_tls_refuses_to_start_and_listens_on_nothing(store: SqlStateStore) -> None:
    config = ApiConfig(enabled=True, host="0.0.0.0", port=0)

    async def attempt() -> None:
        await start_server(operator=None, store=store, config=config)  # type: ignore[arg-type]

    with pytest.raises(ConfigError, match="not a loopback address and TLS is off"):
        asyncio.run(attempt())


def test_a_non_loopback_bind_with_tls_but_no_credentials_refuses_to_start(store: SqlStateStore) -> None:
    config = ApiConfig(enabled=True, host="0.0.0.0", behind_tls_proxy=True)
    with pytest.raises(ConfigError, match="no operator account or API key exists"):
        check_bind(config, store)
    _, parts = new_api_key()
    store.save_api_key(ApiKeyRecord(key_id=parts.key_id, name="ops", role="admin", secret_hash=hash_secret(parts),
                                    created_ns=time.time_ns()))
    check_bind(config, store)  # TLS and a credential: allowed
    check_bind(ApiConfig(enabled=True), store)  # loopback: always allowed


def test_the_config_refuses_wildcard_and_malformed_cors_origins() -> None:
    with pytest.raises(ValueError, match="wildcard"):
        ApiConfig(cors_origins=["*"])
    with pytest.raises(ValueError, match="trailing slash"):
        ApiConfig(cors_origins=["https://ops.example.com/"])
    assert ApiConfig(cors_origins=["https://ops.example.com"]).cors_origins == ["https://ops.example.com"]


def test_passwords_must_be_long_and_not_defaults_and_are_stored_salted() -> None:
    for weak in ("short", "changeme", "password1234"):
        with pytest.raises(ConfigError):
            check_password_strength(weak)
    check_password_strength("a long passphrase")
    first, second = hash_password("a long passphrase"), hash_password("a long passphrase")
    assert first != second and "a long passphrase" not in first
    assert verify_password("a long passphrase", first) and not verify_password("a long passphrasE", first)
    assert not verify_password("x", "garbage")


def test_api_keys_parse_back_and_only_their_hash_is_kept() -> None:
    text, parts = new_api_key()
    assert parse_api_key(text) == parts
    assert parts.secret not in hash_secret(parts) and len(hash_secret(parts)) == 64
    assert parse_api_key("twk_short_x") is None and parse_api_key("Bearer abc") is None


def test_access_tokens_expire_and_a_changed_role_breaks_the_signature() -> None:
    signer = TokenSigner()
    token, _ = signer.issue("alice", "viewer", ttl_s=60)
    assert signer.verify(token) == ("alice", "viewer")
    head, payload, sig = token.split(".")
    forged_payload = payload.replace(payload[:4], payload[:4])  # same bytes: still valid
    assert signer.verify(f"{head}.{forged_payload}.{sig}") == ("alice", "viewer")
    other, _ = signer.issue("alice", "admin", ttl_s=60)
    assert signer.verify(f"{head}.{other.split('.')[1]}.{sig}") is None  # admin claims, viewer signature
    assert TokenSigner().verify(token) is None  # another process's key
    expired, _ = signer.issue("alice", "viewer", ttl_s=-1)
    assert signer.verify(expired) is None


def test_the_login_limiter_locks_an_address_user_pair_out_for_the_window() -> None:
    limiter = LoginLimiter(ApiConfig(login_max_failures=2, login_window_s=60))
    assert limiter.retry_after("10.0.0.1", "bob") == 0
    limiter.failed("10.0.0.1", "bob")
    limiter.failed("10.0.0.1", "bob")
    assert 59 < limiter.retry_after("10.0.0.1", "bob") <= 60
    assert limiter.retry_after("10.0.0.2", "bob") == 0  # another address is not locked out


def test_nothing_listens_after_a_refused_start(store: SqlStateStore) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ApiConfig(enabled=True, host="0.0.0.0", port=port)
    with pytest.raises(ConfigError):
        asyncio.run(start_server(operator=None, store=store, config=config))  # type: ignore[arg-type]
    with socket.socket() as client, pytest.raises(OSError):
        client.settimeout(0.5)
        client.connect(("127.0.0.1", port))
