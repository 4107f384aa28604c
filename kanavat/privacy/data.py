"""What the county holds about one person, and how to tell them in plain language.

A person is a phone number (SMS, calls, and officials answering a letter) or a chat visitor
(the anonymous cookie: nothing else identifies them). :func:`holdings` gathers everything
that can be linked to them (contact details, campaigns with their answers, an opt-out);
:func:`describe` words it in their language, one paragraph per fact; :func:`pack` puts the
paragraphs into as few text messages as they need. Texts are data: ``texts/<lang>.toml``.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from kanavat import optouts
from kanavat.config import Config
from kanavat.loop import privacy as loop_privacy
from kanavat.questions.dialog import value_label
from kanavat.questions.model import TextQuestion
from kanavat.sms.render import plain
from kanavat.store import Store

TEXTS = Path(__file__).parent / "texts"
LANGUAGES = ("fi", "sv", "en")  # the languages with texts in texts/, Finnish first
MAX_SMS_CHARS = 1600  # Twilio's limit for one message body; the phone joins its segments


@dataclass(frozen=True)
class Person:
    """Exactly one of ``phone`` (E.164) or ``visitor`` (the chat cookie's id)."""

    phone: str | None = None
    visitor: str | None = None

    def __post_init__(self) -> None:
        if (self.phone is None) == (self.visitor is None):
            raise ValueError("a person is a phone number or a chat visitor")


@dataclass(frozen=True)
class AnswerHeld:
    question: str
    answer: str


@dataclass(frozen=True)
class CampaignHeld:
    campaign_id: str
    title: str
    council: str
    status: str
    answers: tuple[AnswerHeld, ...] = ()


@dataclass(frozen=True)
class Holdings:
    person: Person
    contact_id: int | None = None
    language: str | None = None
    groups: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)
    campaigns: tuple[CampaignHeld, ...] = ()
    session_ids: tuple[int, ...] = ()
    opted_out_at: str | None = None
    suggestions: tuple[dict[str, Any], ...] = ()  # issue 23: what they suggested
    told: tuple[dict[str, Any], ...] = ()  # outcomes and answers told to them

    @property
    def empty(self) -> bool:
        return (
            self.contact_id is None
            and not self.campaigns
            and not self.session_ids
            and self.opted_out_at is None
            and not self.suggestions
            and not self.told
        )


@cache
def texts(language: str) -> dict[str, Any]:
    path = TEXTS / f"{language}.toml"
    if not path.is_file():
        path = TEXTS / "en.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def visitor_sessions(store: Store, visitor: str) -> list[dict[str, Any]]:
    """A chat visitor's sessions in every language (``visitor_id`` is ``<visitor>:<lang>``).
    Compared by prefix with ``substr``, not ``LIKE``: a visitor id may contain ``_``."""
    prefix = f"{visitor}:"
    return store.query(
        "SELECT * FROM sessions WHERE substr(visitor_id, 1, ?) = ? ORDER BY id",
        [len(prefix), prefix],
    )


def person_sessions(store: Store, person: Person, contact_id: int | None) -> list[dict[str, Any]]:
    if person.visitor is not None:
        return visitor_sessions(store, person.visitor)
    if contact_id is None:
        return []
    return store.query("SELECT * FROM sessions WHERE contact_id = ? ORDER BY id", [contact_id])


def holdings(store: Store, config: Config, person: Person, language: str | None = None) -> Holdings:
    """Everything linked to ``person``; answers worded in ``language`` (else each session's)."""
    contact = (
        store.one("SELECT * FROM contacts WHERE phone = ?", [person.phone])
        if person.phone
        else None
    )
    contact_id = contact["id"] if contact else None
    sessions = [s for s in person_sessions(store, person, contact_id) if s["status"] != "restarted"]
    enrolled = (
        store.query(
            "SELECT campaign_id, disposition FROM campaign_contacts WHERE contact_id = ? "
            "ORDER BY campaign_id",
            [contact_id],
        )
        if contact_id is not None
        else []
    )
    status = {r["campaign_id"]: r["disposition"] for r in enrolled}
    for s in sessions:
        if s["status"] == "active" and status.get(s["campaign_id"]) in (None, "pending"):
            status[s["campaign_id"]] = "active"
        status.setdefault(s["campaign_id"], "complete" if s["status"] == "completed" else "active")
    campaigns = []
    for campaign_id in sorted(status):
        lang = language or (contact["language"] if contact else None) or config.default_language
        mine = [s for s in sessions if s["campaign_id"] == campaign_id]
        campaigns.append(_campaign(store, config, campaign_id, status[campaign_id], mine, lang))
    opted_at = optouts.opted_out_at(store, person.phone) if person.phone else None
    groups = (
        tuple(
            r["group_name"]
            for r in store.query(
                "SELECT group_name FROM contact_groups WHERE contact_id = ? ORDER BY 1",
                [contact_id],
            )
        )
        if contact_id is not None
        else ()
    )
    return Holdings(
        person=person,
        contact_id=contact_id,
        language=contact["language"] if contact else None,
        groups=groups,
        attributes=json.loads(contact["attributes"] or "{}") if contact else {},
        campaigns=tuple(campaigns),
        session_ids=tuple(s["id"] for s in sessions),
        opted_out_at=opted_at,
        **loop_privacy.held(store, contact_id, person.phone, person.visitor),
    )


