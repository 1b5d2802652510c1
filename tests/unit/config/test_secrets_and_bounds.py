"""Configs refuse what would leak a secret or silently disable a safeguard — and say so without
repeating the value: URLs with credentials, a secret pasted into an enum key, durations that are not
finite numbers in range. And no log record, whoever writes it, shows a registered secret or a signature."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tradewright.core.errors import ConfigError
from tradewright.core.redact import Redactor, install_log_redaction
from tradewright.live.config import load_live_config
from tradewright.venues.binance.config import BinanceConfig

SECRET = "s3cr3t-V4lue-9f2c"


def live_config(tmp_path: Path, extra: str = "", venue: str = "") -> Path:
    path = tmp_path / "live.toml"
    path.write_text(
        f'[venue]\nsymbol = "BTCUSDT"\n{venue}\n[strategy]\npath = "x.py"\nclass = "X"\nid = "Q"\n\n{extra}\n'
    )
    return path


@pytest.mark.parametrize(
    ("url", "named"),
    [
        (f"https://AKIAKEY:{SECRET}@fapi.binance.com", "user name or password"),
        (f"https://fapi.binance.com/?apiKey={SECRET}", "apiKey"),
        (f"https://fapi.binance.com/fapi?signature={SECRET}&x=1", "signature"),
        (f"https://fapi.binance.com?token={SECRET}", "token"),
        (f"ftp://{SECRET}.example.com", "must be a http or https URL"),
        (f"https://fapi.binance.com:99999/{SECRET}", "not a valid URL"),
    ],
)
def test_a_venue_url_with_credentials_is_refused_without_showing_them(url: str, named: str) -> None:
    with pytest.raises(ConfigError) as refused:
        BinanceConfig(rest_url=url)

    assert "venue.rest_url" in str(refused.value) and named in str(refused.value)
    assert SECRET not in str(refused.value) and "AKIAKEY" not in str(refused.value)


def test_a_secret_pasted_into_an_enum_key_is_not_repeated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_live_config(live_config(tmp_path, venue=f'kind = "{SECRET}"'))

    assert "`venue.kind` (not shown)" in str(refused.value)
    assert SECRET not in str(refused.value)


def test_a_store_password_in_the_config_file_is_refused_and_not_shown(tmp_path: Path) -> None:
    store = f'[store]\nurl = "postgresql+psycopg://trader:{SECRET}@db:5432/tw"'
    with pytest.raises(ConfigError, match=r"TRADEWRIGHT_STORE_URL") as refused:
        load_live_config(live_config(tmp_path, store))

    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("reconcile.interval_s", "inf"),
        ("reconcile.interval_s", "nan"),
        ("reconcile.interval_s", "-1.0"),
        ("reconcile.interval_s", "1e9"),
        ("node.snapshot_interval_s", "inf"),
        ("node.shutdown_timeout_s", "nan"),
        ("node.min_order_age_s", "0.0"),
    ],
)
def test_every_float_seconds_key_must_be_finite_and_in_range(tmp_path: Path, key: str, value: str) -> None:
    section, name = key.split(".")
    with pytest.raises(ConfigError) as refused:
        load_live_config(live_config(tmp_path, f"[{section}]\n{name} = {value}"))

    assert f"`{key}`" in str(refused.value)


def test_reconciliation_can_still_be_switched_off_with_zero_and_set_to_an_hour(tmp_path: Path) -> None:
    off = load_live_config(live_config(tmp_path, "[reconcile]\ninterval_s = 0"))
    hourly = load_live_config(live_config(tmp_path, "[reconcile]\ninterval_s = 3600"))

    assert (off.reconcile.interval_s, hourly.reconcile.interval_s) == (0.0, 3600.0)


# --- logs ------------------------------------------------------------------------------------------
def test_the_redactor_masks_secrets_signatures_and_credential_parameters() -> None:
    redactor = Redactor()
    redactor.add("AKIAKEY123", SECRET, "")  # an empty one is ignored rather than masking everything

    lines = [
        "GET https://fapi.binance.com/fapi/v1/order?symbol=BTCUSDT&timestamp=1&signature=ab12cd34ef, "
        "Request: {'X-MBX-APIKEY': 'AKIAKEY123', 'User-Agent': 'x'} None",
        '{"method":"session.logon","params":{"apiKey":"AKIAKEY123","signature":"ff00aa"}}',
        f"binanceusdm {SECRET} leaked into an error",
        'POST /fapi/v1/listenKey, Response: 200 {} {"listenKey":"pqkUf2ELnEV4"}',
    ]
    redacted = [redactor.redact(line) for line in lines]

    assert not any(
        s in line for line in redacted for s in ("AKIAKEY123", SECRET, "ab12cd34ef", "ff00aa", "pqkUf2")
    )
    assert "signature=***" in redacted[0] and "symbol=BTCUSDT" in redacted[0]


def test_no_logger_at_any_level_emits_a_registered_secret(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction(["AKIAKEY123", SECRET])
    ccxt, ours = logging.getLogger("ccxt.base.exchange"), logging.getLogger("tradewright.venues.binance")

    with caplog.at_level(logging.DEBUG):
        ccxt.debug(
            "%s %s, Request: %s",
            "GET",
            f"https://h/x?signature=deadbeef&k={SECRET}",
            {"X-MBX-APIKEY": "AKIAKEY123"},
        )
        logging.getLogger("urllib3.connectionpool").debug("https://h:443 GET /x?signature=deadbeef HTTP/1.1")
        try:
            raise RuntimeError(f"binanceusdm GET https://h/x?apiKey=AKIAKEY123&signature=deadbeef {SECRET}")
        except RuntimeError:
            ours.exception("request failed")
        ours.error("bad format %d", "not a number")  # a broken call must not raise either

    text = "\n".join(caplog.text.splitlines()) + "".join(r.getMessage() for r in caplog.records)
    assert "request failed" in text and "RuntimeError" in text
    assert "AKIAKEY123" not in text and SECRET not in text and "deadbeef" not in text
