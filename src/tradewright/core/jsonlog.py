"""Structured logs: one JSON object a line (`--log-format json`), with the correlation ids a record
carries (strategy, order, command, venue, instrument) as their own keys, so a log pipeline can follow
one order or one strategy across lines."""

from __future__ import annotations

import json
import logging
import time

__all__ = ["CORRELATION_KEYS", "JsonFormatter"]

#: Attributes a record may carry (`log.info(..., extra={"strategy_id": "MM_1"})`) copied as top-level keys.
CORRELATION_KEYS = ("strategy_id", "client_order_id", "command_id", "venue", "instrument_id", "run_id")


class JsonFormatter(logging.Formatter):
    """`{"ts": "2026-12-08T00:01:02.345Z", "level": "INFO", "logger": "...", "msg": "...", ...}`."""

    def format(self, record: logging.LogRecord) -> str:
        created = time.gmtime(record.created)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", created) + f".{int(record.msecs):03d}Z"
        out: dict[str, object] = {
            "ts": ts,
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in CORRELATION_KEYS:
            value = record.__dict__.get(key)
            if value is not None:
                out[key] = str(value)
        if record.exc_info and record.exc_info[1] is not None:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)
