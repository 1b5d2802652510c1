"""Alerts from a running node to people: webhooks (a JSON POST) and e-mail (SMTP).

```toml
[alerts]
webhooks = ["https://hooks.example/tradewright"]   # URLs without secrets in them, or:
webhook_url_envs = ["SLACK_WEBHOOK_URL"]           # URLs read from these environment variables
kinds = ["halt", "strategy_failure", "venue_down", "risk_breach", "reconcile_correction"]
max_per_kind_per_minute = 6                        # more of one kind in a minute are counted, not sent
retries = 3
[alerts.smtp]
host = "smtp.example.com"
port = 587
starttls = true
sender = "node@example.com"
to = ["oncall@example.com"]
username_env = "SMTP_USER"                         # credentials from the environment only
password_env = "SMTP_PASSWORD"
```

`Alerter.fire` never blocks the node and never raises: it queues the alert (or counts it as
suppressed by the per-kind limit) and a background task delivers it to every channel, retrying a
failed delivery `retries` times with a growing pause. `AlertSink` turns the kernel's own events into
alerts: a halt, a breaker trip, a venue-integrity violation (and, when their kinds are enabled, each
fill and reject).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import smtplib
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Annotated, Any, Literal

import aiohttp
import msgspec

from tradewright.config.urls import check_url
from tradewright.core.errors import ConfigError
from tradewright.model.events import (
    BreakerTripped,
    OrderFilled,
    OrderRejected,
    TradingState,
    TradingStateChanged,
    VenueIntegrityViolation,
)

__all__ = ["ALERT_KINDS", "Alert", "AlertSink", "Alerter", "AlertsConfig", "SmtpConfig"]

AlertKind = Literal[
    "halt", "strategy_failure", "venue_down", "risk_breach", "reconcile_correction", "fill", "reject"
]
ALERT_KINDS: tuple[str, ...] = (
    "halt",
    "strategy_failure",
    "venue_down",
    "risk_breach",
    "reconcile_correction",
    "fill",
    "reject",
)
_DEFAULT_KINDS: list[AlertKind] = [
    "halt",
    "strategy_failure",
    "venue_down",
    "risk_breach",
    "reconcile_correction",
]


class SmtpConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An SMTP server to send alert e-mails through (credentials from the environment only)."""

    host: str
    sender: str
    to: list[str]
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 25
    starttls: bool = False
    username_env: str = ""
    password_env: str = ""
    timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0

    def __post_init__(self) -> None:
        if not self.to:
            raise ConfigError("`alerts.smtp.to`: name at least one recipient")
        if bool(self.username_env) != bool(self.password_env):
            raise ConfigError(
                "`alerts.smtp.username_env` and `password_env` go together: set both or neither"
            )


class AlertsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    webhooks: list[str] = msgspec.field(default_factory=list)
    webhook_url_envs: list[str] = msgspec.field(default_factory=list)
    smtp: SmtpConfig | None = None
    kinds: list[AlertKind] = msgspec.field(default_factory=lambda: list(_DEFAULT_KINDS))
    max_per_kind_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 6
    retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 3
    retry_backoff_s: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0

    def __post_init__(self) -> None:
        for k, url in enumerate(self.webhooks):
            check_url(f"alerts.webhooks[{k}]", url, ("http", "https"))

    @property
    def enabled(self) -> bool:
        return bool(self.webhooks or self.webhook_url_envs or self.smtp is not None)


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str
    text: str
    node: str
    ts_ns: int
    fields: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "node": self.node, "ts_ns": self.ts_ns, **self.fields}


