"""What came of a campaign: the only writer of ``campaign_outcomes``.

An official records a council's or board's response to a campaign (what was decided or will
change, by which body, when, a link to the minutes), for the whole campaign or one question
or theme, with its text in the county's languages. Recording it also puts every resident who
took part on the list to be told (``notices.plan_outcome``), in the same transaction: an
outcome is never recorded without its audience, nor told twice.

Its calls may wait (``calls_wait``): for the message's recording in each resident's language
(``recording``: they start by themselves once it is built in, ``holds.py``), or until an
official releases them (``release``). Texts and chat notices go out at once either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from kanavat.config import Config, UnknownName
from kanavat.loop import notices
from kanavat.store import Store

CALLS_AT_ONCE, CALLS_WAIT_RECORDING, CALLS_HELD, CALLS_RELEASED = (
    "none",
    "recording",
    "release",
    "released",
)
WAITING = (CALLS_WAIT_RECORDING, CALLS_HELD)


class OutcomeError(ValueError):
    """An outcome an official gave that cannot be recorded (said how to fix it)."""


@dataclass(frozen=True)
class Outcome:
    campaign_id: str
    decided_by: str
    decided_on: str  # ISO date
    texts: dict[str, str]  # language -> what was decided or will change
    minutes_url: str | None = None
    question: str | None = None
    theme: str | None = None
    public: bool = True
    source: str | None = None  # a TOML entry's key: the same entry is recorded once
    calls_wait: str | None = None  # CALLS_*; None: the county's [outcomes] setting
    created_at: str | None = None  # when it was recorded (ISO UTC; from the store)

    @property
    def calls_waiting(self) -> bool:
        return self.calls_wait in WAITING

    def text_in(self, language: str) -> str:
        return self.texts.get(language) or next(iter(self.texts.values()))


def check(config: Config, outcome: Outcome) -> None:
    """Raise :class:`OutcomeError` for an unknown campaign or question, a bad date, no text."""
    try:
        questionnaire = config.questionnaire_of(outcome.campaign_id)
    except UnknownName as exc:
        raise OutcomeError(str(exc)) from None
    if outcome.question and outcome.question not in {q.id for q in questionnaire.questions}:
        known = ", ".join(q.id for q in questionnaire.questions)
        raise OutcomeError(f"no question '{outcome.question}' in the campaign; known: {known}")
    try:
        date.fromisoformat(outcome.decided_on)
    except ValueError:
        raise OutcomeError(f"'{outcome.decided_on}' is not a date; write e.g. 2027-05-14") from None
    if not any(t.strip() for t in outcome.texts.values()):
        raise OutcomeError("say what was decided: give --fi (and --sv, --en) text")
    unknown = set(outcome.texts) - set(config.county.languages)
    if unknown:
        raise OutcomeError(f"the county has no language {', '.join(sorted(unknown))}")
    if outcome.minutes_url and not outcome.minutes_url.startswith(("https://", "http://")):
        raise OutcomeError("--minutes must be a web address (https://...)")
    if outcome.calls_wait not in (None, CALLS_AT_ONCE, *WAITING):
        raise OutcomeError(f"calls cannot wait for '{outcome.calls_wait}'")


def with_calls_wait(config: Config, outcome: Outcome) -> Outcome:
    """The outcome with its calls' wait settled: as given, else the county's setting."""
    if outcome.calls_wait is not None:
        return outcome
    waits = config.outcomes.calls_wait_for_recording
    return replace(outcome, calls_wait=CALLS_WAIT_RECORDING if waits else CALLS_AT_ONCE)


def add(store: Store, config: Config, outcome: Outcome) -> tuple[int, int, bool]:
    """Record the outcome and plan telling its participants, atomically: (id, residents to
    tell, new). An entry from TOML already recorded (same ``source``) is not added again."""
    check(config, outcome)
    outcome = with_calls_wait(config, outcome)
    with store.transaction():
        if outcome.source:
            row = store.one("SELECT id FROM campaign_outcomes WHERE source = ?", [outcome.source])
            if row is not None:
                return int(row["id"]), notices.planned(store, "outcome", row["id"]), False
        cur = store.execute(
            "INSERT INTO campaign_outcomes(campaign_id, question, theme, decided_by, decided_on, "
            "minutes_url, texts, public, source, calls_wait, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                outcome.campaign_id,
                outcome.question,
                outcome.theme,
                outcome.decided_by,
                outcome.decided_on,
                outcome.minutes_url,
                json.dumps(outcome.texts, ensure_ascii=False),
                int(outcome.public),
                outcome.source,
                outcome.calls_wait,
                store.now(),
            ],
        )
        outcome_id = int(cur.lastrowid)  # type: ignore[arg-type]
        planned = notices.plan_outcome(
            store,
            outcome_id,
            outcome.campaign_id,
            outcome.question,
            hold_calls=outcome.calls_waiting,
        )
        store.audit(
            "outcome.add",
            campaign=outcome.campaign_id,
            outcome=outcome_id,
            told=planned,
            calls_wait=outcome.calls_wait,
        )
    return outcome_id, planned, True


def set_public(store: Store, outcome_id: int, public: bool) -> bool:
    cur = store.execute(
        "UPDATE campaign_outcomes SET public = ? WHERE id = ?", [int(public), outcome_id]
    )
    return bool(cur.rowcount)


def calls_released(store: Store, outcome_id: int) -> str | None:
    """An official released the outcome's waiting calls: the wait it had (None if it had none
    or there is no such outcome). ``holds.release`` starts the calls in the same transaction."""
    row = store.one("SELECT calls_wait FROM campaign_outcomes WHERE id = ?", [outcome_id])
    if row is None or row["calls_wait"] not in WAITING:
        return None
    store.execute(
        "UPDATE campaign_outcomes SET calls_wait = ? WHERE id = ?", [CALLS_RELEASED, outcome_id]
    )
    return str(row["calls_wait"])


def _outcome(row: dict[str, Any]) -> Outcome:
    return Outcome(
        row["campaign_id"],
        row["decided_by"],
        row["decided_on"],
        json.loads(row["texts"]),
        row["minutes_url"],
        row["question"],
        row["theme"],
        bool(row["public"]),
        row["source"],
        row["calls_wait"],
        row["created_at"],
    )


def get(store: Store, outcome_id: int) -> Outcome | None:
    row = store.one("SELECT * FROM campaign_outcomes WHERE id = ?", [outcome_id])
    return _outcome(row) if row else None


def listed(
    store: Store, campaign_id: str | None = None, *, public_only: bool = False
) -> list[tuple[int, Outcome]]:
    where, params = [], []
    if campaign_id:
        where.append("campaign_id = ?")
        params.append(campaign_id)
    if public_only:
        where.append("public = 1")
    sql = "SELECT * FROM campaign_outcomes"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [(r["id"], _outcome(r)) for r in store.query(sql + " ORDER BY decided_on, id", params)]
