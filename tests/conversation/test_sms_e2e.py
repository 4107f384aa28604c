"""A conversation by text message, end to end: the real server, the emulator's handset, signed
webhooks. The resident votes with numbers and words, passes, adds a statement of their own,
and a moderator accepts it; votes reach the export and the groups command."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

from harness import running_server

from tests.conversation.conftest import CAMPAIGN, ROOT

PHONE = "+358401000777"
WAIT = 10.0


def sms_first(text: str) -> str:
    return text.replace(
        'channels = ["voice", "sms", "chat"]', 'channels = ["sms", "voice", "chat"]'
    )


async def test_a_resident_votes_and_adds_a_statement_by_text(tmp_path: Path) -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = sms_first(text)
    async with running_server(tmp_path, config_text=text) as srv:
        srv.import_contacts({PHONE: "fi"}, group="asukkaat")
        srv.start_campaign(CAMPAIGN)
        handset = srv.emulator.handset(PHONE)
        first = await handset.wait_for_message(WAIT)
        assert "Väite 1, yhteensä 8:" in first.body and "1 = Samaa mieltä" in first.body
        replies = [
            "1",
            "eri mieltä",
            "Samaa mieltä!",
            "3",
            "ohita",
            "2",
            "banaani",
            "2",
            "1",
            "kyllä",
        ]
        bodies = []
        for reply in replies:
            await handset.send_sms(reply)
            bodies.append((await handset.wait_for_message(WAIT)).body)
        assert "Väite 7, yhteensä 8:" in bodies[5]
        assert "en ymmärtänyt" in bodies[6]  # "banaani" is no vote: asked again
        assert "Väite 8, yhteensä 8:" in bodies[7]
        assert "Haluatko lisätä oman väitteesi" in bodies[8]
        assert "Kerro väitteesi" in bodies[9]
        await handset.send_sms("Kirjastoauto pitää palauttaa kyliin.")
        await handset.wait_for_message(WAIT)
        await srv.idle()
        votes = srv.store.query("SELECT vote, channel FROM conversation_votes ORDER BY id")
        assert [v["vote"] for v in votes] == [
            "agree",
            "disagree",
            "agree",
            "pass",
            "pass",
            "disagree",
            "disagree",
            "agree",
        ]
        assert {v["channel"] for v in votes} == {"sms"}
        pending = srv.cli("statements", "list", CAMPAIGN, "--status", "pending").output
        assert "Kirjastoauto pitää palauttaa kyliin." in pending
        statement_id = pending.split()[0]
        srv.cli("statements", "accept", CAMPAIGN, statement_id)
        rows = srv.export(CAMPAIGN)
        voted = [r for r in rows if r["value"] in ("agree", "disagree", "pass")]
        assert len(voted) == 8 and {r["channel"] for r in voted} == {"sms"}
        assert all("Kirjastoauto" not in str(r["raw"]) for r in rows)  # never attributed
        groups = srv.cli("conversation", "groups", CAMPAIGN).output
        table = list(csv.DictReader(io.StringIO(groups)))
        assert [r["respondent"] for r in table] == [voted[0]["respondent"]]
        # Their own data: the vote that counts on each of the 8 statements, and what they wrote.
        shown = srv.cli("person", "show", PHONE, "--lang", "fi").output
        lines = shown.splitlines()
        assert sum(line.endswith("Vastauksesi: Samaa mieltä") for line in lines) == 3
        assert sum(line.endswith("Vastauksesi: Eri mieltä") for line in lines) == 3
        assert sum(line.endswith("Vastauksesi: En osaa sanoa") for line in lines) == 2
        assert "Oma väitteesi" in shown and "Kirjastoauto pitää palauttaa kyliin." in shown


async def test_residents_by_text_form_the_groups_the_report_shows(tmp_path: Path) -> None:
    """Twelve residents in two latent camps vote by text; the groups job runs; the council
    report (``kanavat report --format json``) shows two groups and what unites them. (Twelve:
    more than the ten it takes to group, each group above the report's smallest cell.)"""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = sms_first(text).replace("own_statements = true", "own_statements = false")
    camp = {  # seed statement -> the vote of camp 0 and of camp 1
        "Terveysaseman": ("1", "1"),  # everyone agrees
        "Omaishoitajat": ("1", "1"),
        "Etävastaanotto": ("1", "2"),
        "Sähköiset": ("1", "2"),
        "keskittää": ("1", "2"),
        "Kotihoidon": ("2", "1"),
        "palvelubussi": ("2", "1"),
        "riittävän nopeasti": ("2", "1"),
    }
    phones = {f"+3584010009{n:02d}": n % 2 for n in range(12)}

    async def resident(srv, phone: str, side: int) -> None:
        handset = srv.emulator.handset(phone)
        for _ in range(8):
            body = (await handset.wait_for_message(WAIT)).body
            vote = next(v[side] for k, v in camp.items() if k in body)
            await handset.send_sms(vote)
        await handset.wait_for_message(WAIT)  # the campaign's own questionnaire begins

    async with running_server(tmp_path, config_text=text) as srv:
        srv.import_contacts(dict.fromkeys(phones, "fi"), group="asukkaat")
        srv.start_campaign(CAMPAIGN)
        await asyncio.gather(*(resident(srv, p, side) for p, side in phones.items()))
        await srv.idle()
        report = json.loads(srv.cli("report", CAMPAIGN, "--format", "json").output)
        table = srv.cli("conversation", "groups", CAMPAIGN).output
    section = report["conversation"]
    assert [g["size"]["count"] for g in section["groups"]] == [6, 6]
    assert {c["text"].split()[0] for c in section["consensus"]} == {
        "Terveysaseman",
        "Omaishoitajat",
    }
    by_group = {g["group"]: {s["text"] for s in g["statements"]} for g in section["representative"]}
    assert all(
        any(k in t for t in statements for k in ("Etävastaanotto", "Kotihoidon", "palvelubussi"))
        for statements in by_group.values()
    )
    rows = list(csv.DictReader(io.StringIO(table)))
    assert len(rows) == 12 and {r["group"] for r in rows} == {"A", "B"}
