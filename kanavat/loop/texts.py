"""The words residents read and hear about outcomes and suggestions: ``texts/<lang>.toml``
(Finnish, Swedish, English), the suggestion keyword, and the messages composed from them."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from kanavat.config import Config
from kanavat.loop import notices, outcomes
from kanavat.loop.outcomes import Outcome
from kanavat.questions.dialog import Part
from kanavat.store import Store

TEXTS = Path(__file__).parent / "texts"
LANGUAGES = ("fi", "sv", "en")
MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@cache
def texts(language: str) -> dict[str, Any]:
    path = TEXTS / f"{language}.toml"
    if not path.is_file():
        path = TEXTS / "en.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


@cache
def _keywords() -> dict[str, str]:
    return {w.casefold(): lang for lang in LANGUAGES for w in texts(lang)["words"]["suggest"]}


def suggestion(body: str) -> tuple[str, str] | None:
    """``("fi", "Lisää penkkejä")`` for ``"EHDOTUS: Lisää penkkejä"`` (any case; the keyword's
    language and what follows it, maybe empty), None for any other text."""
    match = re.match(r"\s*([^\s:,.!-]+)[\s:,.!-]*(.*)", body, flags=re.S)
    if not match:
        return None
    language = _keywords().get(match.group(1).casefold())
    return None if language is None else (language, match.group(2).strip())


def day(iso_date: str, language: str) -> str:
    d = date.fromisoformat(iso_date[:10])
    if language == "en":
        return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"
    return f"{d.day}.{d.month}.{d.year}"


def campaign_title(config: Config, campaign_id: str, language: str) -> str:
    campaign = config.campaigns.get(campaign_id)
    questionnaire = config.questionnaires.get(campaign.questionnaire) if campaign else None
    if questionnaire is None:
        return campaign_id
    return questionnaire.title.get(language) or next(iter(questionnaire.title.values()))


def outcome_message(config: Config, outcome: Outcome, language: str, channel: str) -> str:
    """The outcome as a text message (``sms``, also the chat page's) or the call's words."""
    t = texts(language)["outcome"]
    fields = {
        "county": config.county.name,
        "title": campaign_title(config, outcome.campaign_id, language),
        "text": outcome.text_in(language).strip(),
        "body": outcome.decided_by,
        "date": day(outcome.decided_on, language),
    }
    if channel == "voice":
        return t["voice"].format(**fields)
    out = t["sms"].format(**fields)
    if outcome.minutes_url:
        out += " " + t["minutes"].format(url=outcome.minutes_url)
    return out


def answer_message(config: Config, answer: str, language: str, channel: str) -> str:
    """A suggestion's answer; the chat page shows it under its own title (``answer_title``)."""
    if channel == "chat":
        return answer.strip()
    t = texts(language)["suggestion"]
    key = "answer_voice" if channel == "voice" else "answer_sms"
    return t[key].format(county=config.county.name, answer=answer.strip())


# -- what a call says: the parts ``kanavat voices`` lists for recording --------------------

# A loop call's fixed prompt keys and their texts (``[section] name`` of texts/<lang>.toml).
CALL_TEXTS = {
    "loop.repeat_hint": ("outcome", "repeat_hint"),
    "loop.goodbye": ("outcome", "goodbye"),
    "loop.suggestion_intro": ("suggestion", "voice_intro"),
    "loop.suggestion_nothing": ("suggestion", "voice_nothing"),
    "loop.suggestion_thanks": ("suggestion", "thanks"),
}
OUTCOME_CALL = ("loop.repeat_hint", "loop.goodbye")


def call_part(config: Config, language: str, key: str) -> Part:
    """One of :data:`CALL_TEXTS` as the call says it (recorded as ``voices/<lang>/<key>.wav``)."""
    section, name = CALL_TEXTS[key]
    return Part(key, texts(language)[section][name].format(county=config.county.name))


def call_parts(config: Config, language: str, *, outcomes: bool, suggestions: bool) -> list[Part]:
    """What a loop call may say besides its message: around an outcome or an answer told by
    phone, and on the suggestion line."""
    keys = [
        k
        for k in CALL_TEXTS
        if (k in OUTCOME_CALL and outcomes) or (k not in OUTCOME_CALL and suggestions)
    ]
    return [call_part(config, language, k) for k in keys]


def outcome_part(config: Config, outcome_id: int, outcome: Outcome, language: str) -> Part:
    """An outcome as a call plays it: ``voices/<lang>/outcome.<id>.wav`` once recorded."""
    return Part(f"outcome.{outcome_id}", outcome_message(config, outcome, language, "voice"))


def outcomes_to_record(
    config: Config, store: Store, languages: list[str]
) -> list[tuple[str, Part, str]]:
    """(language, part, belongs_to) of each outcome some resident is told by phone, in the
    languages they are told it in: what ``kanavat voices`` asks the county to record."""
    out = []
    for outcome_id, language in notices.told_by_phone(store):
        outcome = outcomes.get(store, outcome_id)
        if outcome is not None and language in languages:
            part = outcome_part(config, outcome_id, outcome, language)
            out.append((language, part, f"{outcome.campaign_id}/outcome.{outcome_id}"))
    return out
