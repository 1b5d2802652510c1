"""Alerts reach people: e-mail through a real SMTP server on 127.0.0.1 (aiosmtpd), webhooks through a
local aiohttp server that fails first (the alert is retried), and a per-kind limit that counts what it
holds back. The node's alert sink turns a halt into an alert."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.integration.multi.harness import eventually
from tests.servers.support import run
from tradewright.core.errors import ConfigError
from tradewright.live.alerts import Alerter, AlertsConfig, AlertSink, SmtpConfig
from tradewright.model.events import TradingState, TradingStateChanged


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


async def _smtp(mailbox: _Mailbox) -> tuple[asyncio.Server, int]:
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(mailbox), "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


class _Hook:
    """A webhook that answers 500 to its first `fail_first` calls, then 204."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.calls = 0
        self.received: list[dict[str, Any]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"  # type: ignore[union-attr]

    async def _hook(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.calls <= self.fail_first:
            return web.Response(status=500)
        self.received.append(json.loads(await request.read()))
        return web.Response(status=204)

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def _halted() -> TradingStateChanged:
    return TradingStateChanged(
        scope="node",
        target="",
        state=TradingState.HALTED,
        previous=TradingState.ACTIVE,
        cause="operator",
        reason="halt from the dashboard",
        ts_event=1,
        ts_init=1,
    )


def test_a_halt_is_mailed_through_smtp() -> None:
    async def body() -> None:
        mailbox = _Mailbox()
        server, port = await _smtp(mailbox)
        try:
            config = AlertsConfig(
                smtp=SmtpConfig(host="127.0.0.1", port=port, sender="node@test.local", to=["ops@test.local"])
            )
            alerter = Alerter(config, "mm-node")
            await alerter.start()
            AlertSink(alerter).on_event(_halted())
            await eventually(lambda: bool(mailbox.messages), timeout_s=10, what="the alert e-mail")
            await alerter.stop()
        finally:
            server.close()
        (message,) = mailbox.messages
        assert (
            message["Subject"]
            == "[tradewright mm-node] halt: the node HALTED (operator): halt from the dashboard"
        )
        assert mailbox.envelopes[0].rcpt_tos == ["ops@test.local"]
        assert "halt from the dashboard" in message.get_content()
        assert [a.kind for a in alerter.sent] == ["halt"]

    run(body(), timeout=30)


def test_a_failed_webhook_delivery_is_retried() -> None:
    async def body() -> None:
        hook = _Hook(fail_first=2)
        await hook.start()
        try:
            alerter = Alerter(AlertsConfig(webhooks=[hook.url], retries=3, retry_backoff_s=0.05), "n1")
            await alerter.start()
            alerter.fire("venue_down", "okx (OKX) is DOWN: the connection closed", venue="okx")
            await eventually(lambda: bool(hook.received), timeout_s=10, what="the retried webhook")
            await alerter.stop()
        finally:
            await hook.stop()
        assert hook.calls == 3
        (body_,) = hook.received
        assert body_["kind"] == "venue_down" and body_["venue"] == "okx" and body_["node"] == "n1"
        assert alerter.failed == 0

    run(body(), timeout=30)


def test_alerts_of_one_kind_are_limited_per_minute() -> None:
    async def body() -> None:
        hook = _Hook()
        await hook.start()
        try:
            config = AlertsConfig(webhooks=[hook.url], max_per_kind_per_minute=2, kinds=["reject", "halt"])
            alerter = Alerter(config, "n1")
            await alerter.start()
            sent = [alerter.fire("reject", f"order T-{k} rejected: insufficient margin") for k in range(5)]
            assert alerter.fire("halt", "the node HALTED") is True  # another kind has its own allowance
            assert alerter.fire("fill", "not an enabled kind") is False
            await eventually(lambda: len(hook.received) == 3, timeout_s=10, what="three alerts")
            await alerter.stop()
        finally:
            await hook.stop()
        assert sent == [True, True, False, False, False]
        assert alerter.suppressed == {"reject": 3}
        assert [b["kind"] for b in hook.received] == ["reject", "reject", "halt"]

    run(body(), timeout=30)


def test_alert_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(ConfigError, match="SLACK_HOOK"):
        Alerter(AlertsConfig(webhook_url_envs=["SLACK_HOOK"]), "n1", environ={})
    with pytest.raises(ConfigError, match="SMTP_PASSWORD"):
        smtp = SmtpConfig(
            host="h", sender="a@b", to=["c@d"], username_env="SMTP_USER", password_env="SMTP_PASSWORD"
        )
        Alerter(AlertsConfig(smtp=smtp), "n1", environ={"SMTP_USER": "u"})
    with pytest.raises(ConfigError, match=r"alerts\.webhooks"):
        AlertsConfig(webhooks=["ftp://example.com/x"])
