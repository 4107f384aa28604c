"""Everything a report reads from the store, in one pass per table, as plain values.

Queries only: no statistics, no suppression, no rendering. Phone numbers are never selected,
so nothing downstream can leak one by accident.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from kanavat.config import Config
from kanavat.loop import report as loop_report
from kanavat.loop.report import LoopCounts
from kanavat.outreach.reach import TOOK_PART
from kanavat.report import id_lists
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
    answer_id: int | None = None
    """A free-text answer's id in the store (its embedding is kept under it)."""


class Profile(NamedTuple):
    """What a breakdown needs to know of the people behind an aggregated answer row."""

    stratum: str | None
    attributes: dict[str, str]


@dataclass(frozen=True)
class ContactCell:
    """``n`` contacts of the campaign alike in what the report counts of them."""

    stratum: str | None
    disposition: str
    attempted: bool
    """At least one attempt recorded on the contact."""
    answered: bool
    """Answered at least one question (or said "don't know")."""
    n: int


@dataclass(frozen=True)
class ChannelReach:
    """People counted once each (a contact or a chat visitor), on one channel or on all."""

    contacted: int
    """Contacts with at least one attempt (on this channel; on any, or counted as attempted)."""
    reached: int
    """Took part, as ``kanavat.outreach.reach.TOOK_PART`` defines it."""
    completed: int
    started: int
    """Anyone with a session (a chat visitor has no attempts)."""


@dataclass(frozen=True)
class TextAnswers:
    """A free-text question's written or spoken answers: how many, and the answers, read from
    the store only while they are iterated, in pseudonym order (200,000 texts are never all in
    memory at once)."""

    count: int
    """Answered with a text that is not blank."""
    read: Callable[[], Iterator[AnswerRow]]
    read_texts: Callable[[], Iterator[tuple[str, str]]] | None = None
    """(pseudonym, text) only, for the report's list; else taken from ``read``."""

    def rows(self) -> Iterator[AnswerRow]:
        return self.read()

    def texts(self) -> Iterator[tuple[str, str]]:
        if self.read_texts is not None:
            return self.read_texts()
        return ((a.respondent, _text_of(a)) for a in self.read())

    @classmethod
    def of(cls, rows: Iterable[AnswerRow]) -> TextAnswers:
        """From rows already in memory (tests, a handful of answers)."""
        listed = sorted(
            (a for a in rows if a.status == "answered" and _text_of(a)), key=lambda a: a.respondent
        )
        return cls(len(listed), lambda: iter(listed))


def _text_of(a: AnswerRow) -> str:
    return str(a.raw if a.raw is not None else a.value or "").strip()


@dataclass
class CampaignData:
    campaign_id: str
    answers: list[AnswerRow]
    contacts: list[ContactCell]
    reach: dict[str | None, ChannelReach]
    """Channel -> its reach; ``None`` -> everyone once, whatever their channels."""
    respondents: int
    """People who answered at least one question (or said "don't know")."""
    pool: dict[str, int] = field(default_factory=dict)
    """Stratum -> contacts in the audience group (the population a sample was drawn from)."""
    status: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)
    """Profile key (an aggregated answer row's ``respondent``) -> its attributes and stratum."""
    loop: LoopCounts = field(default_factory=LoopCounts)
    """Outcomes told and suggestions to the council (issue 23)."""
    texts: dict[str, TextAnswers] = field(default_factory=dict)
    """Free-text question -> its answers' texts, read when listed (``answers`` holds their
    counts by status, channel and input kind only)."""

    @property
    def has_contacts(self) -> bool:
        return bool(self.contacts)


def stratum_of(attributes: dict[str, Any], keys: list[str]) -> str:
    """The stratum label of a contact, the attribute values joined like the sampler does."""
    return STRATUM_SEPARATOR.join(str(attributes.get(k, "")) for k in keys)


