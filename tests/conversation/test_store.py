"""Conversation tables on a real SQLite store: statements, moderation, votes, group updates."""

from __future__ import annotations

import numpy as np
import pytest

from kanavat.conversation import groups, statements, votes
from kanavat.store import Store

CAMPAIGN = "keskustelu"
SEEDS = {
    f"s{i}": {"fi": f"Väite {i}", "sv": f"Påstående {i}", "en": f"Statement {i}"} for i in range(8)
}


def test_seeds_are_accepted_and_keep_their_ids_when_reworded(store: Store) -> None:
    statements.sync_seeds(store, CAMPAIGN, SEEDS)
    first = statements.listing(store, CAMPAIGN)
    assert [s.status for s in first] == ["accepted"] * 8
    statements.sync_seeds(store, CAMPAIGN, {**SEEDS, "s0": {"fi": "Uusi sanamuoto"}})
    again = statements.listing(store, CAMPAIGN)
    assert [s.id for s in again] == [s.id for s in first]
    assert again[0].text("fi") == "Uusi sanamuoto"


def test_residents_statements_wait_for_a_moderator_and_duplicates_are_not_added(
    store: Store,
) -> None:
    first = statements.submit(store, CAMPAIGN, "Bussit kulkemaan  useammin!", "fi", "sms", True)
    assert first.statement.status == "pending" and not first.duplicate
    assert statements.accepted_ids(store, CAMPAIGN) == []
    same = statements.submit(store, CAMPAIGN, "bussit kulkemaan useammin", "fi", "chat", True)
    assert same.duplicate and same.statement.id == first.statement.id
    near = statements.submit(store, CAMPAIGN, "Bussit kulkemaan useammin.", "fi", "voice", True)
    assert near.duplicate
    accepted = statements.moderate(store, CAMPAIGN, first.statement.id, "accepted")
    assert accepted.status == "accepted"
    assert statements.accepted_ids(store, CAMPAIGN) == [first.statement.id]
    edited = statements.edit(store, CAMPAIGN, first.statement.id, "fi", "Bussit useammin kylille")
    assert edited.text("fi") == "Bussit useammin kylille" and edited.status == "accepted"
    columns = {r["name"] for r in store.query("PRAGMA table_info(conversation_statements)")}
    assert not columns & {"respondent", "contact_id", "phone"}  # never attributed


def test_without_moderation_a_statement_enters_at_once(store: Store) -> None:
    added = statements.submit(store, CAMPAIGN, "Enemmän penkkejä puistoihin", "fi", "chat", False)
    assert added.statement.status == "accepted"


def test_empty_and_overlong_statements_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="empty"):
        statements.submit(store, CAMPAIGN, "   ", "fi", "sms", True)
    with pytest.raises(ValueError, match="at most"):
        statements.submit(store, CAMPAIGN, "x" * 400, "fi", "sms", True)
    assert statements.listing(store, CAMPAIGN) == []


def test_unknown_statement_is_a_clear_error(store: Store) -> None:
    with pytest.raises(statements.UnknownStatement, match="no statement 99"):
        statements.moderate(store, CAMPAIGN, 99, "accepted")


def test_votes_are_appended_and_the_latest_counts(store: Store) -> None:
    statements.sync_seeds(store, CAMPAIGN, SEEDS)
    first = statements.accepted_ids(store, CAMPAIGN)[0]
    votes.record(store, CAMPAIGN, first, "r1", "agree", "voice")
    votes.record(store, CAMPAIGN, first, "r1", "disagree", "sms")
    cast = votes.all_votes(store, CAMPAIGN)
    assert [(v.vote, v.channel) for v in cast] == [("agree", "voice"), ("disagree", "sms")]
    assert votes.voted_on(store, CAMPAIGN, "r1") == {first}
    with pytest.raises(ValueError, match="unknown vote"):
        votes.record(store, CAMPAIGN, first, "r1", "maybe", "sms")  # type: ignore[arg-type]
    snapshot = groups.update(store, CAMPAIGN)
    assert snapshot.votes_seen == 2 and snapshot.k == 0


