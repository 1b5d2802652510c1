"""One ib-async connection to TWS / IB Gateway: connect with clear failures, watch it, reconnect.

ib-async never reconnects by itself (``../shared/reference/brokers.md`` §1, §14). This session does:
after a drop it reports the venue DOWN, reconnects with jittered backoff on the same client id, and
then tells its listeners (`on_reconnect`), so market data is resubscribed and orders are reconciled —
fills and cancels during the gap are only recovered that way. IB's own connectivity messages count
too: 1100 (IB lost its servers) makes the venue DEGRADED, 1101 (restored, data lost) resubscribes and
reconciles, 1102 (restored, data kept) reconciles.

Pacing: ib-async's throttle sends at most `max_messages_per_s` (IB's limit is 50), a fifth of them every
0.2 s; historical-data requests go through a token bucket of IB's documented 60 per 10 minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ib_async import IB

from tradewright.core.errors import ConfigError, VenueError
from tradewright.core.ids import Venue
from tradewright.venues._common.backoff import Backoff
from tradewright.venues._common.ports import VenueHealth, VenueHooks, VenueStatus
from tradewright.venues._common.ratelimit import TokenBucket
from tradewright.venues.ib.config import IbConfig

__all__ = ["IbSession"]

_DATA_TYPES = {"live": 1, "frozen": 2, "delayed": 3, "delayed_frozen": 4}
_CONNECTIVITY = {1100, 1101, 1102, 1300}
_PACING_S = 0.2


class IbSession:
    """The connection, its health, and who must hear of a reconnect."""

    def __init__(self, config: IbConfig, account: str, hooks: VenueHooks) -> None:
        self.config = config
        self.hooks = hooks
        self.log = hooks.log.getChild("ib") if isinstance(hooks.log, logging.Logger) else logging.getLogger("tradewright.venues.ib")
        self.ib = IB()
        # IB counts messages over any one second as they arrive. Sent in one burst a second, a batch can
        # arrive spread out and overlap the next in IB's count (the local gateway saw 56), so the client's
        # throttle releases a fifth of the rate every 0.2 s instead.
        self.ib.client.RequestsInterval = _PACING_S  # type: ignore[assignment]  # annotated int, used as seconds
        self.ib.client.MaxRequests = max(1, int(config.max_messages_per_s * _PACING_S))
        self.ib.RequestTimeout = config.request_timeout_s
        self.account = account
        self.venue = Venue(config.venue)
        self.historical = TokenBucket("IB historical data", 60, 600.0)
        self.connected = asyncio.Event()
        self.on_reconnect: list[Callable[[], None]] = []  # resubscribe / reconcile
        self.on_data_lost: list[Callable[[], None]] = []  # 1101: market data subscriptions were lost
        self.reconnects = 0
        self.generation = 0  # connections made so far: a subscription belongs to one of them
        self._closing = False
        self._errors: list[tuple[int, int, str]] = []
        self._dropped = asyncio.Event()
        self.health = VenueHealth.DOWN
        self.ib.errorEvent += self._on_error
        self.ib.disconnectedEvent += self._on_disconnected

    # --- connecting ----------------------------------------------------------------------------
    async def connect(self) -> None:
        """Connect once; raise `ConfigError`/`VenueError` with what to do when it cannot."""
        cfg = self.config
        self._errors.clear()
        try:
            await self.ib.connectAsync(
                cfg.host,
                cfg.port,
                clientId=cfg.client_id,
                timeout=cfg.connect_timeout_s,
                readonly=False,
                account=self.account,
            )
        except (ConnectionRefusedError, OSError) as exc:
            if isinstance(exc, TimeoutError):
                raise self._handshake_failed() from None
            raise VenueError(
                f"cannot reach TWS / IB Gateway at {cfg.host}:{cfg.port}: {exc.strerror or exc}. Is it running "
                f"with the API enabled (Configure > API > Settings > Enable ActiveX and Socket Clients) on this "
                f"port? Usual ports: {IbConfig.usual_ports()}"
            ) from None
        except (TimeoutError, ConnectionError):
            raise self._handshake_failed() from None
        accounts = list(self.ib.managedAccounts())
        if not self.account:
            if len(accounts) != 1:
                self.ib.disconnect()
                raise ConfigError(
                    f"the gateway at {cfg.where} manages {len(accounts)} accounts: name the one to trade in "
                    "`account` (or `account_env`)"
                )
            self.account = accounts[0]
        elif self.account not in accounts:
            self.ib.disconnect()
            raise ConfigError(
                f"the gateway at {cfg.where} does not manage the configured account {_mask(self.account)} "
                f"(it manages {', '.join(_mask(a) for a in accounts) or 'none'}): check `account`/`account_env` "
                "and which user the gateway is logged in as"
            )
        self.ib.reqMarketDataType(_DATA_TYPES[cfg.market_data_type])
        self.generation += 1
        self.connected.set()
        self._set_health(VenueHealth.UP, f"connected to {cfg.where}")

    def _handshake_failed(self) -> Exception:
        cfg = self.config
        if any(code == 326 for _, code, _ in self._errors):
            return ConfigError(
                f"client id {cfg.client_id} is already in use at {cfg.host}:{cfg.port}: give this node a "
                "`client_id` no other API client uses"
            )
        return VenueError(
            f"TWS / IB Gateway at {cfg.host}:{cfg.port} accepted the connection but did not complete the API "
            f"handshake within {cfg.connect_timeout_s} s (client id {cfg.client_id} may be in use by another "
            "connection, the gateway may still be starting, or the API may be restricted to other hosts)"
        )

    async def run(self) -> None:
        """Keep the connection: after a drop, reconnect with backoff and notify. Runs until cancelled."""
        backoff = Backoff(self.config.reconnect_base_s, self.config.reconnect_cap_s)
        while True:
            await self._dropped.wait()
            self._dropped.clear()
            if self._closing:
                return
            while not self._closing:
                delay = backoff.next_delay_s()
                self.log.warning("IB connection lost; reconnecting to %s in %.1f s", self.config.where, delay)
                await asyncio.sleep(delay)
                try:
                    await self.connect()
                except ConfigError:
                    raise
                except VenueError as exc:
                    self.log.warning("IB reconnect failed: %s", exc)
                    continue
                backoff.reset()
                self.reconnects += 1
                self._notify(self.on_reconnect)
                break

    async def close(self) -> None:
        self._closing = True
        self._dropped.set()
        with contextlib.suppress(Exception):
            self.ib.disconnect()

    # --- events ------------------------------------------------------------------------------
    def _on_disconnected(self) -> None:
        self.connected.clear()
        if self._closing:
            return
        self._set_health(VenueHealth.DOWN, f"disconnected from {self.config.where}")
        self._dropped.set()

    def _on_error(self, req_id: int, code: int, text: str, contract: Any = None) -> None:
        self._errors.append((req_id, code, text))
        del self._errors[:-50]
        if code not in _CONNECTIVITY:
            return
        if code in (1100, 1300):
            self._set_health(VenueHealth.DEGRADED, f"IB {code}: {text}")
        elif code == 1101:
            self._set_health(VenueHealth.UP, f"IB {code}: {text}")
            self._notify(self.on_data_lost)
            self._notify(self.on_reconnect)
        elif code == 1102:
            self._set_health(VenueHealth.UP, f"IB {code}: {text}")
            self._notify(self.on_reconnect)

    def _notify(self, listeners: list[Callable[[], None]]) -> None:
        for listener in list(listeners):
            try:
                listener()
            except Exception:  # a task boundary: one listener never stops the others
                self.log.exception("IB reconnect listener failed")

    def _set_health(self, health: VenueHealth, reason: str) -> None:
        if health is self.health:
            return
        self.health = health
        self.hooks.on_status(VenueStatus(self.venue, health, reason, self.hooks.clock.now_ns()))

    def errors_for(self, req_id: int) -> list[tuple[int, str]]:
        """The recent errors IB sent about one request or order id (code, text)."""
        return [(code, text) for rid, code, text in self._errors if rid == req_id]

    async def wait_connected(self, timeout_s: float) -> bool:
        try:
            await asyncio.wait_for(self.connected.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


def _mask(account: str) -> str:
    """An account id shortened for messages (the full id is not needed to recognise it)."""
    return account if len(account) <= 4 else f"{account[:2]}…{account[-2:]}"