ANSWERED = (
    "EXISTS (SELECT 1 FROM answers x WHERE x.session_id = s.id "
    "AND x.status IN ('answered', 'dont_know'))"
)
"""SQL over a session ``s``: its person answered at least one question (or said "don't
know"): a respondent of the report."""

PERSON = "coalesce('c' || s.contact_id, 'v' || s.visitor_id, 's' || s.id)"
"""A session's person: the contact, else the chat visitor, else the session itself."""


def load(store: Store, config: Config, campaign_id: str) -> CampaignData:
    """Everything a report needs, counted in SQL: a contact list of 200,000 and a million
    answers arrive as a few thousand rows."""
    campaign = config.campaign(campaign_id)
    stratify = campaign.audience.stratify if campaign.audience else []
    pool: dict[str, int] = {}
    if campaign.audience and stratify:
        for attributes, n in store.execute(
            "SELECT c.attributes, count(*) FROM contacts c JOIN contact_groups g "
            "ON g.contact_id = c.id WHERE g.group_name = ? GROUP BY c.attributes",
            [campaign.audience.group],
        ):
            key = stratum_of(_attributes(attributes), stratify)
            pool[key] = pool.get(key, 0) + n
    text_ids = [q.id for q in config.questionnaire_of(campaign_id).questions if q.type == "text"]
    several = _several_sessions(store, campaign_id)
    answers, profiles = _closed_answers(store, campaign_id, text_ids, pool, stratify, several)
    texts = {q: _text_answers(store, campaign_id, q, several) for q in text_ids}
    # One pass over the sessions that answered: how many people, and which contacts.
    respondents, answered = store.execute(
        f"SELECT count(DISTINCT s.respondent), {store.backend.id_list('s.contact_id')} "
        f"FROM sessions s WHERE s.campaign_id = ? AND s.status != 'restarted' AND {ANSWERED}",
        [campaign_id],
    ).fetchone()
    status = store.one(
        "SELECT status, started_at, finished_at FROM campaigns WHERE id = ?", [campaign_id]
    )
    return CampaignData(
        campaign_id=campaign_id,
        answers=answers,
        contacts=_contacts(store, campaign_id, pool, stratify, id_lists.ids_of(answered)),
        reach=_reach(store, campaign_id, list(campaign.channels)),
        respondents=respondents,
        pool=pool,
        status=status or {},
        profiles=profiles,
        loop=loop_report.load(store, config, campaign_id),
        texts=texts,
    )


def _contacts(
    store: Store, campaign_id: str, pool: dict[str, int], stratify: list[str], answered: np.ndarray
) -> list[ContactCell]:
    """The campaign's contacts counted by stratum, disposition, attempted and answered.

    Counted from three index scans: the contacts by stratum and disposition, each listing its
    contacts (``id_list``); the few with no attempt counted on their row that have an attempt
    recorded; and ``answered``, the contacts whose sessions answered something. The stored stratum is the
    design's truth; only if one cannot be matched to the pool (another label format) are the
    contacts counted by their attributes too (``_contacts_by_attributes``)."""
    ids = store.backend.id_list
    rows = store.execute(
        f"SELECT cc.stratum, cc.disposition, CASE WHEN cc.attempts > 0 THEN 1 ELSE 0 END, "
        f"{ids('cc.contact_id')} FROM campaign_contacts cc JOIN contacts c "
        "ON c.id = cc.contact_id WHERE cc.campaign_id = ? GROUP BY 1, 2, 3",
        [campaign_id],
    ).fetchall()
    if stratify and any(stratum not in pool for stratum, *_ in rows):
        return _contacts_by_attributes(store, campaign_id, pool, stratify)
    tried = id_lists.ids_of(
        store.execute(
            f"SELECT {ids('cc.contact_id')} FROM campaign_contacts cc WHERE cc.campaign_id = ? "
            "AND cc.attempts <= 0 AND EXISTS (SELECT 1 FROM attempts t WHERE "
            "t.campaign_id = cc.campaign_id AND t.contact_id = cc.contact_id)",
            [campaign_id],
        ).fetchone()[0]
    )
    tried, answered = np.sort(tried), np.sort(answered)
    counted: dict[tuple[str | None, str, bool, bool], int] = {}
    for stratum, disposition, attempts, listed in rows:
        contacts = id_lists.ids_of(listed)
        attempted = id_lists.among(contacts, tried) | bool(attempts)
        took_part = id_lists.among(contacts, answered)
        for a in (False, True):
            for b in (False, True):
                n = int(np.count_nonzero((attempted == a) & (took_part == b)))
                if n:
                    key = (stratum, disposition, a, b)
                    counted[key] = counted.get(key, 0) + n
    return [ContactCell(*key, n) for key, n in counted.items()]


