"""Everything a report reads from the store, in one pass per table, as plain values.

Queries only: no statistics, no suppression, no rendering. Phone numbers are never selected,
so nothing downstream can leak one by accident.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from kanavat.config import Config
from kanavat.loop import report as loop_report
from kanavat.loop.report import LoopCounts
from kanavat.outreach.reach import TOOK_PART
from kanavat.store import Store

STRATUM_SEPARATOR = "|"


class AnswerRow(NamedTuple):
    """``n`` answers alike: the same question, value, channel, language, input kind and
    profile. Closed questions are counted in SQL, so ``respondent`` is a profile (``p3``: a
    combination of contact attributes and stratum, see ``CampaignData.profiles``) and a
    million answers arrive as a few thousand rows; free-text answers come one per person,
    with the respondent's pseudonym."""

    question: str
    respondent: str
    channel: str
    language: str
    input_kind: str
    value: Any
    status: str
    confirmed: bool
    raw: str | None
    n: int = 1


class Profile(NamedTuple):
    """What a breakdown needs to know of the people behind an aggregated answer row."""

    stratum: str | None
    attributes: dict[str, str]


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
    """Reached on this channel, as ``kanavat.outreach.reach.TOOK_PART`` defines it."""


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
    profiles: dict[str, Profile] = field(default_factory=dict)
    """Profile key (an aggregated answer row's ``respondent``) -> its attributes and stratum."""
    answered: set[str] = field(default_factory=set)
    """Respondents (pseudonyms) who answered at least one question (or said "don't know")."""
    loop: LoopCounts = field(default_factory=LoopCounts)
    """Outcomes told and suggestions to the council (issue 23)."""

    @property
    def has_contacts(self) -> bool:
        return bool(self.contacts)


def stratum_of(attributes: dict[str, Any], keys: list[str]) -> str:
    """The stratum label of a contact, the attribute values joined like the sampler does."""
    return STRATUM_SEPARATOR.join(str(attributes.get(k, "")) for k in keys)


