"""The conversation section of the council report: groups, representative and consensus
statements against those built into the votes, the spread over channels, and disclosure control."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import numpy as np

from kanavat import config as configuration
from kanavat.conversation import groups, statements, votes
from kanavat.report import csv_out, html
from kanavat.report.build import build_report
from kanavat.store import Store
from tests.conversation.conftest import CAMPAIGN, ROOT

# Built into the votes (by index among the 8 seed statements): 0 and 1 everyone agrees with;
# group 0 agrees with 2, 4 and 6 and disagrees with 3, 5 and 7, group 1 the other way round.
SIDES = {i: (0.92, 0.08) if i % 2 == 0 else (0.08, 0.92) for i in range(2, 8)}


def populated(conversation_config: Path) -> tuple[configuration.Config, Store, list[int]]:
    config = configuration.load(conversation_config, env={})
    store = Store(config.database_path, secret="s")
    statements.sync_seeds(store, CAMPAIGN, config.conversations["lahipalvelut"].seeds())
    ids = statements.accepted_ids(store, CAMPAIGN)
    rng = np.random.default_rng(11)
    for person in range(90):
        side = person % 2
        channel = "voice" if person in (0, 2) else ("sms" if person % 3 else "chat")
        for index, statement in enumerate(ids):
            agree = 0.92 if index < 2 else SIDES.get(index, (0.5, 0.5))[side]
            vote = str(
                rng.choice(
                    ["agree", "disagree", "pass"], p=[agree * 0.95, (1 - agree) * 0.95, 0.05]
                )
            )
            votes.record(store, CAMPAIGN, statement, f"r{person}", vote, channel)  # type: ignore[arg-type]
    groups.update(store, CAMPAIGN)
    return config, store, ids


def test_the_report_shows_the_groups_and_what_they_stand_for(conversation_config: Path) -> None:
    config, store, ids = populated(conversation_config)
    report = build_report(store, config, CAMPAIGN, language="fi")
    schema = json.loads((ROOT / "kanavat" / "report" / "schema.json").read_text())
    jsonschema.validate(json.loads(json.dumps(report)), schema)
    section = report["conversation"]
    assert [g["size"]["count"] for g in section["groups"]] == [45, 45]
    member = groups.latest(store, CAMPAIGN).members  # type: ignore[union-attr]
    shown = 0
    for group in section["representative"]:
        side = int(next(r for r, g in member.items() if g == group["group"])[1:]) % 2
        for item in group["statements"]:
            index = ids.index(item["statement"])
            assert index in SIDES, item  # only built-in divisive statements represent a group
            wanted = "agree" if SIDES[index][side] > 0.5 else "disagree"
            assert item["direction"] == wanted
            share = item["votes"][wanted]
            # A share is hidden when a small count beside it is (disclosure control).
            assert share["share"] > 0.7 if not share["suppressed"] else share["share"] is None
            shown += not share["suppressed"]
    assert shown >= 4
    agreed = {ids.index(c["statement"]) for c in section["consensus"] if c["direction"] == "agree"}
    assert agreed == {0, 1}
    assert all(
        c["groups"]["A"]["agree"]["share"] > 0.75
        for c in section["consensus"]
        if not c["groups"]["A"]["agree"]["suppressed"]
    )
    store.close()


def test_small_cells_are_hidden_and_cannot_be_worked_out(conversation_config: Path) -> None:
    config, store, _ = populated(conversation_config)
    report = build_report(store, config, CAMPAIGN, language="fi")
    by_channel = next(t for t in report["conversation"]["spread"] if t["by"] == "channel")
    voice = next(r for r in by_channel["rows"] if r["value"] == "voice")
    assert voice["total"]["suppressed"]  # two people called
    assert [c["suppressed"] for c in voice["groups"].values()].count(True) == 1  # the other is 0
    for table in report["conversation"]["spread"]:  # no row or column with one hidden cell
        for row in table["rows"]:
            hidden = [c for c in row["groups"].values() if c["suppressed"]]
            assert len(hidden) != 1 or row["total"]["suppressed"]
        for label in ("A", "B"):
            hidden = [r for r in table["rows"] if r["groups"][label]["suppressed"]]
            assert len(hidden) != 1
    page = html.render(report)
    assert (
        "Keskustelu: Palvelut lähellä" in page and "Mistä kaikki ryhmät ovat samaa mieltä" in page
    )
    out = io.StringIO()
    csv_out.write(out, report)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["count"] for r in rows if r["section"] == "opinion_group"] == ["45", "45"]
    voice_rows = [r for r in rows if r["section"] == "opinion_spread" and r["category"] == "voice"]
    assert sorted((r["count"], r["suppressed"]) for r in voice_rows) == [("", "1"), ("0", "0")]
    store.close()


def test_no_groups_are_reported_when_the_votes_have_none(conversation_config: Path) -> None:
    config = configuration.load(conversation_config, env={})
    store = Store(config.database_path, secret="s")
    statements.sync_seeds(store, CAMPAIGN, config.conversations["lahipalvelut"].seeds())
    rng = np.random.default_rng(2)
    for person in range(120):
        for statement in statements.accepted_ids(store, CAMPAIGN):
            vote = str(rng.choice(["agree", "disagree", "pass"], p=[0.5, 0.4, 0.1]))
            votes.record(store, CAMPAIGN, statement, f"r{person}", vote, "chat")  # type: ignore[arg-type]
    section = build_report(store, config, CAMPAIGN, language="en")["conversation"]
    assert section["groups"] == [] and section["spread"] == []
    assert "The votes form no opinion groups" in html.render(
        build_report(store, config, CAMPAIGN, language="en")
    )
    store.close()