def _contacts_by_attributes(
    store: Store, campaign_id: str, pool: dict[str, int], stratify: list[str]
) -> list[ContactCell]:
    """As ``_contacts``, a stratum not in the pool taken from the contact's attributes."""
    rows = store.execute(
        "SELECT cc.stratum, c.attributes, cc.attributes, cc.disposition, "
        "CASE WHEN cc.attempts > 0 OR EXISTS (SELECT 1 FROM attempts t WHERE "
        "t.campaign_id = cc.campaign_id AND t.contact_id = cc.contact_id) THEN 1 ELSE 0 END, "
        "CASE WHEN EXISTS (SELECT 1 FROM sessions s WHERE s.campaign_id = cc.campaign_id "
        f"AND s.contact_id = cc.contact_id AND s.status != 'restarted' AND {ANSWERED}) "
        "THEN 1 ELSE 0 END, count(*) FROM campaign_contacts cc "
        "JOIN contacts c ON c.id = cc.contact_id WHERE cc.campaign_id = ? "
        "GROUP BY 1, 2, 3, 4, 5, 6",
        [campaign_id],
    ).fetchall()
    out = []
    for stratum, attrs, event, disposition, attempted, answered, n in rows:
        if stratify and stratum not in pool:
            stratum = stratum_of(_attributes(attrs) | _attributes(event), stratify)
        out.append(ContactCell(stratum, disposition, bool(attempted), bool(answered), n))
    return out


def _reach(store: Store, campaign_id: str, channels: list[str]) -> dict[str | None, ChannelReach]:
    """Per channel and overall: people contacted, reached, completed and started (a person on
    two channels counts once overall). Contacts' sessions are read in one index scan, each as
    one number, and counted per person with numpy; chat visitors' (no contact) in SQL."""
    row = id_lists.contacts_reach(store, campaign_id, channels)
    sums = ", ".join(f"sum(f{i})" for i in range(3 + 3 * len(channels)))
    columns = ["max(p.took_part)", "max(p.completed)", "1"] + [
        f"max(CASE WHEN p.channel = ? THEN p.{flag} ELSE 0 END)"
        for _ in channels
        for flag in ("took_part", "completed", "started")
    ]
    inner = ", ".join(f"{c} AS f{i}" for i, c in enumerate(columns))
    visitors = store.execute(
        f"SELECT {sums} FROM (SELECT {inner} FROM ("
        f"SELECT {PERSON} AS who, s.channel AS channel, "
        f"CASE WHEN {TOOK_PART} THEN 1 ELSE 0 END AS took_part, "
        "CASE WHEN s.status = 'completed' THEN 1 ELSE 0 END AS completed, 1 AS started "
        "FROM sessions s WHERE s.campaign_id = ? AND s.status != 'restarted' "
        "AND s.contact_id IS NULL) p GROUP BY p.who) q",
        [*(ch for ch in channels for _ in range(3)), campaign_id],
    ).fetchone()
    row = [n + int(v or 0) for n, v in zip(row, visitors, strict=True)]
    contacted = id_lists.contacted(store, campaign_id, channels)
    everyone = store.execute(
        "SELECT count(*) FROM campaign_contacts cc WHERE cc.campaign_id = ? AND "
        "(cc.attempts > 0 OR EXISTS (SELECT 1 FROM attempts t WHERE "
        "t.campaign_id = cc.campaign_id AND t.contact_id = cc.contact_id))",
        [campaign_id],
    ).fetchone()[0]
    out: dict[str | None, ChannelReach] = {None: ChannelReach(everyone, *row[:3])}
    for i, channel in enumerate(channels):
        reached, completed, started = row[3 + 3 * i : 6 + 3 * i]
        out[channel] = ChannelReach(contacted.get(channel, 0), reached, completed, started)
    return out


