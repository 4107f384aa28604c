"""Logging: dotted event names with ``key=value`` fields, never personal data.

Log ids, pseudonyms, counts, durations and statuses; never phone numbers, message bodies,
transcripts, request bodies, contact attributes or tokens. :class:`RedactPhones` is the safety
net that masks anything that still looks like a phone number.
"""

from __future__ import annotations

import logging
import re
import sys

PHONE = re.compile(r"(?<![\w/])\+?\d[\d \-]{6,}\d")


class RedactPhones(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if PHONE.search(message):
            record.msg = PHONE.sub("[phone]", message)
            record.args = ()
        return True


def setup(level: str = "INFO", stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler.addFilter(RedactPhones())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "twilio", "apscheduler", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
