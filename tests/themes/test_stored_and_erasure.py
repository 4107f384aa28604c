"""Embeddings are made once and kept per answer; erasure removes a person's embeddings and
takes their answer out of every official's theme (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest

from kanavat.config import load
from kanavat.privacy.data import Person
from kanavat.privacy.erase import erase
from kanavat.store import Store
from kanavat.themes import commands, embed, named, stored

from . import world


@pytest.fixture
def config(tmp_path):
    config = world.make(tmp_path)
    world.add(config, world.topics())
    return load(config.path, env={})


def _store(config) -> Store:
    return Store(config.database_path, secret="themes")


def test_embeddings_are_made_once_and_read_back(config, monkeypatch):
    store = _store(config)
    first = commands.current(store, config, world.CAMPAIGN, world.QUESTION)
    assert stored.count(store, world.CAMPAIGN) == len(first.answers) == 45
    # A second run embeds nothing: the model is not called at all.
    calls = []
    real = embed.embed
    monkeypatch.setattr(
        stored, "embed", lambda texts, languages: calls.append(len(texts)) or real(texts, languages)
    )
    again = commands.current(store, config, world.CAMPAIGN, world.QUESTION)
    assert calls == []
    assert np.allclose(again.vectors, first.vectors, atol=1e-6)
    assert [t.members for t in again.themes] == [t.members for t in first.themes]
    # An answer whose text changed is embedded again, alone.
    answer_id = first.answers[0].answer_id
    store.execute("UPDATE answers SET raw = ? WHERE id = ?", ["bussi ei kulje kylään", answer_id])
    commands.current(store, config, world.CAMPAIGN, world.QUESTION)
    assert calls == [1]
    store.close()


@pytest.mark.parametrize("mode", ["delete", "anonymise"])
def test_erasure_removes_embeddings_and_the_answer_from_named_themes(config, mode):
    config = config.model_copy(
        update={"privacy": config.privacy.model_copy(update={"erasure": mode})}
    )
    store = _store(config)
    analysis = commands.current(store, config, world.CAMPAIGN, world.QUESTION)
    theme = analysis.themes[0]
    theme_id = commands.name(
        store, analysis, world.CAMPAIGN, world.QUESTION, theme.id, "Ensimmäinen"
    )
    members = [analysis.answers[i].answer_id for i in theme.members]
    assert named.answer_ids(store, theme_id) == sorted(members)
    before = next(n for n in named.load(store, world.CAMPAIGN, world.QUESTION) if n.id == theme_id)
    assert before.example_count == len(members)

    gone = members[0]
    session = store.one("SELECT session_id, raw FROM answers WHERE id = ?", [gone])
    phone = store.one("SELECT phone FROM contacts WHERE id = ?", [session["session_id"]])["phone"]
    vector = stored.vectors(store, world.CAMPAIGN, world.QUESTION, [(gone, session["raw"], "fi")])[
        0
    ]
    erase(store, config, Person(phone=phone), "cli")

    assert store.query("SELECT 1 FROM answer_embeddings WHERE answer_id = ?", [gone]) == []
    assert store.query("SELECT 1 FROM theme_answers WHERE answer_id = ?", [gone]) == []
    assert stored.count(store, world.CAMPAIGN) == 44
    after = next(n for n in named.load(store, world.CAMPAIGN, world.QUESTION) if n.id == theme_id)
    assert after.example_count == before.example_count - 1
    # The theme's centre no longer holds anything of the erased answer.
    assert np.allclose(after.example_sum, before.example_sum - vector, atol=1e-4)
    # Nothing of the erased text is left in the store's theme tables.
    for table in ("themes", "theme_answers", "answer_embeddings"):
        dump = repr(store.query(f"SELECT * FROM {table}"))
        assert session["raw"] not in dump
    # The themes are still found, from what is left.
    left = commands.current(store, config, world.CAMPAIGN, world.QUESTION)
    assert len(left.answers) == 44
    assert gone not in [a.answer_id for a in left.answers]
    store.close()


def test_orphaned_embeddings_go(config):
    store = _store(config)
    analysis = commands.current(store, config, world.CAMPAIGN, world.QUESTION)
    gone = analysis.answers[3].answer_id
    store.execute("DELETE FROM answers WHERE id = ?", [gone])
    assert stored.forget_orphans(store) == 1
    assert stored.count(store, world.CAMPAIGN) == 44
    store.close()


def test_the_daily_job_embeds_new_answers_once(config):
    import asyncio

    store = _store(config)
    assert len(stored.pending(store, config)) == 45
    assert asyncio.run(stored.embed_daily(store, config, batch=16)) == 45
    assert stored.pending(store, config) == []
    assert asyncio.run(stored.embed_daily(store, config)) == 0
    # What the job kept is what a report reads: the same vectors, nothing embedded again.
    analysis = commands.current(store, config, world.CAMPAIGN, world.QUESTION)
    direct = embed.embed([a.text for a in analysis.answers], [a.language for a in analysis.answers])
    assert np.allclose(analysis.vectors, direct, atol=1e-5)
    store.close()
