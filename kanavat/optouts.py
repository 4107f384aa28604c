"""Opt-outs: the only writer of ``opt_outs``, and the one place that knows an opt-out word.

A number is opted out by a keyword text (Twilio's standard words and the local ones), or
when the provider answers 21610 (the resident replied STOP to Twilio itself). Once opted
out, a number gets no campaign message; its data requests are still answered.
"""

from __future__ import annotations

import re

from kanavat.store import Store

# Twilio's standard opt-out keywords (single word, any case) and the local ones.
TWILIO_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
LOCAL_WORDS = frozenset({"LOPETA", "SLUTA"})
KEYWORD = "sms-keyword"
PROVIDER = "provider-21610"


def keyword(body: str) -> str | None:
    """The opt-out keyword a message consists of (any case, surrounding punctuation), if any."""
    word = re.sub(r"^[\W_]+|[\W_]+$", "", body.strip()).upper()
    return word if word in TWILIO_WORDS | LOCAL_WORDS else None


def opt_out(store: Store, phone: str, source: str) -> bool:
    """Record an opt-out; True if it is new."""
    cur = store.execute(
        "INSERT INTO opt_outs(phone, source, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT(phone) DO NOTHING",
        [phone, source, store.now()],
    )
    return bool(cur.rowcount)


def is_opted_out(store: Store, phone: str) -> bool:
    return store.one("SELECT 1 AS x FROM opt_outs WHERE phone = ?", [phone]) is not None


def opted_out_at(store: Store, phone: str) -> str | None:
    row = store.one("SELECT created_at FROM opt_outs WHERE phone = ?", [phone])
    return row["created_at"] if row else None
