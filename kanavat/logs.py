"""Logging: dotted event names with ``key=value`` fields, never personal data.

Log ids, pseudonyms, counts, durations and statuses; never phone numbers, message bodies,
transcripts, request bodies, contact attributes or tokens. :class:`RedactPhones` is the safety
net that masks anything that still looks like a phone number.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import TextIO

PHONE = re.compile(r"(?<![\w/])\+?\d[\d \-]{6,}\d")
# A date ("2026-12-04", "2026-12-04 16" before ":44") has the shape of a number with dashes.
DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2})?")


def mask_phones(text: str) -> str:
    """Every run of digits that may be a phone number as ``[phone]``; dates stay."""
    return PHONE.sub(lambda m: m[0] if DATE.fullmatch(m[0]) else "[phone]", text)


class RedactPhones(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg = masked
            record.args = ()
        return True


class RedactingFormatter(logging.Formatter):
    """The filter sees only the message; a traceback (``log.exception``) ends with the
    exception's own text, which can quote a number (a provider's "The 'To' number ... is
    not valid"). Masked here, after formatting, so the whole line is covered."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_phones(super().format(record))


def setup(level: str = "INFO", stream: TextIO | None = None) -> None:
    _install(logging.StreamHandler(stream or sys.stderr), level)


def setup_file(path: Path, level: str = "INFO") -> None:
    """Everything to ``path`` and nothing to the screen: a rehearsal shows progress, not logs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _install(logging.FileHandler(path, encoding="utf-8"), level)


def _install(handler: logging.Handler, level: str) -> None:
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler.addFilter(RedactPhones())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "twilio", "apscheduler", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
