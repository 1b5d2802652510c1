"""`tradewright api key create|list|revoke` and `tradewright api user add|list|remove`: the credentials a
node's API accepts, kept (hashed) in the state store. An API key is printed once, at creation."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from typing import Any

__all__ = ["register"]

_ROLES = ("metrics", "viewer", "operator", "admin")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "api",
        help="manage the node API's credentials: API keys and operator accounts",
        description="API keys (for programs: `Authorization: Bearer twk_...`) and operator accounts (for "
        "the dashboard) live hashed in the state store the node's [api] uses (--url, else "
        "$TRADEWRIGHT_STORE_URL, else tradewright.sqlite). Roles: metrics (only /metrics), viewer (read, "
        "and halt), operator (commands), admin (resume, loosen limits, parameters, keys).",
    )
    groups = p.add_subparsers(dest="api_group", metavar="GROUP", required=True)

    key = groups.add_parser("key", help="API keys for programs").add_subparsers(dest="key_action", required=True)
    create = key.add_parser("create", help="create a key (printed once)")
    create.add_argument("--name", required=True, help="what the key is for, e.g. 'grafana' or 'hedger'")
    create.add_argument("--role", required=True, choices=_ROLES)
    create.add_argument("--expires-days", type=int, default=None, help="expire after this many days")
    _url(create)
    create.set_defaults(func=key_create)
    listing = key.add_parser("list", help="list keys (ids, names, roles; never secrets)")
    _url(listing)
    listing.set_defaults(func=key_list)
    revoke = key.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    _url(revoke)
    revoke.set_defaults(func=key_revoke)

    user = groups.add_parser("user", help="operator accounts for the dashboard").add_subparsers(
        dest="user_action", required=True
    )
    add = user.add_parser("add", help="create an account or change its role and password")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=_ROLES[1:])
    add.add_argument(
        "--password-env",
        metavar="VAR",
        help="read the password from this environment variable (otherwise it is asked for)",
    )
    _url(add)
    add.set_defaults(func=user_add)
    users = user.add_parser("list", help="list accounts")
    _url(users)
    users.set_defaults(func=user_list)
    remove = user.add_parser("remove", help="delete an account")
    remove.add_argument("username")
    _url(remove)
    remove.set_defaults(func=user_remove)


def _url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="state store URL (default: $TRADEWRIGHT_STORE_URL or sqlite:///tradewright.sqlite)")


def _store(args: argparse.Namespace) -> Any:
    from tradewright.store import SqlStateStore, StoreConfig, default_url

    return SqlStateStore(StoreConfig(url=args.url or default_url()))


def key_create(args: argparse.Namespace) -> int:
    from tradewright.api.credentials import hash_secret, new_api_key
    from tradewright.core.errors import ConfigError
    from tradewright.store import ApiKeyRecord, AuditRecord

    if args.expires_days is not None and args.expires_days < 1:
        raise ConfigError(f"--expires-days must be >= 1, got {args.expires_days}")
    text, parts = new_api_key()
    now = time.time_ns()
    record = ApiKeyRecord(
        key_id=parts.key_id,
        name=args.name,
        role=args.role,
        secret_hash=hash_secret(parts),
        created_ns=now,
        expires_ns=None if args.expires_days is None else now + args.expires_days * 86_400 * 10**9,
    )
    with _store(args) as store:
        store.save_api_key(record)
        store.record_audit(AuditRecord(ts_ns=now, actor="cli", action="auth.api_key_created",
                                       detail=f'{{"key_id": "{parts.key_id}", "role": "{args.role}"}}'))
    print(f"API key {parts.key_id} ({args.role}, {args.name}) created. It is shown only now; keep it secret:")
    print(text)
    return 0


def key_list(args: argparse.Namespace) -> int:
    from tradewright.core.clock import ns_to_iso

    with _store(args) as store:
        keys = store.api_keys()
    if not keys:
        print("no API keys")
    for k in keys:
        status = "revoked" if k.revoked_ns is not None else "active"
        expires = "" if k.expires_ns is None else f" expires {ns_to_iso(k.expires_ns)[:19]}"
        print(f"{k.key_id}  {k.role:<8} {status:<7} {k.name}  created {ns_to_iso(k.created_ns)[:19]}{expires}")
    return 0


def key_revoke(args: argparse.Namespace) -> int:
    from tradewright.core.errors import TradewrightError
    from tradewright.store import AuditRecord

    with _store(args) as store:
        if not store.revoke_api_key(args.key_id, ts_ns=time.time_ns()):
            raise TradewrightError(f"no active API key {args.key_id!r} (see `tradewright api key list`)")
        store.record_audit(AuditRecord(ts_ns=time.time_ns(), actor="cli", action="auth.api_key_revoked",
                                       detail=f'{{"key_id": "{args.key_id}"}}'))
    print(f"API key {args.key_id} revoked (a running node stops accepting it within 2 s)")
    return 0


def user_add(args: argparse.Namespace) -> int:
    from tradewright.api.credentials import check_password_strength, hash_password
    from tradewright.core.errors import ConfigError
    from tradewright.store import UserRecord

    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            raise ConfigError(f"environment variable {args.password_env} is not set")
    else:
        if not sys.stdin.isatty():
            raise ConfigError("no terminal to ask for the password: use --password-env VAR")
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the two passwords differ")
    check_password_strength(password)
    now = time.time_ns()
    with _store(args) as store:
        store.save_user(
            UserRecord(username=args.username, role=args.role, password_hash=hash_password(password),
                       created_ns=now, updated_ns=now)
        )
    print(f"account {args.username} ({args.role}) saved")
    return 0


def user_list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        users = store.users()
    if not users:
        print("no accounts")
    for u in users:
        print(f"{u.username}  {u.role}")
    return 0


def user_remove(args: argparse.Namespace) -> int:
    from tradewright.core.errors import TradewrightError

    with _store(args) as store:
        if not store.remove_user(args.username):
            raise TradewrightError(f"no account {args.username!r}")
    print(f"account {args.username} removed")
    return 0
