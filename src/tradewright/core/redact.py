"""Keep credentials out of every log line, whoever writes it and at whatever level.

At DEBUG, CCXT logs each request with its headers (the API key) and its signed URL; its network errors
quote the URL; urllib3 and aiohttp log URLs too. `install_log_redaction` wraps the log-record factory
(every record of every logger passes through it, before any handler sees it) so that each record is
formatted once and these are replaced by ``***`` in its message, its traceback and its stack:

* each registered secret (the API key, the secret), wherever it appears;
* the value of a ``signature`` parameter (``signature=ab12...``, ``'signature': 'ab12...'``), and of
  ``listenKey``, ``apiKey``, ``secret``, ``password`` and ``token`` parameters.

Records that do not reach an enabled logger are never created, so this costs nothing for them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Redactor", "install_log_redaction"]

MASK = "***"
_SENSITIVE = r"signature|listenKey|apiKey|api_key|secret|password|passwd|token|X-MBX-APIKEY"
# name=value in URLs and forms; "name": "value" / 'name': 'value' in JSON and dict reprs
_PARAMS = re.compile(
    rf"(?i)(?P<name>\b(?:{_SENSITIVE}))(?P<sep>=|['\"]?\s*:\s*['\"]?)(?P<value>[^&\s'\",}}\]]+)"
)
_MIN_SECRET_LEN = 4  # shorter "secrets" would mask ordinary words


class Redactor:
    """Replace registered secrets and sensitive parameter values in text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._literal: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, *secrets: str) -> None:
        """Register values that must never be shown (empty and very short ones are ignored)."""
        with self._lock:
            self._secrets.update(s for s in secrets if len(s) >= _MIN_SECRET_LEN)
            ordered = sorted(self._secrets, key=len, reverse=True)  # longest first: no partial masks
            self._literal = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def redact(self, text: str) -> str:
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        return _PARAMS.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)

    def redact_record(self, record: logging.LogRecord) -> None:
        """Format the record's message once, redacted; redact its traceback and stack too."""
        try:
            message = record.getMessage()
        except Exception:
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info is not None and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
            # a formatter would write the traceback again from exc_info: it has been written, redacted
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)


_installed: Redactor | None = None
_install_lock = threading.Lock()


def install_log_redaction(secrets: Iterable[str] = ()) -> Redactor:
    """Redact every log record of this process from now on; register `secrets`. Return the redactor.

    Calling it again adds secrets to the same redactor (the record factory is wrapped only once).
    """
    global _installed
    with _install_lock:
        if _installed is None:
            redactor = Redactor()
            previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                redactor.redact_record(record)
                return record

            logging.setLogRecordFactory(factory)
            _installed = redactor
        _installed.add(*secrets)
        return _installed
