"""The conversation config section and the moderation and groups commands, on real files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kanavat import config as configuration
from kanavat.cli import main
from kanavat.conversation import statements, votes
from kanavat.store import Store
from tests.conversation.conftest import CAMPAIGN


def run(path: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--config", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_example_conversation_loads(conversation_config: Path) -> None:
    config = configuration.load(conversation_config, env={})
    assert config.campaigns[CAMPAIGN].conversation == "lahipalvelut"
    conversation = config.conversations["lahipalvelut"]
    assert conversation.offered == 8 and conversation.moderation
    assert len(conversation.seeds()) == 8


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('conversation = "lahipalvelut"', 'conversation = "lahipalvelu"'),
            "unknown conversation 'lahipalvelu'; known: lahipalvelut",
        ),
        (('id = "jonot"', 'id = "digi"'), "duplicate statement id 'digi' (also statements[4])"),
        (
            ('sv = "Byarna behöver en servicebuss.", ', ""),
            "statements[3].text: missing translation for sv",
        ),
        (("offered = 8", "offered = 0"), "offered: Input should be greater than or equal to 1"),
        (
            ("moderation = true", "moderaton = true"),
            "conversations.lahipalvelut.moderaton: unknown key (a typo?)",
        ),
    ],
)
def test_config_mistakes_are_named_with_their_place(
    conversation_config: Path, change: tuple[str, str], message: str
) -> None:
    text = conversation_config.read_text(encoding="utf-8")
    assert change[0] in text
    conversation_config.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(configuration.ConfigError) as caught:
        configuration.load(conversation_config, env={})
    assert message in str(caught.value)
    assert len(caught.value.problems) == 1, caught.value


def test_moderation_commands(conversation_config: Path) -> None:
    listed = run(conversation_config, "statements", "list", CAMPAIGN)
    assert listed.count("accepted  seed") == 8 and "Kylille tarvitaan palvelubussi." in listed
    config = configuration.load(conversation_config, env={})
    store = Store(config.database_path)
    added = statements.submit(store, CAMPAIGN, "Apteekki takaisin kylälle", "fi", "sms", True)
    store.close()
    pending = run(conversation_config, "statements", "list", CAMPAIGN, "--status", "pending")
    assert "Apteekki takaisin kylälle" in pending and "sms" in pending
    new_id = str(added.statement.id)
    assert (
        run(conversation_config, "statements", "accept", CAMPAIGN, new_id)
        == f"{new_id}: accepted\n"
    )
    run(conversation_config, "statements", "edit", CAMPAIGN, new_id, "Apteekki takaisin kylille.")
    assert "Apteekki takaisin kylille." in run(
        conversation_config, "statements", "list", CAMPAIGN, "--status", "accepted"
    )
    assert "rejected" in run(conversation_config, "statements", "reject", CAMPAIGN, new_id)
    bad = CliRunner().invoke(
        main, ["statements", "accept", CAMPAIGN, "999", "--config", str(conversation_config)]
    )
    assert bad.exit_code == 1 and "no statement 999" in bad.output
    wrong = CliRunner().invoke(
        main, ["statements", "list", "nuoret-2027", "--config", str(conversation_config)]
    )
    assert (
        wrong.exit_code == 1
        and "is not a conversation; conversations: keskustelu-2027" in wrong.output
    )


def test_groups_csv_and_votes_in_the_export(conversation_config: Path) -> None:
    run(conversation_config, "statements", "list", CAMPAIGN)  # seeds the statements
    config = configuration.load(conversation_config, env={})
    store = Store(config.database_path)
    ids = statements.accepted_ids(store, CAMPAIGN)
    rng = np.random.default_rng(5)
    for person in range(60):
        respondent = store.pseudonym(CAMPAIGN, str(person))
        for index, statement in enumerate(ids):
            agree = 0.9 if index < 2 or (index % 2 == person % 2) else 0.1
            vote = str(rng.choice(["agree", "disagree"], p=[agree, 1 - agree]))
            votes.record(
                store,
                CAMPAIGN,
                statement,
                respondent,
                vote,
                "sms",
                language="fi",
                input_kind="text",
            )  # type: ignore[arg-type]
    votes.record(
        store, CAMPAIGN, ids[0], "r-too-few", "pass", "voice", language="fi", input_kind="keypad"
    )
    halves = {store.pseudonym(CAMPAIGN, str(p)): p % 2 for p in range(60)}
    store.close()
    table = list(
        csv.DictReader(io.StringIO(run(conversation_config, "conversation", "groups", CAMPAIGN)))
    )
    assert set(table[0]) == {"respondent", "group"} and len(table) == 61
    group_of = {row["respondent"]: row["group"] for row in table}
    assert group_of["r-too-few"] == ""
    assert {group_of[r] for r, half in halves.items() if half == 0} in ({"A"}, {"B"})
    assert len({group_of[r] for r in halves}) == 2
    exported = list(csv.DictReader(io.StringIO(run(conversation_config, "export", CAMPAIGN))))
    assert len(exported) == 60 * 8 + 1
    assert {row["value"] for row in exported} == {"agree", "disagree", "pass"}
    assert {row["question"] for row in exported} == {str(i) for i in ids}
    assert set(group_of) == {row["respondent"] for row in exported}