def test_group_update_finds_the_groups_and_keeps_them(store: Store) -> None:
    statements.sync_seeds(store, CAMPAIGN, SEEDS)
    ids = statements.accepted_ids(store, CAMPAIGN)
    rng = np.random.default_rng(3)
    for person in range(120):
        side = person % 2
        for index, statement in enumerate(ids):
            leaning = (index % 2 == side) if index >= 2 else True
            p = 0.9 if leaning else 0.1
            vote = rng.choice(["agree", "disagree"], p=[p, 1 - p])
            votes.record(store, CAMPAIGN, statement, f"r{person}", str(vote), "chat")  # type: ignore[arg-type]
    first = groups.update(store, CAMPAIGN)
    assert first.k == 2 and len(first.members) == 120
    by_side = {first.members[f"r{p}"] for p in range(0, 120, 2)}
    assert len(by_side) == 1
    assert {c["statement"] for c in first.consensus if c["direction"] == "agree"} == set(ids[:2])
    assert groups.update_if_stale(store, CAMPAIGN) == first  # no new votes: not recomputed
    votes.record(store, CAMPAIGN, ids[3], "r0", "agree", "sms")
    second = groups.update_if_stale(store, CAMPAIGN)
    assert second.votes_seen == first.votes_seen + 1
    assert second.members == first.members
    nxt = groups.next_statement(store, CAMPAIGN, "new-person", np.random.default_rng(0))
    assert nxt in ids
    assert groups.next_statement(store, CAMPAIGN, "r5", np.random.default_rng(0)) is None


def test_the_job_recomputes_only_conversations_with_new_votes(tmp_path) -> None:
    from pathlib import Path

    from kanavat import config as configuration

    root = Path(__file__).resolve().parents[2]
    path = tmp_path / "config.toml"
    path.write_text((root / "config.toml").read_text())
    config = configuration.load(path, env={})
    store = Store(config.database_path, secret="s")
    campaign = "keskustelu-2027"
    statements.sync_seeds(store, campaign, config.conversations["lahipalvelut"].seeds())
    assert groups.update_all(store, config) == 1
    assert groups.update_all(store, config) == 0
    votes.record(store, campaign, statements.accepted_ids(store, campaign)[0], "r1", "pass", "chat")
    assert groups.update_all(store, config) == 1
    store.close()


@pytest.mark.parametrize("mode", ["delete", "anonymise"])
def test_erasure_takes_a_residents_votes_and_group(tmp_path, mode: str) -> None:
    from pathlib import Path

    from kanavat import config as configuration
    from kanavat.conversations import Conversations
    from kanavat.privacy.data import Person
    from kanavat.privacy.erase import erase
    from kanavat.questions.normalise import Input

    root = Path(__file__).resolve().parents[2]
    path = tmp_path / "config.toml"
    text = (root / "config.toml").read_text()
    path.write_text(text.replace('erasure = "anonymise"', f'erasure = "{mode}"'))
    config = configuration.load(path, env={})
    store = Store(config.database_path, secret="s")
    turn = Conversations(config, store).begin("keskustelu-2027", "chat", "fi", visitor_id="v-1:fi")
    for reply in ["1", "2", "3"]:
        Conversations(config, store).take(turn.session_id, Input("text", reply))
    assert len(votes.voted_on(store, "keskustelu-2027", turn.respondent)) == 3
    erase(store, config, Person(phone=None, visitor="v-1"), "chat")
    assert votes.voted_on(store, "keskustelu-2027", turn.respondent) == set()
    kept = votes.all_votes(store, "keskustelu-2027")
    assert len(kept) == (0 if mode == "delete" else 3)
    assert all(v.respondent.startswith("x") for v in kept)
    store.close()
