"""The real server and emulator with a hand-turned clock: the campaign starts by its ``start``,
busy calls are retried after the backoff (shifted off an hour already tried), then SMS
takes over with one reminder, and a call dropped mid-questionnaire resumes where it was."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from clockwork import Clock, clock_server, config_text, local

from kanavat.emulator import HangUp, Press, Wait

CAMPAIGN = "vanhukset-2027"  # starts 2027-01-11 10:00; voice then SMS; retries "2h 1d"
PHONE = "+358401110001"


def due(srv) -> datetime | None:
    row = srv.store.one(
        "SELECT next_due_at FROM campaign_contacts WHERE campaign_id = ?", [CAMPAIGN]
    )
    return datetime.fromisoformat(row["next_due_at"]) if row and row["next_due_at"] else None


def calls_to(srv, phone: str = PHONE) -> int:
    return len([c for c in srv.emulator.calls.values() if c.to == phone])


def sent_steps(srv) -> int:
    """SMS steps (invitation, reminder) whose every message the provider has accepted."""
    return srv.count("SELECT id FROM attempts WHERE channel = 'sms' AND status = 'sent'")


def texts_to(srv, phone: str = PHONE) -> list[str]:
    return [m.body for m in srv.emulator.messages.values() if m.to == phone]


async def test_backoff_fallback_and_reminder(tmp_path: Path) -> None:
    clock = Clock(local(2027, 1, 9, 12, 0))  # a Saturday before the campaign starts
    async with clock_server(tmp_path, clock, config_text()) as srv:
        srv.import_contacts({PHONE: "fi"}, group="ikaihmiset")
        srv.emulator.handset(PHONE).set_behaviour(call_outcome="busy")
        await srv.wait_until(lambda: srv.store.one("SELECT 1 AS x FROM campaigns"), what="sync")
        assert srv.count("SELECT * FROM campaign_contacts") == 0  # not started yet

        clock.set(local(2027, 1, 12, 10, 15))  # Tuesday, campaign running since Monday
        expected = [
            local(2027, 1, 12, 12, 15),  # + 2h
            local(2027, 1, 13, 15, 15),  # + 1d, off the hour already tried (12)
            local(2027, 1, 14, 15, 15),  # then SMS, after fallback_after = 1d
        ]
        for n, when in enumerate(expected, start=1):
            await srv.wait_until(lambda n=n: calls_to(srv) == n, what=f"call {n}")
            await srv.wait_until(lambda when=when: due(srv) == when, what=f"retry {n} due")
            clock.set(when)
        await srv.wait_until(lambda: sent_steps(srv) == 1, what="the SMS invitation")
        invitation = texts_to(srv)
        assert invitation
        assert calls_to(srv) == 3
        assert due(srv) == local(2027, 1, 15, 15, 15)  # the reminder, a day later
        clock.set(due(srv))
        await srv.wait_until(lambda: sent_steps(srv) == 2, what="the reminder")
        assert len(texts_to(srv)) > len(invitation)
        sent = texts_to(srv)
        assert due(srv) == local(2027, 1, 16, 15, 15)  # then fallback_after: nothing left
        clock.set(due(srv))
        await srv.wait_until(
            lambda: srv.store.one(
                "SELECT disposition FROM campaign_contacts WHERE disposition != 'pending'"
            ),
            what="a final disposition",
        )
        assert srv.store.one("SELECT disposition FROM campaign_contacts")["disposition"] == (
            "non_contact"
        )
        clock.advance(days=3)
        await srv.wait_until(lambda: srv.count("SELECT * FROM audit") >= 1)
        assert calls_to(srv) == 3 and texts_to(srv) == sent  # and nothing more, ever
        purposes = srv.store.query("SELECT DISTINCT purpose FROM outbound ORDER BY purpose")
        assert [p["purpose"] for p in purposes] == ["invitation", "reminder"]


async def test_dropped_call_is_retried_and_resumes(tmp_path: Path) -> None:
    clock = Clock(local(2027, 1, 10, 10, 15))
    async with clock_server(tmp_path, clock, config_text()) as srv:
        srv.import_contacts({PHONE: "fi"}, group="ikaihmiset")  # the audience, before start
        handset = srv.emulator.handset(PHONE)
        handset.set_behaviour(script=[Wait("question.arki"), Press("4"), Wait(), HangUp()])
        clock.set(local(2027, 1, 12, 10, 15))
        first = await handset.wait_for_call(15)
        await first.wait_ended(60)
        # Put down without "lopeta": kept, not a break-off; called again after 2 hours.
        await srv.wait_until(lambda: due(srv) == local(2027, 1, 12, 12, 15), what="the retry")
        row = srv.store.one("SELECT disposition FROM campaign_contacts")
        assert row["disposition"] == "pending"
        assert srv.count("SELECT * FROM sessions WHERE status = 'active'") == 1

        handset.set_behaviour(script=[Wait("question.apu"), Press("1"), Wait(), HangUp()])
        clock.set(due(srv))
        second = await handset.wait_for_call(15)
        await second.wait_ended(60)
        assert "question.arki" not in second.marks, second.marks  # resumed, not restarted
        answers = {r["question"]: r["value"] for r in srv.export(CAMPAIGN)}
        assert answers == {"arki": 4, "apu": "yes"}
        assert srv.count("SELECT * FROM sessions") == 1
