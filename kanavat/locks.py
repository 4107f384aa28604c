"""The names transactions lock (``Store.transaction(*names)``), in one place.

A resident's work (a turn, a call's status, a contact taken off the queue) is named after
the resident: ``contact:ID`` once the number is a contact's, else the number, the chat
visitor or the call (a text turn takes its number's name, then its contact's). So on
PostgreSQL one resident's turns wait for each other in every worker, and different
residents' turns run side by side. Work that reads across residents
names what it reads (a campaign's sample, a campaign's statements). On SQLite the names
change nothing: every transaction holds the file's one write lock.
"""

from __future__ import annotations

from kanavat.store import Store

CLAIMS = "claims"  # the dispatcher's claims of due residents (one claimer at a time)
NOTICES = "notices"  # the notices lane's claims of due notices (one claimer at a time)


def contact(contact_id: int) -> str:
    return f"contact:{contact_id}"


def phone(number: str) -> str:
    """A text's sender, before its contact is known: a text turn locks the number first and
    its contact (``contact``) as soon as it has found it, in that order; no transaction
    holding a contact waits for a number, so the two orders never cross."""
    return f"phone:{number}"


def of_session(store: Store, session_id: int) -> str:
    """A session's resident: its contact, or its chat visitor, or the session."""
    if not store.is_postgres:
        return f"session:{session_id}"
    row = store.one("SELECT contact_id, visitor_id FROM sessions WHERE id = ?", [session_id])
    if row is None:
        return f"session:{session_id}"
    return of_identity(row["contact_id"], row["visitor_id"], f"session:{session_id}")


def of_identity(contact_id: int | None, visitor_id: str | None, otherwise: str) -> str:
    if contact_id is not None:
        return contact(int(contact_id))
    return f"visitor:{visitor_id}" if visitor_id else otherwise


def of_attempt(store: Store, attempt_id: int | None, otherwise: str) -> str:
    """An attempt's resident (a call, an invitation), or ``otherwise`` if it is unknown."""
    if attempt_id is None or not store.is_postgres:
        return otherwise
    row = store.one("SELECT contact_id FROM attempts WHERE id = ?", [attempt_id])
    return contact(int(row["contact_id"])) if row else otherwise


def of_call(store: Store, call_sid: str) -> str:
    """A provider call's resident (its attempt's contact), or the call."""
    if not store.is_postgres:
        return f"call:{call_sid}"
    row = store.one("SELECT contact_id FROM attempts WHERE provider_sid = ?", [call_sid])
    return contact(int(row["contact_id"])) if row else f"call:{call_sid}"


def event(channel: str, kind: str, key: str | None) -> str:
    return f"event:{channel}:{kind}:{key}"


def sample(campaign_id: str) -> str:
    """A campaign's sample: its strata's counts, reserves and replacements."""
    return f"sample:{campaign_id}"


def statements(campaign_id: str) -> str:
    """A campaign's conversation statements (a new one is checked against all of them)."""
    return f"statements:{campaign_id}"
