"""`tradewright turbine claim`: claim what resolved Turbine markets owe the wallet. Dry run by default
(each claim is signed, printed and written to the audit file, nothing is sent); `--execute` sends the
redemptions through Turbine's relayer, retrying failures, one claim every `claim_spacing_s`."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "turbine", help="Turbine wallet operations", description="Turbine wallet operations."
    )
    sub = p.add_subparsers(dest="turbine_command", metavar="COMMAND")
    c = sub.add_parser(
        "claim",
        help="claim winnings of resolved markets (dry run unless --execute)",
        description="Find the resolved markets that owe the wallet (or take --market), sign a redemption for "
        "each and — with --execute — have Turbine's relayer redeem them. Every attempt is appended to the "
        "audit file. Keys come from the environment (TURBINE_PRIVATE_KEY, TURBINE_API_KEY_ID, "
        "TURBINE_API_PRIVATE_KEY by default).",
    )
    c.add_argument(
        "--execute", action="store_true", help="send the claims (default: sign, print and audit only)"
    )
    c.add_argument(
        "--market", action="append", metavar="CONTRACT", help="a market contract address (repeatable)"
    )
    c.add_argument("--rest-url", help="Turbine's REST root (default: the venue's; a local server's to test)")
    c.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="a Turbine venue setting, e.g. chain_id=137 or claim_retries=5",
    )
    c.add_argument("--audit", help="audit file (default: the config's claims_file)")
    c.set_defaults(func=claim)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def claim(args: argparse.Namespace) -> int:
    from tradewright.cli.venue_settings import venue_config
    from tradewright.core.errors import ConfigError
    from tradewright.venues.turbine import (
        ClaimAudit,
        TurbineConfig,
        claim_winnings,
        claimable_markets,
        credentials,
    )
    from tradewright.venues.turbine.client import ApiKey, TurbineHttp
    from tradewright.venues.turbine.signing import chain, wallet_address

    config = venue_config([TurbineConfig], {"rest_url": args.rest_url}, args.set)
    creds = credentials(config)
    if not creds.has("api_key"):
        raise ConfigError(
            f"claims need the Turbine API key: set {config.api_key_id_env} and {config.api_private_key_env}"
        )
    key = creds.get("private_key")
    audit = ClaimAudit(args.audit or config.claims_file)

    async def run() -> int:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            http = TurbineHttp(
                session, config.rest_url, api_key=ApiKey(creds.get("api_key"), creds.get("secret"))
            )
            markets = args.market or await claimable_markets(http, wallet_address(key), config.chain_id)
            if not markets:
                print("nothing to claim")
                return 0
            records = await claim_winnings(
                http, key, chain(config.chain_id), markets, audit=audit, now_s=lambda: int(time.time()),
                now_ns=time.time_ns, execute=args.execute, retries=config.claim_retries,
                spacing_s=config.claim_spacing_s, say=print,
            )  # fmt: skip
        for r in records:
            print(f"{r.status}: {r.market} {r.winning_outcome} {r.amount} USDC {r.tx_hash or r.error}")
        if not args.execute:
            print(f"dry run: nothing was sent (add --execute); recorded in {audit.path}")
        return 1 if any(r.status == "failed" for r in records) else 0

    return asyncio.run(run())
