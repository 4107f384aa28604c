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
