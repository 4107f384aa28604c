"""Everything a report reads from the store, in one pass per table, as plain values.

Queries only: no statistics, no suppression, no rendering. Phone numbers are never selected,
so nothing downstream can leak one by accident.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from kanavat.config import Config
from kanavat.reach import TOOK_PART
from kanavat.store import Store

STRATUM_SEPARATOR = "|"


class AnswerRow(NamedTuple):
    """One counted answer. A tuple, not a dataclass: a report holds a million of them."""

    question: str
    respondent: str
    channel: str
    language: str
    input_kind: str
    value: Any
    status: str
    confirmed: bool
    raw: str | None


@dataclass(frozen=True)
class ContactRow:
    respondent: str
    stratum: str | None
    disposition: str
    attempts: int
    language: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class SessionRow:
    who: str
    """The contact id or visitor id, as text: sessions are counted per person."""
    channel: str
    status: str
    took_part: bool
    """Reached on this channel, as ``kanavat.reach.TOOK_PART`` defines it."""


@dataclass
class CampaignData:
    campaign_id: str
    answers: list[AnswerRow]
    contacts: list[ContactRow]
    attempted: dict[str, set[str]]
    """Channel -> respondents with at least one attempt on it."""
    sessions: list[SessionRow]
    pool: dict[str, int] = field(default_factory=dict)
    """Stratum -> contacts in the audience group (the population a sample was drawn from)."""
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def has_contacts(self) -> bool:
        return bool(self.contacts)


def stratum_of(attributes: dict[str, Any], keys: list[str]) -> str:
    """The stratum label of a contact, the attribute values joined like the sampler does."""
    return STRATUM_SEPARATOR.join(str(attributes.get(k, "")) for k in keys)


def load(store: Store, config: Config, campaign_id: str) -> CampaignData:
    campaign = config.campaign(campaign_id)
    stratify = campaign.audience.stratify if campaign.audience else []
    contacts = [
        ContactRow(
            respondent=r["respondent"],
            stratum=r["stratum"],
            disposition=r["disposition"],
            attempts=r["attempts"],
            language=r["language"],
            # A service event's attributes (its unit) are the campaign's own view of the contact.
            attributes=_attributes(r["attributes"]) | _attributes(r["event_attributes"]),
        )
        for r in store.query(
            "SELECT cc.respondent, cc.stratum, cc.disposition, cc.attempts, c.language, "
            "c.attributes, cc.attributes AS event_attributes "
            "FROM campaign_contacts cc JOIN contacts c ON c.id = cc.contact_id "
            "WHERE cc.campaign_id = ? ORDER BY cc.respondent",
            [campaign_id],
        )
    ]
    pool: dict[str, int] = {}
    if campaign.audience and stratify:
        for r in store.query(
            "SELECT c.attributes FROM contacts c JOIN contact_groups g ON g.contact_id = c.id "
            "WHERE g.group_name = ?",
            [campaign.audience.group],
        ):
            key = stratum_of(_attributes(r["attributes"]), stratify)
            pool[key] = pool.get(key, 0) + 1
        # The stored stratum is the design's truth; if it cannot be matched to the pool
        # (another label format), use the one computed from the same attributes.
        contacts = [
            c
            if c.stratum in pool
            else ContactRow(
                c.respondent,
                stratum_of(c.attributes, stratify),
                c.disposition,
                c.attempts,
                c.language,
                c.attributes,
            )
            for c in contacts
        ]
    attempted: dict[str, set[str]] = {}
    for r in store.query(
        "SELECT DISTINCT a.channel, cc.respondent FROM attempts a JOIN campaign_contacts cc "
        "ON cc.campaign_id = a.campaign_id AND cc.contact_id = a.contact_id "
        "WHERE a.campaign_id = ?",
        [campaign_id],
    ):
        attempted.setdefault(r["channel"], set()).add(r["respondent"])
    sessions = [
        SessionRow(
            who=r["who"], channel=r["channel"], status=r["status"], took_part=bool(r["took_part"])
        )
        for r in store.query(
            "SELECT coalesce('c' || s.contact_id, 'v' || s.visitor_id, 's' || s.id) AS who, "
            f"s.channel, s.status, {TOOK_PART} AS took_part FROM sessions s "
            "WHERE s.campaign_id = ? AND s.status != 'restarted'",
            [campaign_id],
        )
    ]
    answers: dict[tuple[str, str], AnswerRow] = {}
    decoded: dict[str, Any] = {}
    # A restarted session's answers were given again in its successor; the latest answer
    # per respondent and question is the one that counts. Plain tuples from the cursor and
    # one decoding per distinct stored value: a campaign has few distinct values but up to
    # millions of answers, and dict rows plus json.loads per row were most of the build time.
    rows = store.execute(
        "SELECT a.question, a.respondent, a.channel, a.language, a.input_kind, a.value, "
        "a.status, a.confirmed, a.raw FROM answers a JOIN sessions s ON s.id = a.session_id "
        "WHERE a.campaign_id = ? AND s.status != 'restarted' ORDER BY a.answered_at, a.id",
        [campaign_id],
    ).fetchall()
    for question, respondent, channel, language, kind, value, status, confirmed, raw in rows:
        if value is not None:
            if value not in decoded:
                decoded[value] = json.loads(value)
            value = decoded[value]
        answers[(respondent, question)] = AnswerRow(
            question, respondent, channel, language, kind, value, status, bool(confirmed), raw
        )
    status = store.one(
        "SELECT status, started_at, finished_at FROM campaigns WHERE id = ?", [campaign_id]
    )
    return CampaignData(
        campaign_id=campaign_id,
        answers=list(answers.values()),
        contacts=contacts,
        attempted=attempted,
        sessions=sessions,
        pool=pool,
        status=status or {},
    )


def _attributes(text: str | None) -> dict[str, str]:
    try:
        data = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
