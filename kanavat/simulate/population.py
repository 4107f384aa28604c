"""A made-up population for a rehearsal: residents with numbers, languages and habits.

Everything comes from one seeded ``random.Random``, so ``--seed`` repeats a rehearsal exactly
(who answers how; the order events interleave on the wire may still differ). Each resident
gets a persona, the way people differ on the phone and in messages, and the answers they
mean to give; the resident modules act them out. Numbers are in +358 45 7xx, one block the
rehearsal owns, and are only ever used against the local emulator.
"""

from __future__ import annotations

import csv
import random
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from kanavat.config import Config

CallHabit = Literal["answer", "busy_once", "voicemail_once", "no_answer", "voicemail"]
SmsHabit = Literal["prompt", "late", "never"]
Quirk = Literal["none", "hesitates", "repeats", "wrong_first", "stops", "refuses"]

# Weights of each habit in the population: most people answer, a few never do.
CALL_HABITS: dict[CallHabit, float] = {
    "answer": 0.62,
    "busy_once": 0.10,
    "voicemail_once": 0.10,
    "no_answer": 0.13,
    "voicemail": 0.05,
}
SMS_HABITS: dict[SmsHabit, float] = {"prompt": 0.65, "late": 0.20, "never": 0.15}
QUIRKS: dict[Quirk, float] = {
    "none": 0.45,
    "hesitates": 0.12,
    "repeats": 0.12,
    "wrong_first": 0.13,
    "stops": 0.10,
    "refuses": 0.08,
}
LANGUAGES = {"fi": 0.80, "sv": 0.15, "en": 0.05}
AGE_GROUPS = {
    "ikaihmiset": ["65-74", "75-84", "85+"],
    "palvelunkayttajat": ["18-39", "40-64", "65-74"],
}
MUNICIPALITIES = ["Kirkonkylä", "Esikylä", "Järvelä", "Bykylä"]
UNITS = ["Keskustan terveysasema", "Järvelän terveysasema", "Suun terveydenhuolto"]
"""Service units where an event-triggered (fast feedback) campaign's residents were served."""
# Share of the population per campaign, by the campaign's first channel.
CHANNEL_SHARE = {"voice": 0.40, "sms": 0.35, "chat": 0.25}
EVENT_VOLUME = 8
"""In ``kanavat demo`` an event-triggered (fast feedback) campaign, which asks after every
visit, gets this many times its channel's share of residents: enough that its report shows
NPS by unit (a county collects tens of thousands of such answers a year, a survey thousands)."""
CONVERSATION_VOLUME = 4
"""In ``kanavat demo`` a conversation campaign gets this many times its channel's share: opinion
groups form only from residents with at least 7 votes, and the conversation math needs some
tens of them before the groups stand out from chance (``kanavat.opinions.structure``)."""
PHONE_BLOCK = 457_000_000  # +358 457 xxx xxx


@dataclass(frozen=True)
class Persona:
    call: CallHabit
    sms: SmsHabit
    quirk: Quirk
    speaks: bool  # answers calls by speech when the server has a model for the language
    types: bool  # in the chat, types answers instead of pressing the buttons


@dataclass(frozen=True)
class Resident:
    key: str  # "r007": how progress and errors name a resident (never the number)
    campaign_id: str
    channel: str  # the campaign's first channel
    language: str
    persona: Persona
    answers: dict[str, Any]  # question id -> what this resident means to answer
    phone: str | None = None
    group: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


@cache
def phrases() -> dict[str, dict[str, Any]]:
    """What residents say and type, per language (``phrases.toml``)."""
    with (Path(__file__).parent / "phrases.toml").open("rb") as f:
        return tomllib.load(f)