MULTI = (
    "SELECT id FROM sessions WHERE campaign_id = ? AND status != 'restarted' AND respondent IN "
    "(SELECT respondent FROM sessions WHERE campaign_id = ? AND status != 'restarted' "
    "GROUP BY respondent HAVING count(*) > 1)"
)
"""Sessions of respondents with more than one (a restarted session's answers were given again
in its successor; a fallback channel may ask again). A session answers each question once,
so only these need the latest answer per respondent and question picked out."""

RESTARTED = "SELECT id FROM sessions WHERE campaign_id = ? AND status = 'restarted'"
"""A campaign's restarted sessions (their answers were given again in the next one): few."""
COLUMNS = "question, channel, language, input_kind, value, status, confirmed"
LATEST = (
    "ROW_NUMBER() OVER (PARTITION BY a.respondent, a.question "
    "ORDER BY a.answered_at DESC, a.id DESC)"
)
"""1 for a respondent's latest answer to a question (portable SQL: a window, not SQLite's
bare columns beside max())."""


def _few_sessions(multi: str) -> str:
    """The answers of the sessions ``multi`` lists (``MULTI``'s: the campaign's, none
    restarted), found from those few sessions by id (the join's order is fixed: not by
    reading every answer or session of the campaign)."""
    return (
        f"FROM sessions s CROSS JOIN answers a WHERE s.id IN ({multi}) "
        "AND a.session_id = s.id AND a.campaign_id = s.campaign_id "
    )


LISTED_IDS = 20_000
"""Up to this many sessions of people with several are written into a report's statements
as their ids (``MULTI`` evaluated once); beyond, each statement evaluates ``MULTI``."""


def _several_of(store: Store, campaign_id: str) -> tuple[str, list[Any]]:
    """``MULTI`` as SQL and its arguments: its session ids, found once, when they are few."""
    found = id_lists.ids_of(
        store.execute(
            f"SELECT {store.backend.id_list('m.id')} FROM ({MULTI}) m", [campaign_id, campaign_id]
        ).fetchone()[0]
    )
    if len(found) > LISTED_IDS:
        return MULTI, [campaign_id, campaign_id]
    return ",".join(str(int(i)) for i in found) or "-1", []  # -1: no session's id


def _several_sessions(store: Store, campaign_id: str) -> bool:
    """Whether anyone has more than one session; most campaigns have nobody, and then no
    answer needs the latest-answer filter (a million rows spared a look-up each)."""
    return store.execute(f"SELECT EXISTS ({MULTI})", [campaign_id, campaign_id]).fetchone()[0] == 1


def _has_profiles(store: Store, campaign_id: str) -> bool:
    """Whether any of the campaign's contacts has attributes or a stratum (else every answer
    has the same, empty profile: a chat visitor's, or a bare phone list's)."""
    return store.execute(
        "SELECT EXISTS (SELECT 1 FROM campaign_contacts cc JOIN contacts c "
        "ON c.id = cc.contact_id WHERE cc.campaign_id = ? AND (cc.stratum IS NOT NULL "
        "OR coalesce(cc.attributes, '{}') != '{}' OR coalesce(c.attributes, '{}') != '{}'))",
        [campaign_id],
    ).fetchone()[0] in (1, True)


