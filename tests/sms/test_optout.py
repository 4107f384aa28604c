"""Opt-out: every keyword form ends the session, is recorded for the county, is confirmed once,
and no campaign texts (or calls) that number again; Twilio's 21610 counts the same."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from harness import SMS_CAMPAIGN, Server, running_server

pytestmark = pytest.mark.both_backends

TWILIO_WORDS = ["STOP", "stopall", "Unsubscribe", "cancel", "END", "quit"]
LOCAL_WORDS = ["LOPETA", "sluta"]
VARIANTS = [
    *TWILIO_WORDS,
    *LOCAL_WORDS,
    " stop ",
    "Stop.",
    "lopeta!",
    "  Lopeta  ",
    "SLUTA!!",
    "...quit",
]
NOT_OPT_OUT = ["STOP PLEASE", "lopeta nyt heti", "stoppi", "4"]
COUNTY = "+358451234567"


def number(n: int) -> str:
    return f"+3584020{n:05d}"


def inbound(sid: int, phone: str, body: str) -> list[tuple[str, str]]:
    s = f"SM{sid:032x}"
    return [("MessageSid", s), ("SmsSid", s), ("From", phone), ("To", COUNTY), ("Body", body)]


async def started(srv: Server, people: dict[str, str]) -> None:
    srv.import_contacts(people)
    srv.start_campaign()
    await srv.wait_until(
        lambda: (
            srv.count("SELECT id FROM outbound WHERE purpose = 'invitation' AND sid IS NOT NULL")
            == len(people)
        ),
        what="invitations",
    )
    await srv.idle()


async def test_every_keyword_form(tmp_path: Path, database: str) -> None:
    words = VARIANTS + NOT_OPT_OUT
    people = {number(i): "fi" for i in range(len(words))}
    async with running_server(tmp_path, database=database) as srv:
        await started(srv, people)
        for i, word in enumerate(words):
            status, _ = await srv.post_twilio("/twilio/sms", inbound(i, number(i), word))
            assert status == 200
        await srv.idle()
        opted = {r["phone"] for r in srv.store.query("SELECT phone FROM opt_outs")}
        assert opted == {number(i) for i in range(len(VARIANTS))}
        for i, word in enumerate(words):
            session = srv.store.one(
                "SELECT s.status FROM sessions s JOIN contacts c ON c.id = s.contact_id "
                "WHERE c.phone = ?",
                [number(i)],
            )
            confirmations = srv.count(
                "SELECT o.id FROM outbound o JOIN contacts c ON c.id = o.contact_id "
                "WHERE c.phone = ? AND o.purpose = 'opt_out'",
                [number(i)],
            )
            if word in VARIANTS:
                assert (session, confirmations) == ({"status": "stopped"}, 1), word
            else:  # "lopeta nyt heti" may end the questionnaire, but it is no opt-out
                assert confirmations == 0, word

        # Again, and then an answer: no second confirmation, nothing more at all.
        before = srv.count("SELECT id FROM outbound")
        for i, _ in enumerate(VARIANTS):
            await srv.post_twilio("/twilio/sms", inbound(1000 + i, number(i), "STOP"))
            await srv.post_twilio("/twilio/sms", inbound(2000 + i, number(i), "4"))
        await srv.idle()
        assert srv.count("SELECT id FROM outbound") == before
        outcomes = {
            r["outcome"]
            for r in srv.store.query("SELECT outcome FROM events WHERE external_id LIKE 'SM%'")
            if r["outcome"] and r["outcome"].startswith(("opted", "ignored"))
        }
        assert outcomes == {"opted_out", "opted_out_again", "ignored:opted_out"}
        assert srv.count("SELECT id FROM answers") == 1  # the "4" given before opting out


async def test_no_campaign_contacts_an_opted_out_number_again(
    tmp_path: Path, database: str
) -> None:
    """STOP through the emulator; then the same number in another campaign, and forced due."""
    stopper, other = number(1), number(2)
    async with running_server(tmp_path, database=database) as srv:
        srv.import_contacts({stopper: "fi", other: "fi"}, group="ikaihmiset")
        await started(srv, {stopper: "fi", other: "fi"})
        handset = srv.emulator.handset(stopper)
        await handset.wait_for_message(5)
        assert (await handset.send_sms("STOP")).status == 200
        await srv.idle()
        assert handset.opted_out  # Twilio blocked the pair as well
        sent_before = srv.count("SELECT id FROM outbound WHERE contact_id = 1")
        attempts_before = srv.count("SELECT id FROM attempts WHERE contact_id = 1")

        srv.start_campaign(SMS_CAMPAIGN)  # enrolling again
        srv.start_campaign("vanhukset-2027")  # the elderly campaign: calls, then texts
        enrolled = srv.store.query(
            "SELECT campaign_id FROM campaign_contacts WHERE contact_id = 1 ORDER BY campaign_id"
        )
        assert enrolled == [{"campaign_id": SMS_CAMPAIGN}]
        # Even made due again by hand, the dispatcher refuses it.
        srv.store.execute(
            "UPDATE campaign_contacts SET disposition = 'pending', next_due_at = ?, "
            "lease_until = NULL WHERE contact_id = 1",
            [srv.store.now()],
        )
        await srv.wait_until(
            lambda: srv.store.one(
                "SELECT 1 FROM campaign_contacts WHERE contact_id = 1 AND disposition = 'refusal'"
            ),
            what="the dispatcher to refuse the opted-out contact",
        )
        await asyncio.sleep(0.5)  # a few more dispatcher rounds
        await srv.idle()
        assert srv.count("SELECT id FROM outbound WHERE contact_id = 1") == sent_before
        assert srv.count("SELECT id FROM attempts WHERE contact_id = 1") == attempts_before
        assert len(srv.emulator.calls) == 0 or all(
            c.to != stopper for c in srv.emulator.calls.values()
        )


async def test_twilio_21610_when_sending_is_an_opt_out(tmp_path: Path, database: str) -> None:
    """Twilio refuses a blocked recipient at once (HTTP 400) or later (failed callback)."""
    sync_one, async_one, fine = number(1), number(2), number(3)
    async with running_server(tmp_path, database=database, dispatch_interval=0.05) as srv:
        emu = srv.emulator
        emu.blocked.add((sync_one, COUNTY))
        srv.import_contacts({sync_one: "fi", fine: "sv"})
        srv.start_campaign()
        await srv.wait_until(
            lambda: srv.count("SELECT phone FROM opt_outs") == 1, what="the sync 21610"
        )
        await srv.idle()

        emu.settings = dataclasses.replace(emu.settings, opt_out_mode="async")
        emu.blocked.add((async_one, COUNTY))
        srv.import_contacts({async_one: "en"})
        srv.start_campaign()
        await srv.wait_until(
            lambda: srv.count("SELECT phone FROM opt_outs") == 2, what="the async 21610"
        )
        await srv.idle()

        sources = {r["phone"]: r["source"] for r in srv.store.query("SELECT * FROM opt_outs")}
        assert sources == {sync_one: "provider-21610", async_one: "provider-21610"}
        rows = srv.store.query(
            "SELECT c.phone, o.status, o.error_code FROM outbound o "
            "JOIN contacts c ON c.id = o.contact_id ORDER BY o.id"
        )
        by_phone = {r["phone"]: (r["status"], r["error_code"]) for r in rows}
        assert by_phone == {
            sync_one: ("failed", 21610),
            fine: ("delivered", None),
            async_one: ("failed", 21610),
        }
        dispositions = {
            r["phone"]: r["disposition"]
            for r in srv.store.query(
                "SELECT c.phone, cc.disposition FROM campaign_contacts cc "
                "JOIN contacts c ON c.id = cc.contact_id"
            )
        }
        assert dispositions[sync_one] == "refusal"
        assert dispositions[fine] == "pending"
