"""`tradewright polymarket approve`: the allowances a plain wallet needs before trading, printed
transaction by transaction; sent (signed with the wallet key from the environment, through the
JSON-RPC endpoint given) only with `--execute`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "polymarket", help="Polymarket wallet set-up", description="Polymarket wallet set-up."
    )
    sub = p.add_subparsers(dest="polymarket_command", metavar="COMMAND")
    a = sub.add_parser(
        "approve",
        help="print (and with --execute send) the allowance transactions a wallet needs",
        description="Print every transaction that approves Polymarket's exchanges to move the wallet's "
        "collateral and outcome tokens. Dry run by default: nothing is signed or sent without --execute. "
        "The wallet key is read from the environment variable --key-env (never from a file or the command line).",
    )
    a.add_argument(
        "--execute", action="store_true", help="sign and send the transactions (default: print only)"
    )
    a.add_argument("--rpc-url", help="a Polygon JSON-RPC endpoint (required with --execute)")
    a.add_argument(
        "--chain-id", type=int, default=137, choices=[137, 80002], help="137 Polygon (default), 80002 Amoy"
    )
    a.add_argument(
        "--order-version", type=int, default=2, choices=[1, 2], help="exchange version to approve (default 2)"
    )
    a.add_argument("--no-neg-risk", action="store_true", help="skip the neg-risk exchange and adapter")
    a.add_argument(
        "--key-env", default="POLYMARKET_PRIVATE_KEY", help="environment variable holding the wallet key"
    )
    a.add_argument("--json", action="store_true", help="print the transactions as JSON")
    a.set_defaults(func=approve)
    c = sub.add_parser(
        "convert",
        help="print (and with --execute send) a neg-risk conversion of NO tokens",
        description="Convert AMOUNT of the NO tokens of the given questions of one neg-risk event into "
        "(m - 1) x AMOUNT collateral and AMOUNT YES of every other outcome (NegRiskAdapter.convertPositions). "
        "Dry run by default. Convert only confirmed tokens.",
    )
    c.add_argument("--neg-risk-market-id", required=True, help="the event's neg-risk market id (0x + 64 hex)")
    c.add_argument(
        "--question",
        action="append",
        type=int,
        required=True,
        help="a question index whose NO to burn (repeat)",
    )
    c.add_argument("--outcomes", type=int, required=True, help="how many outcomes the event has")
    c.add_argument("--amount", required=True, help="tokens of each NO to convert (up to 6 decimals)")
    c.add_argument("--fee-rate", default="0", help="the adapter's fee on the returned collateral (default 0)")
    c.add_argument("--execute", action="store_true", help="sign and send (default: print only)")
    c.add_argument("--rpc-url", help="a Polygon JSON-RPC endpoint (required with --execute)")
    c.add_argument("--chain-id", type=int, default=137, choices=[137, 80002])
    c.add_argument(
        "--key-env", default="POLYMARKET_PRIVATE_KEY", help="environment variable holding the wallet key"
    )
    c.set_defaults(func=convert)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def approve(args: argparse.Namespace) -> int:
    from tradewright.core.errors import ConfigError
    from tradewright.venues.polymarket.approve import plan, send
    from tradewright.venues.polymarket.signing import address_of

    txs = plan(args.chain_id, args.order_version, neg_risk=not args.no_neg_risk)
    key = os.environ.get(args.key_env, "")
    owner = address_of(key) if key else "(set " + args.key_env + " to see the wallet)"
    if args.json:
        print(
            json.dumps(
                {"wallet": owner, "chain_id": args.chain_id, "transactions": [t.as_dict() for t in txs]},
                indent=2,
            )
        )
    else:
        print(f"wallet {owner} on chain {args.chain_id}: {len(txs)} transaction(s)")
        for k, tx in enumerate(txs, 1):
            print(f"{k}. {tx.description}\n   to   {tx.to}\n   data {tx.data}")
    if not args.execute:
        print("dry run: nothing was signed or sent (add --execute to send them)")
        return 0
    if not key:
        raise ConfigError(f"--execute needs the wallet key in the environment variable {args.key_env}")
    if not args.rpc_url:
        raise ConfigError("--execute needs --rpc-url (a Polygon JSON-RPC endpoint)")
    hashes = asyncio.run(send(txs, key, args.rpc_url, args.chain_id))
    print(f"{len(hashes)} transaction(s) confirmed; the CLOB sees them after GET /balance-allowance/update")
    return 0


def convert(args: argparse.Namespace) -> int:
    from decimal import Decimal, InvalidOperation

    from tradewright.core.errors import ConfigError
    from tradewright.venues.polymarket.approve import send
    from tradewright.venues.polymarket.convert import conversion, conversion_tx

    try:
        amount, fee_rate = Decimal(args.amount), Decimal(args.fee_rate)
    except InvalidOperation:
        raise ConfigError("--amount and --fee-rate must be numbers") from None
    result = conversion(args.question, args.outcomes, amount, fee_rate)
    tx = conversion_tx(args.chain_id, args.neg_risk_market_id, args.question, amount)
    print(f"{tx.description}\n   to   {tx.to}\n   data {tx.data}")
    yes = ", ".join(map(str, result.yes_of)) or "none"
    print(f"burns {amount} NO of questions {list(result.burned)}; returns {result.collateral} collateral "
          f"(fee {result.fee}) and {amount} YES of questions {yes}")  # fmt: skip
    if not args.execute:
        print("dry run: nothing was signed or sent (add --execute to send it)")
        return 0
    key = os.environ.get(args.key_env, "")
    if not key or not args.rpc_url:
        raise ConfigError(f"--execute needs the wallet key in {args.key_env} and --rpc-url")
    asyncio.run(send([tx], key, args.rpc_url, args.chain_id))
    return 0
