"""The report's SQL counting paths agree: with one profile (no join), with profiles (joined),
and the free-text list read while written (``render``) or held (``build_report``)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from kanavat.report import data, json_out
from kanavat.report.build import build_report

from . import fixture
from .conftest import NOW


def _counted(rows: list[data.AnswerRow], profiles: dict[str, data.Profile]) -> Counter:
    out: Counter = Counter()
    for a in rows:
        p = profiles[a.respondent]
        key = (a.question, a.channel, a.language, a.input_kind, a.status, a.confirmed)
        out[(*key, json.dumps(a.value), p.stratum, tuple(sorted(p.attributes.items())))] += a.n
    return out


@pytest.mark.parametrize(("campaign", "profiles"), [(fixture.CHAT, False), (fixture.SMALL, True)])
def test_one_profile_counts_as_the_joined_query(world, campaign, profiles):
    """Where every answer has the same profile (chat visitors; the small campaign's contacts
    have attributes, so forcing one profile there must differ), the index-only count is the
    joined count."""
    store = world.store()
    try:
        config = world.config
        texts = [q.id for q in config.questionnaire_of(campaign).questions if q.type == "text"]
        several = data._several_sessions(store, campaign)
        joined = _counted(
            *data._closed_answers(store, campaign, texts, {}, [], several, one_profile=False)
        )
        alone = _counted(
            *data._closed_answers(store, campaign, texts, {}, [], several, one_profile=True)
        )
        has_profiles = data._has_profiles(store, campaign)
    finally:
        store.close()
    assert has_profiles == profiles
    assert sum(joined.values()) == sum(alone.values()) > 0
    if has_profiles:
        assert joined != alone  # the test can tell the two apart
    else:
        assert joined == alone


def test_streamed_free_text_is_the_held_one(world):
    store = world.store()
    try:
        held = build_report(store, world.config, fixture.SAMPLED, now=NOW)
        streamed = build_report(store, world.config, fixture.SAMPLED, now=NOW, stream=True)
        listed = [q for q in streamed["questions"] if q["type"] == "text" and q["answers"]]
        assert listed and not isinstance(listed[0]["answers"], list)
        assert json_out.dumps(streamed) == json_out.dumps(held)
    finally:
        store.close()


def test_free_text_lists_each_persons_latest_answer_and_skips_restarted_sessions(tmp_path):
    """Person 7 wrote twice (a second session later): only the later text is listed; a
    restarted session's text is not; the count is the list's length, in every format."""
    from kanavat.report.render import render
    from kanavat.store import Store

    config = fixture.make_config(tmp_path)
    store = Store(config.database_path, secret="texts")
    conn = store.db.conn
    cid = fixture.EARLIER
    now = "2027-01-20T12:00:00.000Z"
    conn.execute(
        "INSERT INTO campaigns(id, questionnaire, council, status, updated_at) "
        "VALUES (?, 'hyvinvointi', 'vanhusneuvosto', 'running', ?)",
        [cid, now],
    )
    # (session, person, status, text, answered at)
    sessions = [(i, i, "stopped", f"Teksti numero {i}", now) for i in range(1, 8)]
    sessions.append((8, 7, "stopped", "Vanhempi ajatus", "2027-01-19T12:00:00.000Z"))
    sessions.append((9, 6, "restarted", "Keskeytetty ajatus", "2027-01-19T12:00:00.000Z"))
    for i in range(1, 8):
        conn.execute(
            "INSERT INTO contacts(id, phone, language, attributes, created_at, updated_at) "
            "VALUES (?, ?, 'fi', '{}', ?, ?)",
            [i, f"+3584000001{i:02d}", now, now],
        )
        conn.execute(
            "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, disposition, "
            "attempts, updated_at) VALUES (?, ?, ?, 'partial', 1, ?)",
            [cid, i, f"r{i}", now],
        )
    for sid, person, status, text, at in sessions:
        conn.execute(
            "INSERT INTO sessions(id, campaign_id, respondent, contact_id, channel, language, "
            "state, status, started_at, updated_at) VALUES (?, ?, ?, ?, 'sms', 'fi', '{}', "
            "?, ?, ?)",
            [sid, cid, f"r{person}", person, status, at, at],
        )
        conn.execute(
            "INSERT INTO answers(session_id, campaign_id, question, respondent, channel, "
            "language, input_kind, raw, value, confidence, confirmed, status, answered_at) "
            "VALUES (?, ?, 'terveiset', ?, 'sms', 'fi', 'text', ?, ?, 1, 0, 'answered', ?)",
            [sid, cid, f"r{person}", text, json.dumps(text), at],
        )
    conn.commit()
    try:
        page = render(store, config, cid, "json", now=NOW)
        report = build_report(store, config, cid, now=NOW)
    finally:
        store.close()
    for found in (json.loads(page), report):
        q = next(q for q in found["questions"] if q["id"] == "terveiset")
        assert q["n"] == len(q["answers"]) == 7
        texts = [a["text"] for a in q["answers"]]
        assert texts == [f"Teksti numero {i}" for i in range(1, 8)], texts