def _pick(rng: random.Random, weights: dict[str, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def split(
    total: int,
    campaign_ids: Sequence[str],
    config: Config,
    event_volume: int = 1,
    conversation_volume: int = 1,
) -> dict[str, int]:
    """``total`` residents shared among campaigns by first channel; at least one each. An
    event-triggered campaign counts ``event_volume`` times (``kanavat demo``: EVENT_VOLUME), a
    conversation ``conversation_volume`` times (CONVERSATION_VOLUME)."""
    shares = {
        cid: CHANNEL_SHARE[config.campaign(cid).channels[0]]
        * (event_volume if config.campaign(cid).trigger == "event" else 1)
        * (conversation_volume if config.campaign(cid).conversation else 1)
        for cid in campaign_ids
    }
    whole = sum(shares.values())
    counts = {cid: max(1, int(total * share / whole)) for cid, share in shares.items()}
    biggest = max(counts, key=lambda c: counts[c])
    counts[biggest] = max(1, counts[biggest] + total - sum(counts.values()))
    return counts


def intended_answers(config: Config, campaign_id: str, language: str, rng: random.Random):
    """One plausible answer per question; the dialog asks only what its skip logic allows."""
    answers: dict[str, Any] = {}
    for q in config.questionnaire_of(campaign_id).questions:
        if q.type == "scale":
            points = list(range(q.min, q.max + 1))
            answers[q.id] = rng.choices(points, weights=[1, 2, 4, 5, 3][: len(points)] or None)[0]
        elif q.type == "nps":  # fast feedback leans high, with a tail of the dissatisfied
            weights = [1, 1, 1, 1, 1, 2, 3, 5, 9, 10, 9]
            answers[q.id] = rng.choices(range(11), weights=weights)[0]
        elif q.type == "yesno":
            answers[q.id] = "yes" if rng.random() < 0.65 else "no"
        elif q.type == "choice":
            answers[q.id] = rng.choice(q.options).id
        elif q.type == "number":
            answers[q.id] = rng.randint(q.min, min(q.max, q.min + 7))
        elif q.type == "text":
            texts = phrases()[language]["free_text"]
            answers[q.id] = rng.choice(texts) if rng.random() < 0.6 else None
    return answers


def generate(
    config: Config,
    campaign_ids: Iterable[str],
    total: int,
    seed: int,
    event_volume: int = 1,
    conversation_volume: int = 1,
) -> list[Resident]:
    """``total`` residents over ``campaign_ids`` (contacts for audience campaigns, visitors
    for chat), each with a persona and intended answers, from ``seed``."""
    rng = random.Random(seed)
    ids = list(campaign_ids)
    residents: list[Resident] = []
    languages = {k: v for k, v in LANGUAGES.items() if k in config.county.languages}
    for cid, count in split(total, ids, config, event_volume, conversation_volume).items():
        campaign = config.campaign(cid)
        group = campaign.audience.group if campaign.audience else None
        for _ in range(count):
            n = len(residents)
            language = _pick(rng, languages)
            persona = Persona(
                call=_pick(rng, CALL_HABITS),
                sms=_pick(rng, SMS_HABITS),
                quirk=_pick(rng, QUIRKS),
                speaks=rng.random() < 0.5,
                types=rng.random() < 0.3,
            )
            phone = attributes = None
            if campaign.trigger == "event":  # a resident served at a unit; a service event
                phone = f"+358{PHONE_BLOCK + 499 * n + rng.randrange(499):09d}"
                attributes = {"unit": rng.choice(UNITS)}
            elif group is not None:
                phone = f"+358{PHONE_BLOCK + 499 * n + rng.randrange(499):09d}"
                ages = AGE_GROUPS.get(group, ["18-39", "40-64", "65-74", "75-84"])
                attributes = {
                    "age_group": rng.choice(ages),
                    "municipality": rng.choice(MUNICIPALITIES),
                }
            residents.append(
                Resident(
                    key=f"r{n + 1:03d}",
                    campaign_id=cid,
                    channel=campaign.channels[0],
                    language=language,
                    persona=persona,
                    answers=intended_answers(config, cid, language, rng),
                    phone=phone,
                    group=group,
                    attributes=attributes or {},
                )
            )
    return residents


def write_csv(residents: Iterable[Resident], group: str, path: Path) -> int:
    """The group's residents as a contacts CSV (``kanavat contacts import`` reads it)."""
    rows = [r for r in residents if r.group == group and r.phone]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["phone", "language", "age_group", "municipality"])
        for r in rows:
            writer.writerow(
                [r.phone, r.language, r.attributes["age_group"], r.attributes["municipality"]]
            )
    return len(rows)