class Alerter:
    """Queue alerts and deliver them in the background (see the module docstring)."""

    def __init__(
        self,
        config: AlertsConfig,
        node: str,
        *,
        environ: Mapping[str, str] | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.config = config
        self.node = node
        self.log = log or logging.getLogger("tradewright.alerts")
        self.webhooks = list(config.webhooks)
        for name in config.webhook_url_envs:
            url = env.get(name, "")
            if not url:
                raise ConfigError(f"`alerts.webhook_url_envs`: set {name} in the environment (a webhook URL)")
            check_url(f"${name}", url, ("http", "https"))
            self.webhooks.append(url)
        self._smtp_login: tuple[str, str] | None = None
        smtp = config.smtp
        if smtp is not None and smtp.username_env:
            user, password = env.get(smtp.username_env, ""), env.get(smtp.password_env, "")
            if not user or not password:
                raise ConfigError(
                    f"`alerts.smtp`: set {smtp.username_env} and {smtp.password_env} in the environment"
                )
            self._smtp_login = (user, password)
        self.kinds = frozenset(config.kinds)
        self._queue: asyncio.Queue[Alert] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._recent: dict[str, deque[float]] = {}
        self.sent: list[Alert] = []  # delivered to every channel
        self.failed = 0  # deliveries given up after every retry
        self.suppressed: dict[str, int] = {}  # over the per-kind limit

    @property
    def enabled(self) -> bool:
        return bool(self.webhooks) or self.config.smtp is not None

    def fire(self, kind: str, text: str, **fields: object) -> bool:
        """Queue an alert of `kind`; False when the kind is not enabled or over its limit this minute."""
        if kind not in self.kinds or not self.enabled:
            return False
        now = time.monotonic()
        recent = self._recent.setdefault(kind, deque())
        while recent and recent[0] <= now - 60.0:
            recent.popleft()
        if len(recent) >= self.config.max_per_kind_per_minute:
            self.suppressed[kind] = self.suppressed.get(kind, 0) + 1
            return False
        recent.append(now)
        alert = Alert(kind, text, self.node, time.time_ns(), {k: str(v) for k, v in fields.items()})
        self.log.warning("alert %s: %s", kind, text)
        if self._queue is None:
            self._queue = asyncio.Queue()
        self._queue.put_nowait(alert)
        return True

    async def start(self) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None and self.enabled:
            self._worker = asyncio.create_task(self._deliver_all(), name="alerts")

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued (up to `timeout_s`), then stop the background task."""
        if self._worker is None:
            return
        assert self._queue is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout_s)
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None

    async def _deliver_all(self) -> None:
        assert self._queue is not None
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.timeout_s)) as http:
            while True:
                alert = await self._queue.get()
                try:
                    ok = True
                    for url in self.webhooks:
                        ok &= await self._retrying(functools.partial(self._post, http, url, alert), "webhook")
                    if self.config.smtp is not None:
                        ok &= await self._retrying(
                            functools.partial(asyncio.to_thread, self._mail, alert), "e-mail"
                        )
                    if ok:
                        self.sent.append(alert)
                finally:
                    self._queue.task_done()

    async def _retrying(self, send: Any, channel: str) -> bool:
        for attempt in range(self.config.retries + 1):
            try:
                await send()
                return True
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a delivery boundary: the network or the server failed
                if attempt == self.config.retries:
                    self.failed += 1
                    self.log.error(
                        "alert %s delivery failed after %d attempts: %s", channel, attempt + 1, exc
                    )
                    return False
                await asyncio.sleep(self.config.retry_backoff_s * (attempt + 1))
        return False

    @staticmethod
    async def _post(http: aiohttp.ClientSession, url: str, alert: Alert) -> None:
        body = json.dumps(alert.as_json()).encode()
        async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
            if response.status >= 300:
                raise ConnectionError(f"the webhook answered HTTP {response.status}")

    def _mail(self, alert: Alert) -> None:
        smtp = self.config.smtp
        assert smtp is not None
        message = EmailMessage()
        message["Subject"] = f"[tradewright {alert.node}] {alert.kind}: {alert.text[:120]}"
        message["From"] = smtp.sender
        message["To"] = ", ".join(smtp.to)
        lines = [alert.text, ""] + [f"{k}: {v}" for k, v in alert.fields.items()]
        message.set_content("\n".join(lines) + f"\nnode: {alert.node}\nts_ns: {alert.ts_ns}\n")
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
            if smtp.starttls:
                client.starttls()
            if self._smtp_login is not None:
                client.login(*self._smtp_login)
            client.send_message(message)


class AlertSink:
    """An `EventSink` that raises alerts for what the kernel itself decided."""

    def __init__(self, alerter: Alerter) -> None:
        self.alerter = alerter

    def on_event(self, event: object) -> None:
        fire = self.alerter.fire
        if isinstance(event, TradingStateChanged):
            if event.state is TradingState.HALTED and event.previous is not TradingState.HALTED:
                where = event.target or "the node"
                fire("halt", f"{where} HALTED ({event.cause}): {event.reason}", scope=event.target)
        elif isinstance(event, BreakerTripped):
            fire(
                "risk_breach",
                f"{event.breaker} tripped on {event.target or 'the node'}: {event.reason}; set {event.action}",
                breaker=event.breaker,
            )
        elif isinstance(event, VenueIntegrityViolation):
            fire("reconcile_correction", f"venue integrity on {event.instrument_id}: {event.reason}")
        elif type(event) is OrderRejected:
            fire("reject", f"order {event.client_order_id} rejected: {event.reason}")
        elif type(event) is OrderFilled:
            fire(
                "fill",
                f"{event.side.value} {event.last_qty} {event.instrument_id} @ {event.last_px}",
                order=event.client_order_id,
            )

    def on_command(self, command: object) -> None:
        return None