def _closed_answers(
    store: Store,
    campaign_id: str,
    text_ids: list[str],
    pool: dict[str, int],
    stratify: list[str],
    several: bool = True,
    one_profile: bool | None = None,
) -> tuple[list[AnswerRow], dict[str, Profile]]:
    """Answers counted in SQL by value, channel, language, input kind and profile; a free-text
    answer by all but its value (its text is read only when listed, see ``TextAnswers``).

    The counts come from the covering index ``answers_counted``, whose columns are the ones
    grouped by, so they stream out of it in its order without a sort. When none of the
    campaign's contacts has attributes or a stratum there is one profile and that is all;
    otherwise each group lists its sessions (``id_list``), and the sessions' profiles, read
    once per session, count them by profile (numpy): no join and no sort over a million
    answers. ``one_profile`` says which (found out when None)."""
    marks = ",".join("?" * len(text_ids)) or "''"
    multi, several_args = _several_of(store, campaign_id) if several else ("", [])
    if one_profile is None:
        one_profile = not _has_profiles(store, campaign_id)
    # No column of the session needed: its status is checked against the few restarted ones.
    plain = (
        "NULL, NULL, NULL",
        f"FROM answers a WHERE a.campaign_id = ? AND a.session_id NOT IN ({RESTARTED}) ",
        [campaign_id, campaign_id],
    )
    picked = "a.question, a.channel, a.language, a.input_kind, a.status, a.confirmed"
    outer = ", ".join(f"l.{c.removeprefix('a.')}" for c in picked.split(", "))
    rows: list[tuple[Any, ...]] = []
    # Free-text answers are counted only by status, channel and input kind: no profile.
    for value, which in (("a.value", "NOT IN"), ("NULL", "IN")):
        if value != "NULL" and not one_profile:
            rows += id_lists.by_profile(
                store,
                campaign_id,
                picked,
                which,
                marks,
                text_ids,
                (multi, several_args) if several else None,
            )
        else:
            # Grouped in the index's order (value last; a constant among the grouped terms
            # would keep SQLite from reading that order). Everyone with one session: their
            # answers as they are.
            profile, source, source_args = plain
            grouped = [1, 2, 3, 4, 5, 6] + [7] * (value != "NULL")
            rows += store.execute(
                f"SELECT {picked}, {value}, {profile}, count(*) {source}"
                f"AND a.question {which} ({marks}) "
                f"{f'AND a.session_id NOT IN ({multi}) ' if several else ''}"
                f"GROUP BY {', '.join(map(str, grouped))}",
                [*source_args, *text_ids, *several_args],
            ).fetchall()
        if not several:
            continue
        # The others: the latest answer per question (the last answered, the higher id on a tie).
        rows += store.execute(
            f"SELECT {outer}, l.value, c.attributes, cc.attributes, cc.stratum, count(*) FROM ("
            f"SELECT {picked}, {value} AS value, a.campaign_id, s.contact_id, {LATEST} AS latest "
            f"{_few_sessions(multi)}AND a.question {which} ({marks})) l "
            "LEFT JOIN campaign_contacts cc ON cc.campaign_id = l.campaign_id "
            "AND cc.contact_id = l.contact_id LEFT JOIN contacts c ON c.id = l.contact_id "
            "WHERE l.latest = 1 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10",  # a few people only
            [*several_args, *text_ids],
        ).fetchall()
    profiles: dict[tuple[Any, ...], str] = {}
    by_key: dict[str, Profile] = {}
    decoded: dict[str, Any] = {}
    out = []
    for (
        question,
        channel,
        language,
        kind,
        status,
        confirmed,
        value,
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


TEXT_COLUMNS = (
    "a.question, a.respondent, a.channel, a.language, a.input_kind, a.value, a.status, "
    "a.confirmed, a.raw, a.id"
)
WRITTEN = "{t}.status = 'answered' AND trim(coalesce({t}.raw, {t}.value, '')) NOT IN ('', '\"\"')"
"""SQL over an answer ``{t}``: answered with a text that is not blank (``value`` is JSON)."""
CHUNK = 2000
"""Rows read at a time (a SQLite cursor steps through its rows; PostgreSQL's arrive whole)."""


def _text_answers(store: Store, campaign_id: str, question: str, several: bool) -> TextAnswers:
    """A free-text question's answers, one per person: counted now, read when listed (in
    pseudonym order, which ``answers_listed`` gives without a sort)."""
    where = (
        "FROM answers a WHERE a.campaign_id = ? AND a.question = ? "
        f"AND a.session_id NOT IN ({RESTARTED}) "
    )
    args: list[Any] = [campaign_id, question, campaign_id]
    if several:
        multi, several_args = _several_of(store, campaign_id)
        # One session each: as they are; the others: the latest answer, then only if written.
        outer = ", ".join(f"t.{c.removeprefix('a.')}" for c in TEXT_COLUMNS.split(", "))
        rows = (
            f"SELECT {outer} FROM (SELECT {TEXT_COLUMNS} {where}"
            f"AND a.session_id NOT IN ({multi})) t WHERE {WRITTEN.format(t='t')} UNION ALL "
            f"SELECT {outer} FROM (SELECT {TEXT_COLUMNS}, {LATEST} AS latest "
            f"{_few_sessions(multi)}"
            "AND a.question = ?) t "
            f"WHERE t.latest = 1 AND {WRITTEN.format(t='t')}"
        )
        args = [*args, *several_args, *several_args, question]
        ordered = f"SELECT * FROM ({rows}) w ORDER BY 2"
    else:
        rows = f"SELECT {TEXT_COLUMNS} {where}AND {WRITTEN.format(t='a')}"
        ordered = f"{rows} ORDER BY a.respondent"
    count = store.execute(f"SELECT count(*) FROM ({rows}) w", args).fetchone()[0]

    def read() -> Iterator[AnswerRow]:
        cursor = store.execute(ordered, args)
        rows = iter(cursor)
        while chunk := list(itertools.islice(rows, CHUNK)):
            yield from _text_rows(chunk)

    def read_texts() -> Iterator[tuple[str, str]]:
        cursor = store.execute(
            "SELECT w.respondent, w.raw, CASE WHEN w.raw IS NULL THEN w.value END "
            f"FROM ({rows}) w ORDER BY w.respondent",
            args,
        )
        for respondent, raw, value in cursor:
            yield respondent, raw if raw is not None else str(json.loads(value) or "")

    return TextAnswers(int(count), read, read_texts)


def _text_rows(rows: list[tuple[Any, ...]]) -> list[AnswerRow]:
    out = []
    for row in rows:
        question, respondent, channel, language, kind, value, status, confirmed, raw = row[:9]
        answer_id = row[9]
        # The text listed is ``raw`` when there is one; ``value`` is decoded only without it.
        value = json.loads(value) if raw is None and value is not None else None
        out.append(
            AnswerRow(
                question,
                respondent,
                channel,
                language,
                kind,
                value,
                status,
                bool(confirmed),
                raw,
                answer_id=int(answer_id) if answer_id is not None else None,
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


def people(store: Store, campaign_id: str) -> dict[str, dict[str, str]]:
    """Each contact's attributes (and stratum) by pseudonym, for the free-text themes, whose
    rows carry the pseudonym, not a counted profile. Read only when a text question has
    enough answers to theme."""
    out: dict[str, dict[str, str]] = {}
    for respondent, stratum, attributes, event_attributes in store.execute(
        "SELECT cc.respondent, cc.stratum, c.attributes, cc.attributes FROM campaign_contacts cc "
        "JOIN contacts c ON c.id = cc.contact_id WHERE cc.campaign_id = ?",
        [campaign_id],
    ):
        # A service event's attributes (its unit) are the campaign's own view of the contact.
        found = _attributes(attributes) | _attributes(event_attributes)
        out[respondent] = found | ({"stratum": stratum} if stratum else {})
    return out
