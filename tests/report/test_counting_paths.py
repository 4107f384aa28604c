"""The report's counts from id lists and numpy (answers by profile, contacts' flags, reach)
agree with the same counts made row by row in Python from the store's rows, on both
backends, over a store with every case those paths single out: restarted sessions, people
asked twice (the latest answer counts), chat visitors, a contact answering a campaign it is
not enrolled in, contacts tried with no attempt counted on their row."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest

from kanavat.outreach.reach import TOOK_PART
from kanavat.report import data
from kanavat.store import Store

from . import fixture

pytestmark = pytest.mark.both_backends

CAMPAIGN = "vanhukset-2026"
CHANNELS = ["voice", "sms"]
NOW = "2027-01-20T12:00:00.000Z"
PROFILES = [
    {"age_group": "65-74", "municipality": "Keskusta"},
    {"age_group": "85+", "municipality": "Keskusta"},
    {"age_group": "85+", "municipality": "Rantala"},
    {},
]


def _fill(store: Store, rng: random.Random) -> None:
    x = store.execute
    x(
        "INSERT INTO campaigns(id, questionnaire, council, status, updated_at) "
        "VALUES (?, 'hyvinvointi', 'vanhusneuvosto', 'running', ?)",
        [CAMPAIGN, NOW],
    )
    session = 0
    for contact in range(1, 61):
        attrs = rng.choice(PROFILES)
        x(
            "INSERT INTO contacts(id, phone, language, attributes, created_at, updated_at) "
            "VALUES (?, ?, 'fi', ?, ?, ?)",
            [contact, f"+35840000{contact:04d}", json.dumps(attrs), NOW, NOW],
        )
        enrolled = contact <= 55  # the last five answer without being enrolled
        if enrolled:
            x(
                "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, stratum, "
                "disposition, attempts, updated_at, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    CAMPAIGN,
                    contact,
                    f"r{contact}",
                    rng.choice([None, "65-74|Keskusta", "85+|Rantala"]),
                    rng.choice(["complete", "partial", "refusal", "pending", "non_contact"]),
                    rng.choice([0, 0, 1, 2]),
                    NOW,
                    rng.choice([None, json.dumps({"unit": "Keskusta"})]),
                ],
            )
        for _ in range(rng.choice([0, 1, 2])):
            x(
                "INSERT INTO attempts(campaign_id, contact_id, channel, status, created_at, "
                "updated_at) VALUES (?, ?, ?, 'completed', ?, ?)",
                [CAMPAIGN, contact, rng.choice(CHANNELS), NOW, NOW],
            )
        for turn in range(rng.choice([0, 1, 1, 2, 3])):
            session += 1
            status = rng.choice(["completed", "stopped", "active", "restarted"])
            _session(store, rng, session, contact, None, status, turn)
    for visitor in range(8):  # chat visitors: no contact
        session += 1
        _session(store, rng, session, None, f"v{visitor}", rng.choice(["completed", "active"]), 0)


def _session(store, rng, sid, contact, visitor, status, turn) -> None:
    respondent = f"r{contact}" if contact else f"rv{visitor}"
    channel = rng.choice(CHANNELS) if contact else "chat"
    store.execute(
        "INSERT INTO sessions(id, campaign_id, respondent, contact_id, visitor_id, channel, "
        "language, state, status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'fi', '{}', "
        "?, ?, ?)",
        [sid, CAMPAIGN, respondent, contact, visitor, channel, status, NOW, NOW],
    )
    for question, values in (("arki", [1, 2, 3, 5]), ("apu", ["yes", "no"]), ("terveiset", ["x"])):
        if rng.random() < 0.3:
            continue
        value = rng.choice(values)
        answer_status = rng.choice(["answered", "answered", "dont_know", "skipped"])
        store.execute(
            "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, "
            "language, input_kind, raw, value, confidence, confirmed, status, answered_at) "
            "VALUES (?, ?, ?, ?, ?, 'fi', ?, ?, ?, 1, ?, ?, ?)",
            [
                sid,
                CAMPAIGN,
                question,
                respondent,
                channel,
                rng.choice(["text", "speech", "keypad"]),
                str(value),
                json.dumps(value),
                rng.choice([0, 1]),
                answer_status,
                f"2027-01-{10 + turn:02d}T10:00:00.000Z",
            ],
        )


def _rows(store: Store, sql: str, args: tuple = (CAMPAIGN,)) -> list[dict[str, Any]]:
    cursor = store.execute(sql, list(args))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _expected_answers(store: Store) -> Counter:
    """Closed answers counted by everything the report groups by, row by row: each person's
    latest answer per question, restarted sessions left out."""
    sessions = {
        s["id"]: s
        for s in _rows(
            store, "SELECT * FROM sessions WHERE campaign_id = ? AND status != 'restarted'"
        )
    }
    enrolment = {
        c["contact_id"]: c
        for c in _rows(store, "SELECT * FROM campaign_contacts WHERE campaign_id = ?")
    }
    contacts = {c["id"]: c for c in _rows(store, "SELECT id, attributes FROM contacts", ())}
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for a in _rows(
        store, "SELECT * FROM answers WHERE campaign_id = ? AND question != 'terveiset'"
    ):
        if a["session_id"] not in sessions:
            continue
        key = (a["respondent"], a["question"])
        if key not in latest or (a["answered_at"], a["id"]) > (
            latest[key]["answered_at"],
            latest[key]["id"],
        ):
            latest[key] = a
    out: Counter = Counter()
    for a in latest.values():
        contact = sessions[a["session_id"]]["contact_id"]
        cc = enrolment.get(contact, {})
        attributes = json.loads(contacts[contact]["attributes"]) if contact else {}
        attributes |= json.loads(cc.get("attributes") or "{}")
        profile = (cc.get("stratum"), tuple(sorted(attributes.items())))
        key = (a["question"], a["channel"], a["language"], a["input_kind"], a["status"])
        out[(*key, bool(a["confirmed"]), a["value"], *profile)] += 1
    return out


def _counted(rows: list[data.AnswerRow], profiles: dict[str, data.Profile]) -> Counter:
    out: Counter = Counter()
    for a in rows:
        if a.question == "terveiset":
            continue
        p = profiles[a.respondent]
        key = (a.question, a.channel, a.language, a.input_kind, a.status, a.confirmed)
        out[(*key, json.dumps(a.value), p.stratum, tuple(sorted(p.attributes.items())))] += a.n
    return out


def _took_part(store: Store) -> dict[int, bool]:
    return {
        r["id"]: bool(r["took_part"])
        for r in _rows(
            store, f"SELECT s.id, CASE WHEN {TOOK_PART} THEN 1 ELSE 0 END AS took_part "
            "FROM sessions s WHERE s.campaign_id = ?"
        )
    }  # fmt: skip


def test_counts_by_id_lists_are_the_row_by_row_counts(database, tmp_path):
    store = Store(database, secret="paths")
    try:
        with store.transaction():
            _fill(store, random.Random(18))
        several = data._several_sessions(store, CAMPAIGN)
        rows, profiles = data._closed_answers(
            store, CAMPAIGN, ["terveiset"], {}, [], several, one_profile=False
        )
        assert several
        assert _counted(rows, profiles) == _expected_answers(store)

        # Contacts: attempted (counted on the row, or an attempt recorded) and answered.
        sessions = _rows(
            store, "SELECT * FROM sessions WHERE campaign_id = ? AND status != 'restarted'"
        )
        given = {
            a["session_id"]
            for a in _rows(store, "SELECT * FROM answers WHERE campaign_id = ?")
            if a["status"] in ("answered", "dont_know")
        }
        answered = {s["contact_id"] for s in sessions if s["id"] in given and s["contact_id"]}
        tried = {
            (a["contact_id"], a["channel"])
            for a in _rows(store, "SELECT * FROM attempts WHERE campaign_id = ?")
        }
        expected: Counter = Counter()
        enrolled = _rows(store, "SELECT * FROM campaign_contacts WHERE campaign_id = ?")
        for c in enrolled:
            attempted = c["attempts"] > 0 or any(t[0] == c["contact_id"] for t in tried)
            key = (c["stratum"], c["disposition"], attempted, c["contact_id"] in answered)
            expected[key] += 1
        respondents = len({s["respondent"] for s in sessions if s["id"] in given})
        loaded = data.load(store, fixture.make_config(tmp_path), CAMPAIGN)
        found: Counter = Counter()
        for cell in loaded.contacts:
            found[(cell.stratum, cell.disposition, cell.attempted, cell.answered)] += cell.n
        assert found == expected
        assert loaded.respondents == respondents

        # Reach: people once each, per channel and overall.
        took_part = _took_part(store)
        ids = {c["contact_id"] for c in enrolled}
        for channel in [None, *CHANNELS]:
            people: dict[str, dict[str, bool]] = {}
            for s in sessions:
                if channel is not None and s["channel"] != channel:
                    continue
                who = f"c{s['contact_id']}" if s["contact_id"] else f"v{s['visitor_id']}"
                p = people.setdefault(who, {"took_part": False, "completed": False})
                p["took_part"] |= took_part[s["id"]]
                p["completed"] |= s["status"] == "completed"
            reach = loaded.reach[channel]
            assert reach.reached == sum(p["took_part"] for p in people.values())
            assert reach.completed == sum(p["completed"] for p in people.values())
            if channel is None:
                assert reach.contacted == sum(
                    1
                    for c in enrolled
                    if c["attempts"] > 0 or any(t[0] == c["contact_id"] for t in tried)
                )
            assert reach.started == len(people)
            if channel is not None:
                assert reach.contacted == len({c for c, ch in tried if ch == channel and c in ids})
    finally:
        store.close()