def _campaign(
    store: Store,
    config: Config,
    campaign_id: str,
    status: str,
    sessions: list[dict[str, Any]],
    lang: str,
) -> CampaignHeld:
    campaign = config.campaigns.get(campaign_id)
    questionnaire = config.questionnaires.get(campaign.questionnaire) if campaign else None
    title = (questionnaire.title.get(lang) or campaign_id) if questionnaire else campaign_id
    answers: list[AnswerHeld] = []
    if campaign is not None and campaign.conversation is not None:
        answers.extend(conversation_held(store, campaign_id, sessions, lang))
    if sessions:
        ids = [s["id"] for s in sessions]
        marks = ",".join("?" * len(ids))
        for row in store.query(
            f"SELECT question, raw, value FROM answers WHERE session_id IN ({marks}) "
            "ORDER BY answered_at, id",
            ids,
        ):
            answers.append(_answer(questionnaire, row, lang))
    return CampaignHeld(
        campaign_id, title, campaign.council if campaign else "-", status, tuple(answers)
    )


def conversation_held(
    store: Store, campaign_id: str, sessions: list[dict[str, Any]], lang: str
) -> list[AnswerHeld]:
    """A conversation's votes of this person (the one that counts per statement) and the
    statements they wrote, as their sessions hold them; nobody else's votes or statements."""
    from kanavat.conversation import statements, votes
    from kanavat.conversation.questionnaire import OWN
    from kanavat.conversation.questionnaire import texts as conversation_texts

    t = texts(lang)["show"]
    said = conversation_texts(lang)
    held: list[AnswerHeld] = []
    for respondent in dict.fromkeys(s["respondent"] for s in sessions):
        for statement_id, vote in votes.latest_of(store, campaign_id, respondent).items():
            try:
                text = statements.get(store, campaign_id, statement_id).text(lang)
            except statements.UnknownStatement:
                text = str(statement_id)
            held.append(AnswerHeld(text, said[vote]))
    for session in sessions:
        own = json.loads(session["state"] or "{}").get("answers", {}).get(OWN)
        if isinstance(own, str) and own.strip():
            held.append(AnswerHeld(t["own_statement"], own))
    return held


def _answer(questionnaire: Any, row: dict[str, Any], lang: str) -> AnswerHeld:
    value = json.loads(row["value"]) if row["value"] is not None else None
    question = None
    if questionnaire is not None:
        question = next((q for q in questionnaire.questions if q.id == row["question"]), None)
    if question is None:
        return AnswerHeld(row["question"], row["raw"] or str(value))
    text = question.text.get(lang) or row["question"]
    if value is None:
        shown = row["raw"] or "-"
    elif isinstance(question, TextQuestion):
        shown = str(value)
    else:
        shown = value_label(question, value, lang)
    return AnswerHeld(text, shown)


def describe(config: Config, held: Holdings, language: str) -> list[str]:
    """The holdings as paragraphs in ``language``: plain sentences, one fact each."""
    t = texts(language)
    show, status = t["show"], t["status"]
    if held.empty:
        return [show["nothing"]]
    header = "header_phone" if held.person.phone else "header_visitor"
    out = [show[header].format(county=config.county.name)]
    if held.contact_id is not None and held.person.phone:
        out.append(show["contact"].format(phone=held.person.phone, language=held.language))
        if held.groups:
            out.append(show["groups"].format(groups=", ".join(held.groups)))
        if held.attributes:
            pairs = ", ".join(f"{k} {v}" for k, v in sorted(held.attributes.items()))
            out.append(show["attributes"].format(attributes=pairs))
    for c in held.campaigns:
        said = status.get(c.status, status["default"])
        out.append(show["campaign"].format(title=c.title, council=c.council, status=said))
        out.extend(show["answer"].format(question=a.question, answer=a.answer) for a in c.answers)
    out.extend(loop_privacy.describe(config, held.suggestions, held.told, language))
    if held.opted_out_at:
        out.append(show["opt_out"].format(date=held.opted_out_at[:10]))
    out.append(show["footer"])
    return out


def pack(paragraphs: list[str], limit: int = MAX_SMS_CHARS) -> list[str]:
    """Paragraphs into as few messages of at most ``limit`` characters as they need, in order;
    a paragraph longer than a message is split between words."""
    pieces: list[str] = []
    for paragraph in (plain(p) for p in paragraphs):
        while len(paragraph) > limit:
            cut = paragraph.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pieces.append(paragraph[:cut].rstrip())
            paragraph = paragraph[cut:].lstrip()
        pieces.append(paragraph)
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + 1 + len(piece) <= limit:
            out[-1] = f"{out[-1]}\n{piece}"
        else:
            out.append(piece)
    return out
