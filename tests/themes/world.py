"""A store whose free-text question has answers on a few known topics, for the themes tests.

The campaign is the example county's earlier run of ``hyvinvointi`` (``vanhukset-2026``, from
the report tests' configuration); its free-text question is ``terveiset``. Answers are the
themes corpus's own (bench/themes/corpus_dev.tsv), so they are real fi/sv text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bench.themes.corpus import load
from kanavat.config import Config
from kanavat.store import Store
from tests.report import fixture

CAMPAIGN = fixture.EARLIER
QUESTION = "terveiset"
NOW = "2027-01-20T12:00:00.000Z"


@dataclass(frozen=True)
class Written:
    text: str
    language: str = "fi"
    channel: str = "sms"
    municipality: str = "Keskusta"


def corpus(label: str, language: str | None = None, count: int | None = None) -> list[str]:
    texts = [r.text for r in load("dev") if r.label == label]
    if language:
        texts = [r.text for r in load("dev") if r.label == label and r.language == language]
    return texts[:count] if count else texts


def make(tmp_path: Path) -> Config:
    config = fixture.make_config(tmp_path)
    store = Store(config.database_path, secret="themes")
    store.execute(
        "INSERT INTO campaigns(id, questionnaire, council, status, updated_at) "
        "VALUES (?, 'hyvinvointi', 'vanhusneuvosto', 'finished', ?)",
        [CAMPAIGN, NOW],
    )
    store.close()
    return config


def add(config: Config, answers: list[Written]) -> None:
    store = Store(config.database_path, secret="themes")
    start = (store.one("SELECT max(id) AS n FROM contacts") or {}).get("n") or 0
    for offset, a in enumerate(answers, start=1):
        i = start + offset
        attrs = json.dumps({"age_group": "75-84", "municipality": a.municipality})
        store.execute(
            "INSERT INTO contacts(id, phone, language, attributes, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [i, f"+35840{i:07d}", a.language, attrs, NOW, NOW],
        )
        store.execute(
            "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, disposition, "
            "attempts, updated_at) VALUES (?, ?, ?, 'complete', 1, ?)",
            [CAMPAIGN, i, f"r{i}", NOW],
        )
        store.execute(
            "INSERT INTO sessions(id, campaign_id, respondent, contact_id, channel, language, "
            "state, status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '{}', "
            "'completed', ?, ?)",
            [i, CAMPAIGN, f"r{i}", i, a.channel, a.language, NOW, NOW],
        )
        store.execute(
            "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, "
            "language, input_kind, raw, value, confidence, confirmed, status, answered_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'text', ?, ?, 1, 0, 'answered', ?)",
            [
                i,
                CAMPAIGN,
                QUESTION,
                f"r{i}",
                a.channel,
                a.language,
                a.text,
                json.dumps(a.text),
                NOW,
            ],
        )
    store.close()


def topics() -> list[Written]:
    """Three clear topics in Finnish (queues, transport, carers), 15 answers each."""
    out: list[Written] = []
    for label in ("jonot", "liikenne", "omaishoito"):
        out += [Written(t) for t in corpus(label, "fi", 15)]
    return out
