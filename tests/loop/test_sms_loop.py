"""Closing the loop over SMS, end to end: an outcome told once to each participant, never to
one who opted out or was erased; a suggestion texted, routed, answered and the answer
delivered; the same outcome recorded again and the server restarted tell nobody twice."""

from __future__ import annotations

import json
from pathlib import Path

from harness import SMS_CAMPAIGN, Server, running_server

from kanavat.loop import notices

A, B, C = "+358401230001", "+358401230002", "+358401230003"  # take part (fi, sv, en)
OPTED, ERASED, SILENT = "+358401230004", "+358401230005", "+358401230006"
WHAT = {"fi": "Mitä tapahtui", "sv": "Vad som hände", "en": "What happened"}


async def take_part(srv: Server, number: str) -> None:
    h = srv.emulator.handset(number)
    await h.wait_for_message(10)  # the invitation and first question
    await h.send_sms("4")
    await h.wait_for_message(10)  # the next question


def outcome_messages(srv: Server, number: str) -> list[str]:
    return [
        m.body
        for m in srv.emulator.handset(number).inbox
        if any(word in m.body for word in WHAT.values())
    ]


async def test_outcome_told_once_by_sms_never_to_opted_out_or_erased(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        srv.import_contacts({A: "fi", B: "sv", C: "en", OPTED: "fi", ERASED: "fi", SILENT: "fi"})
        srv.start_campaign()
        for number in (A, B, C, OPTED, ERASED):
            await take_part(srv, number)
        await srv.emulator.handset(SILENT).wait_for_message(10)  # invited, never answers
        opted = srv.emulator.handset(OPTED)
        await opted.send_sms("LOPETA")
        erased = srv.emulator.handset(ERASED)
        await erased.send_sms("POISTA")
        await erased.send_sms("KYLLÄ")
        await srv.wait_until(
            lambda: srv.count("SELECT id FROM contacts WHERE erased_at IS NOT NULL"),
            what="the erasure",
        )
        out = srv.cli(
            "outcome",
            "add",
            SMS_CAMPAIGN,
            "--body",
            "Vammaisneuvosto",
            "--date",
            "2027-03-10",
            "--fi",
            "Kuljetuspalvelun tilausaikaa pidennetään.",
            "--sv",
            "Beställningstiden för färdtjänst förlängs.",
            "--en",
            "The transport service booking window gets longer.",
            "--minutes",
            "https://example.fi/poytakirjat/2027-3",
        ).output
        assert "3 residents to tell" in out
        for number, language in ((A, "fi"), (B, "sv"), (C, "en")):
            h = srv.emulator.handset(number)
            await srv.wait_until(lambda h=h: outcome_messages(srv, h.number), what="the outcome")
            (told,) = outcome_messages(srv, number)
            assert WHAT[language] in told and "https://example.fi/poytakirjat/2027-3" in told
        assert "förlängs" in outcome_messages(srv, B)[0]
        await srv.wait_until(
            lambda: (
                srv.count(
                    "SELECT n.id FROM notices n JOIN outbound o ON o.id = n.outbound_id "
                    "WHERE o.status = 'delivered'"
                )
                == 3
            ),
            what="delivery",
        )
        # The same decision from a TOML file, twice: recorded once, told once.
        toml = tmp_path / "outcome.toml"
        toml.write_text(
            '[[outcome]]\nkey = "kevat"\ndecided_by = "Aluehallitus"\ndecided_on = "2027-04-01"\n'
            'text = { fi = "Asiointipisteitä lisätään.", sv = "Fler servicepunkter." }\n',
            encoding="utf-8",
        )
        assert (
            "3 residents to tell"
            in srv.cli("outcome", "add", SMS_CAMPAIGN, "--from", str(toml)).output
        )
        assert (
            "already recorded"
            in srv.cli("outcome", "add", SMS_CAMPAIGN, "--from", str(toml)).output
        )
        await srv.wait_until(lambda: len(outcome_messages(srv, A)) == 2, what="the second outcome")
        await srv.restart()
        await srv.idle()
        # Handsets are new after a restart: nothing more arrives for anyone.
        for _ in range(10):
            await srv.idle()
        for number in (A, B, C, OPTED, ERASED, SILENT):
            assert outcome_messages(srv, number) == []
        assert srv.count("SELECT id FROM outbound WHERE purpose = 'outcome'") == 6
        counts = notices.counts(srv.store, "outcome", [1, 2])
        assert counts == {"sms": {"told": 6}}
        listed = srv.cli("outcome", "list", SMS_CAMPAIGN).output
        assert "sms told 3" in listed
        report = json.loads(srv.cli("report", SMS_CAMPAIGN, "--format", "json").output)
        loop = report["closing_loop"]
        assert loop["outcomes"] == 2
        (sms,) = loop["told"]["by_channel"]
        # 6 told: shown (min_cell 5); 0 waiting; nothing that gives a small cell back.
        assert sms["told"] == {"count": 6, "suppressed": False}
        assert loop["told"]["total"]["told"]["count"] == 6
        html = srv.cli("report", SMS_CAMPAIGN, "--format", "html").output
        assert "What came of the answers" in html or "Mitä vastauksista seurasi" in html


async def test_suggestion_by_sms_routed_answered_and_delivered(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        h = srv.emulator.handset("+358401239999")  # no contact: anyone may suggest
        reply = await h.send_sms("Ehdotus: lisää penkkejä terveysaseman pihalle")
        await srv.idle()
        thanks = await h.wait_for_message(10)
        assert "Kiitos ehdotuksestasi" in thanks.body
        await h.resend_last()  # Twilio retries the webhook: recorded once, thanked once
        await srv.idle()
        assert srv.count("SELECT id FROM suggestions") == 1
        assert reply.status == 200
        empty = srv.emulator.handset("+358401239998")
        await empty.send_sms("IDEA")
        assert "after the word IDEA" in (await empty.wait_for_message(10)).body
        listed = srv.cli("suggestions", "list", "--status", "new").output
        assert "lisää penkkejä" in listed and "+358" not in listed
        srv.cli("suggestions", "route", "1", "vammaisneuvosto", "--theme", "esteettömyys")
        srv.cli("suggestions", "answer", "1", "Penkit tulevat toukokuussa.")
        answer = await h.wait_for_message(10)
        assert "Vastaus ehdotukseesi: Penkit tulevat toukokuussa." in answer.body
        row = srv.store.one("SELECT * FROM suggestions WHERE id = 1")
        assert (
            row["status"] == "answered" and row["phone"] is None and row["theme"] == "esteettömyys"
        )
        srv.cli("suggestions", "close", "1")
        await srv.idle()
        assert len(h.inbox) == 2  # the thanks and the answer, once each
        report = json.loads(srv.cli("report", SMS_CAMPAIGN, "--format", "json").output)
        counted = report["closing_loop"]["suggestions"]
        assert counted["queue"] == "vammaisneuvosto"
        assert counted["by_status"]["closed"]["suppressed"] is True  # one: a small cell
        assert counted["by_theme"][0]["theme"] == "esteettömyys"
        assert "Penkit" not in json.dumps(report)  # counts only, never the text


async def test_opted_out_after_the_outcome_was_recorded_is_not_told(tmp_path: Path) -> None:
    """Planned while the server was down, opted out before it sent: skipped, never texted."""
    from kanavat import optouts
    from kanavat.store import Store

    async with running_server(tmp_path) as srv:
        srv.import_contacts({A: "fi", B: "fi"})
        srv.start_campaign()
        for number in (A, B):
            await take_part(srv, number)
        await srv.stop()
        out = srv.cli(
            "outcome",
            "add",
            SMS_CAMPAIGN,
            "--body",
            "Vammaisneuvosto",
            "--date",
            "2027-03-10",
            "--fi",
            "Kuljetuspalvelun tilausaikaa pidennetään.",
        ).output
        assert "2 residents to tell" in out
        store = Store(srv.config.database_path)
        try:
            optouts.opt_out(store, B, optouts.KEYWORD)
        finally:
            store.close()
        await srv.start()
        await srv.wait_until(lambda: outcome_messages(srv, A), what="the outcome to A")
        await srv.wait_until(
            lambda: srv.store.one(
                "SELECT 1 AS x FROM notices WHERE status = 'skipped' AND reason = 'opted_out'"
            ),
            what="B skipped",
        )
        await srv.idle()
        assert outcome_messages(srv, B) == []
        assert srv.count("SELECT id FROM outbound WHERE purpose = 'outcome'") == 1