def load(store: Store, config: Config, campaign_id: str) -> CampaignData:
    campaign = config.campaign(campaign_id)
    stratify = campaign.audience.stratify if campaign.audience else []
    # Plain tuples from the cursor, not dict rows: a campaign may have 200,000 contacts.
    contacts = [
        ContactRow(
            respondent,
            stratum,
            disposition,
            attempts,
            language,
            # A service event's attributes (its unit) are the campaign's own view of the contact.
            _attributes(attributes) | _attributes(event_attributes),
        )
        for respondent, stratum, disposition, attempts, language, attributes, event_attributes in (
            store.execute(
                "SELECT cc.respondent, cc.stratum, cc.disposition, cc.attempts, c.language, "
                "c.attributes, cc.attributes FROM campaign_contacts cc "
                "JOIN contacts c ON c.id = cc.contact_id "
                "WHERE cc.campaign_id = ? ORDER BY cc.respondent",
                [campaign_id],
            )
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
    for channel, respondent in store.execute(
        "SELECT DISTINCT a.channel, cc.respondent FROM attempts a JOIN campaign_contacts cc "
        "ON cc.campaign_id = a.campaign_id AND cc.contact_id = a.contact_id "
        "WHERE a.campaign_id = ?",
        [campaign_id],
    ):
        attempted.setdefault(channel, set()).add(respondent)
    sessions = [
        SessionRow(who, channel, status, bool(took_part))
        for who, channel, status, took_part in store.execute(
            "SELECT coalesce('c' || s.contact_id, 'v' || s.visitor_id, 's' || s.id), "
            f"s.channel, s.status, {TOOK_PART} FROM sessions s "
            "WHERE s.campaign_id = ? AND s.status != 'restarted'",
            [campaign_id],
        )
    ]
    text_ids = [q.id for q in config.questionnaire_of(campaign_id).questions if q.type == "text"]
    answers, profiles = _closed_answers(store, campaign_id, text_ids, pool, stratify)
    answers += _text_answers(store, campaign_id, text_ids)
    answered = {
        r[0]
        for r in store.execute(
            "SELECT DISTINCT a.respondent FROM answers a JOIN sessions s ON s.id = a.session_id "
            "WHERE a.campaign_id = ? AND s.status != 'restarted' "
            "AND a.status IN ('answered', 'dont_know')",
            [campaign_id],
        )
    }
    status = store.one(
        "SELECT status, started_at, finished_at FROM campaigns WHERE id = ?", [campaign_id]
    )
    return CampaignData(
        campaign_id=campaign_id,
        answers=answers,
        contacts=contacts,
        attempted=attempted,
        sessions=sessions,
        pool=pool,
        status=status or {},
        profiles=profiles,
        answered=answered,
        loop=loop_report.load(store, config, campaign_id),
    )


MULTI = (
    "SELECT id FROM sessions WHERE campaign_id = ? AND status != 'restarted' AND respondent IN "
    "(SELECT respondent FROM sessions WHERE campaign_id = ? AND status != 'restarted' "
    "GROUP BY respondent HAVING count(*) > 1)"
)
"""Sessions of respondents with more than one (a restarted session's answers were given again
in its successor; a fallback channel may ask again). A session answers each question once,
so only these need the latest answer per respondent and question picked out."""

COLUMNS = "question, channel, language, input_kind, value, status, confirmed"
LATEST = (
    "ROW_NUMBER() OVER (PARTITION BY a.respondent, a.question "
    "ORDER BY a.answered_at DESC, a.id DESC)"
)
"""1 for a respondent's latest answer to a question (portable SQL: a window, not SQLite's
bare columns beside max())."""


def _closed_answers(
    store: Store, campaign_id: str, text_ids: list[str], pool: dict[str, int], stratify: list[str]
) -> tuple[list[AnswerRow], dict[str, Profile]]:
    """Closed answers counted in SQL by value, channel, language, input kind and profile."""
    marks = ",".join("?" * len(text_ids)) or "''"
    picked = ", ".join(f"a.{c}" for c in COLUMNS.split(", "))
    # Everyone with one session: their answers as they are.
    single = (
        f"SELECT {picked}, c.attributes, cc.attributes, cc.stratum, count(*) "
        "FROM answers a JOIN sessions s ON s.id = a.session_id "
        "LEFT JOIN campaign_contacts cc ON cc.campaign_id = a.campaign_id "
        "AND cc.contact_id = s.contact_id LEFT JOIN contacts c ON c.id = s.contact_id "
        f"WHERE a.campaign_id = ? AND s.status != 'restarted' AND a.question NOT IN ({marks}) "
        f"AND a.session_id NOT IN ({MULTI}) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
    )
    # The others: the latest answer per question (the last answered, the higher id on a tie).
    latest = (
        f"SELECT {', '.join(f'l.{c}' for c in COLUMNS.split(', '))}, c.attributes, "
        "cc.attributes, cc.stratum, count(*) FROM ("
        f"SELECT {picked}, a.campaign_id, s.contact_id, {LATEST} AS latest "
        "FROM answers a JOIN sessions s ON s.id = a.session_id "
        f"WHERE a.campaign_id = ? AND s.status != 'restarted' AND a.question NOT IN ({marks}) "
        f"AND a.session_id IN ({MULTI})) l "
        "LEFT JOIN campaign_contacts cc ON cc.campaign_id = l.campaign_id "
        "AND cc.contact_id = l.contact_id LEFT JOIN contacts c ON c.id = l.contact_id "
        "WHERE l.latest = 1 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
    )
    args = [campaign_id, *text_ids, campaign_id, campaign_id]
    rows = store.execute(single, args).fetchall() + store.execute(latest, args).fetchall()
    profiles: dict[tuple[Any, ...], str] = {}
    by_key: dict[str, Profile] = {}
    decoded: dict[str, Any] = {}
    out = []
    for (
        question,
        channel,
        language,
        kind,
        value,
        status,
        confirmed,
        attrs,
        event,
        stratum,
        n,
    ) in rows:
        key = profiles.get((attrs, event, stratum))
        if key is None:
            attributes = _attributes(attrs) | _attributes(event)
            if stratify and stratum not in pool and (attrs or event):
                stratum = stratum_of(attributes, stratify)
            key = profiles[(attrs, event, stratum)] = f"p{len(profiles)}"
            by_key[key] = Profile(stratum, attributes)
        if value is not None:
            if value not in decoded:
                decoded[value] = json.loads(value)
            value = decoded[value]
        out.append(
            AnswerRow(
                question, key, channel, language, kind, value, status, bool(confirmed), None, n
            )
        )
    return out, by_key


def _text_answers(store: Store, campaign_id: str, text_ids: list[str]) -> list[AnswerRow]:
    """Free-text answers one per person: the report lists them."""
    if not text_ids:
        return []
    marks = ",".join("?" * len(text_ids))
    picked = (
        "a.question, a.respondent, a.channel, a.language, a.input_kind, a.value, a.status, "
        "a.confirmed, a.raw"
    )
    where = (
        "FROM answers a JOIN sessions s ON s.id = a.session_id WHERE a.campaign_id = ? "
        f"AND s.status != 'restarted' AND a.question IN ({marks}) AND a.session_id "
    )
    args = [campaign_id, *text_ids, campaign_id, campaign_id]
    rows = store.execute(f"SELECT {picked}, NULL {where} NOT IN ({MULTI})", args).fetchall()
    outer = ", ".join(f"t.{c.removeprefix('a.')}" for c in picked.split(", "))
    rows += store.execute(
        f"SELECT {outer}, NULL FROM (SELECT {picked}, {LATEST} AS latest {where} IN ({MULTI})) t "
        "WHERE t.latest = 1",
        args,
    ).fetchall()
    decoded: dict[str, Any] = {}
    out = []
    for question, respondent, channel, language, kind, value, status, confirmed, raw, _ in rows:
        if value is not None:
            if value not in decoded:
                decoded[value] = json.loads(value)
            value = decoded[value]
        out.append(
            AnswerRow(
                question, respondent, channel, language, kind, value, status, bool(confirmed), raw
            )
        )
    return out


@lru_cache(maxsize=65536)
def _parsed(text: str) -> tuple[tuple[str, str], ...]:
    """Many contacts share one attribute text: parse each once."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return ()
    return tuple((str(k), str(v)) for k, v in data.items()) if isinstance(data, dict) else ()


def _attributes(text: str | None) -> dict[str, str]:
    return dict(_parsed(text or "{}"))
