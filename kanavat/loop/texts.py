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
from kanavat.loop.outcomes import Outcome

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
    t = texts(language)["suggestion"]
    key = "answer_voice" if channel == "voice" else "answer_sms"
    return t[key].format(county=config.county.name, answer=answer.strip())
