"""Small Twilio wire details shared by the emulator's routes: sids, dates, errors, segments.

Each follows twilio-protocol.md (§0 identifiers, §1 errors, §2 segments); keep them exact,
because the server's parsers and the official library are tested against them.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache

from aiohttp import web

API_VERSION = "2010-04-01"

# GSM 03.38 basic table; Ä Ö Å ä ö å are in it, so plain Finnish and Swedish stay GSM-7.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")  # escape + char: two septets each
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

ERRORS_URL = "https://www.twilio.com/docs/errors/{}"


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def now() -> datetime:
    return datetime.now(UTC)


def rfc2822(when: datetime | None) -> str | None:
    """REST timestamps: RFC 2822 in GMT with ``+0000``, e.g. Thu, 24 Aug 2023 05:01:45 +0000."""
    return None if when is None else _rfc2822(when.astimezone(UTC).replace(microsecond=0))


@lru_cache(maxsize=64)
def _rfc2822(second: datetime) -> str:
    """Formatted once a second (a busy emulator formats the same second hundreds of times)."""
    return format_datetime(second).replace("-0000", "+0000")


def is_e164(number: str) -> bool:
    """Loose E.164 check; Twilio's 21211 is about the shape, not reachability."""
    return bool(_E164.match(number or ""))


@lru_cache(maxsize=1024)
def segments(body: str) -> tuple[int, str]:
    """``(num_segments, encoding)``: GSM-7 160/153 per part, else UCS-2 70/67 (§2)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in body)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        # UTF-16 code units: characters outside the BMP take two.
        units = len(body.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return 1, encoding
    return -(-units // multi), encoding


def error_response(status: int, code: int, message: str) -> web.Response:
    """Legacy 2010 API error body; no ``type``/``title`` keys (the library would parse RFC 9457)."""
    body = {
        "code": code,
        "message": message,
        "more_info": ERRORS_URL.format(code),
        "status": status,
    }
    return web.json_response(body, status=status)


class RestError(Exception):
    """Raised inside REST handlers; the middleware turns it into ``error_response``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
