"""Erasure at a resident's request: forget the person, keep only what cannot point back.

``[privacy] erasure`` chooses what happens to their answers:

- ``delete``: the answers and the sessions that held them are deleted, as is their place in
  each campaign's audience; reports computed later no longer count them.
- ``anonymise``: closed answers (a scale point, yes/no, an option) stay for the council's
  counts under a fresh random respondent id that nothing links to the person; their raw
  words are dropped, and free-text answers are deleted (a sentence can name its writer).

Either way the embeddings of their answers and their place in officials' themes go
(``kanavat.themes``), as do the number, the contact's attributes and groups, any pending request and the
personal fields of stored events are removed. The contact row stays as a tombstone (no number,
no attributes) because other rows refer to its id. An opt-out is kept: it is the record that
this number must not be contacted, which the resident asked for. Reports already published
held only suppressed aggregates (``[privacy] min_cell``) and need no change.

The audit entry says what was done and how much, never to whom.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from kanavat import attempts, contacts, conversations, inbound
from kanavat.config import Config
from kanavat.loop import privacy as loop_privacy
from kanavat.outreach import queue
from kanavat.privacy import scrub
from kanavat.privacy.data import Person, person_sessions
from kanavat.questions.model import TextQuestion
from kanavat.store import Store


@dataclass(frozen=True)
class ErasureReport:
    mode: Literal["delete", "anonymise"]
    found: bool
    sessions: int = 0
    answers_deleted: int = 0
    answers_kept: int = 0
    events_scrubbed: int = 0


def erase(store: Store, config: Config, person: Person, source: str) -> ErasureReport:
    """Erase or anonymise everything linked to ``person``; ``source`` (sms, chat, cli) is
    audited. Idempotent: erasing again finds nothing."""
    mode = config.privacy.erasure
    scrub.secure(store)
    with store.transaction():
        contact = (
            store.one("SELECT id FROM contacts WHERE phone = ?", [person.phone])
            if person.phone
            else None
        )
        contact_id = contact["id"] if contact else None
        sessions = person_sessions(store, person, contact_id)
        deleted = kept = 0
        for session in sessions:
            free = _free_text_questions(config, session["campaign_id"])
            _conversation(store, session, None if mode == "delete" else "x" + secrets.token_hex(6))
            _themes(store, session["id"])
            d, k = conversations.erase_session(store, session, free, mode)
            deleted, kept = deleted + d, kept + k
        if contact_id is not None:
            _forget_contact(store, contact_id, mode)
        events = 0
        if person.phone:
            events = scrub.scrub_phone_events(store, person.phone)
            attempts.forget_number(store, person.phone)
        if person.visitor:
            events = _forget_visitor_events(store, person.visitor)
        # Suggestions and notices (issue 23): nothing more is told; texts and numbers go.
        found_loop = loop_privacy.forget(store, config, contact_id, person.phone, person.visitor)
        store.execute("DELETE FROM privacy_requests WHERE who = ?", [request_key(store, person)])
        found = contact_id is not None or bool(sessions) or found_loop
        report = ErasureReport(mode, found, len(sessions), deleted, kept, events)
        store.audit(
            "privacy.erase",
            source=source,
            mode=mode,
            found=found,
            sessions=len(sessions),
            answers_deleted=deleted,
            answers_kept=kept,
            events_scrubbed=events,
        )
    scrub.flush(store)
    return report


def request_key(store: Store, person: Person) -> str:
    """The key of a person's pending request: a keyed hash, never the number itself."""
    identity = f"phone:{person.phone}" if person.phone else f"visitor:{person.visitor}"
    return store.pseudonym("privacy", identity)


def _conversation(store: Store, session: dict, stranger: str | None) -> None:
    """A conversation's votes (issue 20) go, or stay under a random id; residents' own
    statements were never linked to them."""
    from kanavat.conversation import groups, votes

    votes.erase_respondent(store, session["campaign_id"], session["respondent"], stranger)
    groups.forget_member(store, session["campaign_id"], session["respondent"])


def _themes(store: Store, session_id: int) -> None:
    """Free-text themes (issue 21): the embeddings of the session's answers go, and no
    official's theme is made of them any more (its centre is derived from answers held)."""
    from kanavat.themes import named, stored

    stored.forget_session(store, session_id)
    named.forget_session(store, session_id)


def _free_text_questions(config: Config, campaign_id: str) -> set[str]:
    campaign = config.campaigns.get(campaign_id)
    questionnaire = config.questionnaires.get(campaign.questionnaire) if campaign else None
    if questionnaire is None:
        return set()
    return {q.id for q in questionnaire.questions if isinstance(q, TextQuestion)}


def _forget_contact(store: Store, contact_id: int, mode: str) -> None:
    queue.forget(store, contact_id, delete=mode == "delete")
    contacts.erase(store, contact_id)


def _forget_visitor_events(store: Store, visitor: str) -> int:
    """A visitor's chat events: scrubbed, and their idempotency key (which carries the
    visitor id) dropped; only a frame re-sent on the same connection could need it."""
    prefix = f"{visitor}:"
    where = "channel = 'chat' AND substr(external_id, 1, ?) = ?"
    count = scrub.scrub_events(store, where, [len(prefix), prefix])
    inbound.forget_chat_keys(store, visitor)
    return count
