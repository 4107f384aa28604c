"""The outbound number guard: nobody can make kanavat text or ring a number it should not.

A contact list is validated on import, but numbers also arrive from a webhook's ``From`` (a
reply goes back to whoever wrote) and from the store. So the last line is at the boundary:
``kanavat/sms/send.py`` and ``kanavat/provider.py`` call :func:`refusal` before every send and
dial. Only valid numbers in the county's ``[privacy] allowed_country_codes`` (default +358)
pass, and premium-rate and shared-cost numbers never do, whatever the country: a forged
inbound message from a 0600 number must not earn anyone money.

It logs the reason and the country code, never the number.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import phonenumbers
from phonenumbers import PhoneNumberType

log = logging.getLogger("kanavat.privacy.guard")

DEFAULT_COUNTRY_CODES = (358,)
# Twilio's own codes for the same refusals (https://www.twilio.com/docs/errors/<code>), so
# callers handle a guard refusal exactly as Twilio's: 21211 invalid 'To', 21215 geo
# permissions do not allow the destination, 21216 premium numbers not allowed.
INVALID = 21211
COUNTRY_NOT_ALLOWED = 21215
PREMIUM = 21216
COSTLY_TYPES = {PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST}


def refusal(number: str, allowed: Iterable[int] = DEFAULT_COUNTRY_CODES) -> tuple[int, str] | None:
    """Why ``number`` must not be texted or called, as (Twilio error code, reason); None if it
    may. ``number`` is E.164 as the provider gets it; anything else is refused."""
    allowed = tuple(allowed)
    text = number.strip() if isinstance(number, str) else ""
    if not text.startswith("+"):
        return _refused(INVALID, "not an E.164 number", None)
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return _refused(INVALID, "not a phone number", None)
    code = parsed.country_code
    if not phonenumbers.is_valid_number(parsed):
        return _refused(INVALID, "not a valid phone number", code)
    if code not in allowed:
        listed = ", ".join(f"+{c}" for c in allowed) or "none"
        return _refused(
            COUNTRY_NOT_ALLOWED, f"country code +{code} is not allowed (allowed: {listed})", code
        )
    if phonenumbers.number_type(parsed) in COSTLY_TYPES:
        return _refused(PREMIUM, "premium-rate and shared-cost numbers are never called", code)
    return None


def _refused(code: int, reason: str, country: int | None) -> tuple[int, str]:
    log.warning("guard.refused code=%s country=%s", code, f"+{country}" if country else "-")
    return code, reason
