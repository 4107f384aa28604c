"""A service event to an answered SMS, end to end: the real server and emulator (harness), the
dispatcher on its own timer; the answer carries the unit of the visit it is about."""

from __future__ import annotations

import json

from click.testing import CliRunner
from harness import EXAMPLE_CONFIG, running_server

from kanavat.outreach import triggers
from kanavat.outreach.commands import event

from .conftest import CAMPAIGN, QUESTIONNAIRE, TOKEN, event_campaign

PHONE = "+358401110002"
OTHER = "+358401110003"
UNIT = "Kuopion kotihoito"

# One second of delay, and texts allowed at any hour so the test passes at night too.
CONFIG = (
    EXAMPLE_CONFIG.read_text(encoding="utf-8")
    + QUESTIONNAIRE
    + event_campaign("1s", 'sms_hours = ["mon-sun 00:00-24:00"]\nholidays = false')
)


def unit_of_answers(store, respondent: str) -> list[tuple[str, str]]:
    """(question, unit) per answer, through the session that answered it."""
    return [
        (r["question"], json.loads(r["attributes"])["unit"])
        for r in store.query(
            "SELECT a.question, s.attributes FROM answers a JOIN sessions s ON s.id = a.session_id "
            "WHERE a.campaign_id = ? AND a.respondent = ?",
            [CAMPAIGN, respondent],
        )
    ]


async def test_event_to_answer_with_its_unit(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(triggers.TOKEN_ENV, TOKEN)
    async with running_server(tmp_path, config_text=CONFIG) as srv:
        out = CliRunner().invoke(
            event,
            [CAMPAIGN, "040 111 0002", "--attr", f"unit={UNIT}", "--config", str(srv.config_path)],
        )
        assert out.exit_code == 0, out.output
        handset = srv.emulator.handset(PHONE)
        invitation = await handset.wait_for_message(15)
        assert "Kävit palvelussamme." in invitation.body
        await handset.send_sms("4")
        await srv.wait_until(
            lambda: srv.count("SELECT 1 FROM answers WHERE campaign_id = ?", [CAMPAIGN]),
            what="the answer",
        )
        rows = srv.export(CAMPAIGN)
        assert [(r["question"], r["value"], r["channel"]) for r in rows] == [
            ("suosittelu", 4, "sms")
        ]
        assert unit_of_answers(srv.store, rows[0]["respondent"]) == [("suosittelu", UNIT)]
        row = srv.store.one(
            "SELECT disposition, attributes FROM campaign_contacts WHERE respondent = ?",
            [rows[0]["respondent"]],
        )
        assert row["disposition"] == "complete"
        assert json.loads(row["attributes"]) == {"unit": UNIT}

        # Over HTTP too (server.py mounts the triggers).
        if any(r.resource.canonical == "/api/events" for r in srv.app.router.routes()):
            async with srv._http.post(
                srv.base_url + "/api/events",
                json={"campaign": CAMPAIGN, "phone": OTHER, "unit": "Iisalmen vastaanotto"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as resp:
                assert resp.status == 202, await resp.text()
            other = srv.emulator.handset(OTHER)
            await other.wait_for_message(15)
            await other.send_sms("2")
            await srv.wait_until(
                lambda: srv.count("SELECT 1 FROM answers WHERE campaign_id = ?", [CAMPAIGN]) == 2,
                what="the second answer",
            )
            units = sorted(
                unit
                for r in srv.export(CAMPAIGN)
                for _, unit in unit_of_answers(srv.store, r["respondent"])
            )
            assert units == ["Iisalmen vastaanotto", UNIT]
