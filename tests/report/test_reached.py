"""'Reached' means one thing: took part in the conversation on that channel. An SMS invitation
never answered reaches no one, in the report as in ``campaign status`` and ``simulate``.

On both stores; the whole council report is compared figure for figure between a SQLite
county and its PostgreSQL copy in ``tests/test_store_copy.py``."""

from __future__ import annotations

import json

import pytest

from kanavat.outreach import reach
from kanavat.report.build import build_report
from kanavat.store import Store

from . import fixture

pytestmark = pytest.mark.both_backends  # the report's SQL on both (the rest: test_store_copy)

NOW = "2027-01-20T12:00:00.000Z"


def test_unanswered_invitation_is_not_reached(tmp_path, database):
    config = fixture.make_config(tmp_path)
    store = Store(database, secret="reached")
    conn = store
    cid = fixture.EARLIER
    conn.execute(
        "INSERT INTO campaigns(id, questionnaire, council, status, updated_at) "
        "VALUES (?, 'hyvinvointi', 'vanhusneuvosto', 'running', ?)",
        [cid, NOW],
    )
    # Six people texted: one never replied, five answered the first question and stopped.
    for i in range(1, 7):
        attrs = json.dumps({"age_group": "85+", "municipality": "Keskusta"})
        conn.execute(
            "INSERT INTO contacts(id, phone, language, attributes, created_at, updated_at) "
            "VALUES (?, ?, 'fi', ?, ?, ?)",
            [i, f"+3584000000{i:02d}", attrs, NOW, NOW],
        )
        conn.execute(
            "INSERT INTO contact_groups(contact_id, group_name) VALUES (?, 'ikaihmiset')", [i]
        )
        silent = i == 1
        conn.execute(
            "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, disposition, "
            "attempts, updated_at) VALUES (?, ?, ?, ?, 1, ?)",
            [cid, i, f"r{i}", "pending" if silent else "partial", NOW],
        )
        conn.execute(
            "INSERT INTO attempts(campaign_id, contact_id, channel, status, created_at, "
            "updated_at) VALUES (?, ?, 'sms', 'completed', ?, ?)",
            [cid, i, NOW, NOW],
        )
        conn.execute(
            "INSERT INTO sessions(id, campaign_id, respondent, contact_id, channel, language, "
            "state, status, started_at, updated_at) VALUES (?, ?, ?, ?, 'sms', 'fi', '{}', ?, ?, ?)",
            [i, cid, f"r{i}", i, "active" if silent else "stopped", NOW, NOW],
        )
        if not silent:
            conn.execute(
                "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, "
                "language, input_kind, raw, value, confidence, confirmed, status, answered_at) "
                "VALUES (?, ?, 'apu', ?, 'sms', 'fi', 'text', 'joo', '\"yes\"', 1, 0, "
                "'answered', ?)",
                [i, cid, f"r{i}", NOW],
            )
    status = reach.total(reach.reach(store, config, [cid]), cid)
    report = build_report(store, config, cid)
    store.close()
    assert status.reached == 5
    sms = next(r for r in report["reach"]["by_channel"] if r["channel"] == "sms")
    assert sms["reached"]["count"] == report["reach"]["total"]["reached"]["count"] == 5


def test_a_question_answered_in_two_sessions_counts_its_latest_answer(tmp_path, database):
    config = fixture.make_config(tmp_path)
    store = Store(database, secret="latest")
    conn = store
    cid = fixture.EARLIER
    conn.execute(
        "INSERT INTO campaigns(id, questionnaire, council, status, updated_at) "
        "VALUES (?, 'hyvinvointi', 'vanhusneuvosto', 'running', ?)",
        [cid, NOW],
    )
    sessions = [(i, i, "sms", "yes", "2027-01-20T12:00:00.000Z") for i in range(1, 8)]
    # Person 7 first said "no" on the phone, then "yes" by text message a day later.
    sessions.insert(0, (8, 7, "voice", "no", "2027-01-19T12:00:00.000Z"))
    for i in range(1, 8):
        conn.execute(
            "INSERT INTO contacts(id, phone, language, attributes, created_at, updated_at) "
            "VALUES (?, ?, 'fi', '{}', ?, ?)",
            [i, f"+3584000001{i:02d}", NOW, NOW],
        )
        conn.execute(
            "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, disposition, "
            "attempts, updated_at) VALUES (?, ?, ?, 'partial', 1, ?)",
            [cid, i, f"r{i}", NOW],
        )
    for sid, contact, channel, value, at in sessions:
        conn.execute(
            "INSERT INTO sessions(id, campaign_id, respondent, contact_id, channel, language, "
            "state, status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, 'fi', '{}', "
            "'stopped', ?, ?)",
            [sid, cid, f"r{contact}", contact, channel, at, at],
        )
        conn.execute(
            "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, "
            "language, input_kind, raw, value, confidence, confirmed, status, answered_at) "
            "VALUES (?, ?, 'apu', ?, ?, 'fi', 'text', ?, ?, 1, 0, 'answered', ?)",
            [sid, cid, f"r{contact}", channel, value, json.dumps(value), at],
        )
    report = build_report(store, config, cid)
    store.close()
    apu = next(q for q in report["questions"] if q["id"] == "apu")
    counts = {c["value"]: c["count"] for c in apu["categories"]}
    assert apu["n"] == 7 and counts["yes"] == 7 and counts["no"] == 0
