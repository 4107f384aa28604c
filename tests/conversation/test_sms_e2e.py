"""A conversation by text message, end to end: the real server, the emulator's handset, signed
webhooks. The resident votes with numbers and words, passes, adds a statement of their own,
and a moderator accepts it; votes reach the export and the groups command."""

from __future__ import annotations

import csv
import io
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
    text += "\n" + sms_first((ROOT / "examples" / "conversation.toml").read_text(encoding="utf-8"))
    async with running_server(tmp_path, config_text=text) as srv:
        srv.import_contacts({PHONE: "fi"}, group="ikaihmiset")
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
