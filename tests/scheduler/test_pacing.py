"""The dispatcher's decisions on a real store with a hand-turned clock: windows, backoff,
fallback, opt-outs, one live attempt, line limits, the lifecycle and the daily jobs.

No provider is called here (``claim`` and ``take`` are the dispatcher's own steps before
it); the calls and texts themselves are in ``test_clock_e2e.py``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from clockwork import HELSINKI, OPEN, Clock, config_text, local

from kanavat import config as configuration
from kanavat import contacts, optouts
from kanavat.conversations import Conversations
from kanavat.outreach import audience, campaigns, outcomes, queue, scheduler
from kanavat.outreach.dispatch import Dispatcher
from kanavat.provider import TwilioProvider
from kanavat.sms.send import SmsSender
from kanavat.store import Store, iso

VOICE = "vanhukset-2027"  # voice, then SMS; retries "2h 1d", fallback_after "1d"
TWIN = "vanhukset-2027-uusinta"  # the same questionnaire again
SMS = "vammaispalvelut-2027"
TWIN_TOML = f"""
[campaigns.{TWIN}]
questionnaire = "hyvinvointi"
council = "vanhusneuvosto"
channels = ["voice"]
audience = {{ group = "ikaihmiset" }}
"""


class World:
    def __init__(self, tmp_path: Path, clock: Clock, text: str):
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        self.config = configuration.load(path, env={})
        self.clock = clock
        self.store = Store(tmp_path / "kanavat.db", secret="s", clock=clock)
        campaigns.sync(self.store, self.config)
        provider = TwilioProvider("AC" + "0" * 32, "token-xx", "+358451234567", "http://0.0.0.0:9")
        self.dispatcher = Dispatcher(
            self.config,
            self.store,
            Conversations(self.config, self.store),
            SmsSender(self.config, self.store, provider),
        )
        self.tmp = tmp_path

    def people(self, n: int, group: str = "ikaihmiset") -> list[int]:
        csv = self.tmp / f"{group}.csv"
        rows = "".join(f"+3584012{i:05d},fi\n" for i in range(n))
        csv.write_text("phone,language\n" + rows, encoding="utf-8")
        contacts.import_csv(self.store, csv, group, ["fi", "sv", "en"], [358], False)
        return [r["id"] for r in self.store.query("SELECT id FROM contacts ORDER BY id")]

    def start(self, campaign: str) -> None:
        audience.enrol(self.store, self.config, campaign)
        campaigns.set_status(self.store, campaign, "running")

    def row(self, campaign: str, contact: int) -> dict:
        return self.store.one(
            "SELECT * FROM campaign_contacts WHERE campaign_id = ? AND contact_id = ?",
            [campaign, contact],
        )

    def due_at(self, campaign: str, contact: int) -> datetime | None:
        value = self.row(campaign, contact)["next_due_at"]
        return datetime.fromisoformat(value) if value else None

    def attempt(self, status: str) -> list[str]:
        """Claim whoever is due and record a voice attempt that ends in ``status``."""
        claimed = self.dispatcher.claim()
        for item in claimed:
            attempt = self.dispatcher.take(item, None)
            self.store.execute("UPDATE attempts SET status = ? WHERE id = ?", [status, attempt])
            outcomes.retry_or_give_up(
                self.store, self.config, item.campaign_id, item.contact_id, status
            )
        return [f"{i.campaign_id}:{i.contact_id}:{i.channel}" for i in claimed]


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2026, 11, 24, 10, 15))  # a Tuesday morning in Helsinki


@pytest.fixture
def world(tmp_path: Path, clock: Clock):
    w = World(tmp_path, clock, config_text(extra=TWIN_TOML))
    yield w
    w.store.close()


def test_outside_call_hours_the_contact_waits_for_the_opening(world: World, clock: Clock) -> None:
    (person,) = world.people(1)
    clock.set(local(2026, 11, 27, 19, 0))  # Friday evening
    world.start(VOICE)
    assert world.dispatcher.claim() == []
    assert world.due_at(VOICE, person) == local(2026, 11, 28, 10, 0)  # Saturday 10:00
    assert world.row(VOICE, person)["disposition"] == "pending"  # postponed, not dropped
    clock.set(local(2026, 11, 28, 10, 0))
    assert [i.contact_id for i in world.dispatcher.claim()] == [person]


def test_holidays_and_quiet_hours(world: World, clock: Clock) -> None:
    world.people(1)
    (person,) = world.people(1, group="palvelunkayttajat")
    clock.set(local(2026, 12, 24, 11, 0))  # Christmas Eve: no calls, and no texts either
    world.start(VOICE)
    world.start(SMS)
    assert world.dispatcher.claim() == []
    assert world.due_at(VOICE, person) == local(2026, 12, 28, 10, 0)
    assert world.due_at(SMS, person) == local(2026, 12, 27, 9, 0)  # texts open on Sunday
    clock.set(local(2026, 12, 27, 21, 30))  # Sunday night: the texts' quiet hours
    for campaign in (VOICE, SMS):
        queue.postpone(world.store, campaign, person, iso(clock()))
    assert world.dispatcher.claim() == []
    assert world.due_at(SMS, person) == local(2026, 12, 28, 9, 0)


def test_a_rehearsal_may_open_every_hour(tmp_path: Path, clock: Clock) -> None:
    w = World(tmp_path, clock, config_text(call_hours=OPEN, sms_hours=OPEN, holidays=False))
    w.people(2)
    clock.set(local(2026, 12, 25, 3, 0))
    w.start(VOICE)
    assert len(w.dispatcher.claim()) == 2
    w.store.close()


def test_backoff_then_fallback_then_final(world: World, clock: Clock) -> None:
    (person,) = world.people(1)
    world.start(VOICE)
    assert world.attempt("busy") == [f"{VOICE}:{person}:voice"]  # Tue 10:15
    assert world.due_at(VOICE, person) == local(2026, 11, 24, 12, 15)  # + 2h
    assert world.dispatcher.claim() == []  # not yet
    clock.set(local(2026, 11, 24, 12, 15))
    assert world.attempt("no-answer")
    # + 1d would be Wed 12:15, the hour already tried: shifted to another time of day.
    assert world.due_at(VOICE, person) == local(2026, 11, 25, 15, 15)
    clock.set(local(2026, 11, 25, 15, 15))
    assert world.attempt("failed")
    # Retries used up: the next channel (SMS) after fallback_after = 1d.
    row = world.row(VOICE, person)
    assert (row["channel_index"], world.due_at(VOICE, person)) == (1, local(2026, 11, 26, 15, 15))
    clock.set(local(2026, 11, 26, 15, 15))
    assert [i.channel for i in world.dispatcher.claim()] == ["sms"]


def test_retry_lands_in_the_next_window(world: World, clock: Clock) -> None:
    (person,) = world.people(1)
    clock.set(local(2026, 11, 27, 17, 30))  # Friday 17:30: + 2h is after hours
    world.start(VOICE)
    world.attempt("busy")
    assert world.due_at(VOICE, person) == local(2026, 11, 28, 10, 0)


def test_sms_campaign_exhausted_is_non_contact(world: World, clock: Clock) -> None:
    (person,) = world.people(1, group="palvelunkayttajat")
    audience.enrol(world.store, world.config, SMS)
    # SMS first, then voice; with the voice attempts used up the contact is a non-contact.
    world.store.execute("UPDATE campaign_contacts SET channel_index = 1, next_due_at = NULL")
    for _ in range(3):
        world.store.execute(
            "INSERT INTO attempts(campaign_id, contact_id, channel, status, created_at, "
            "updated_at) VALUES (?, ?, 'voice', 'busy', ?, ?)",
            [SMS, person, world.store.now(), world.store.now()],
        )
    outcome = outcomes.retry_or_give_up(world.store, world.config, SMS, person, "busy")
    assert outcome == "non_contact"
    assert world.row(SMS, person)["disposition"] == "non_contact"
    # Reported twice (a callback and a reconcile): nothing changes.
    assert outcomes.retry_or_give_up(world.store, world.config, SMS, person, "busy") == "ignored"


def test_opted_out_and_already_reached_are_not_contacted(world: World, clock: Clock) -> None:
    a, b, c = world.people(3)
    world.start(VOICE)
    world.start(TWIN)
    optouts.opt_out(world.store, "+358401200000", "sms-keyword")
    queue.finalise(world.store, VOICE, b, "complete")
    claimed = {(i.campaign_id, i.contact_id) for i in world.dispatcher.claim()}
    assert world.row(VOICE, a)["disposition"] == "refusal"
    assert world.row(TWIN, b)["disposition"] == "not_eligible"  # reached by the twin already
    # c is due in both campaigns: one live attempt at a time, so one of them only.
    assert len([k for k in claimed if k[1] == c]) == 1
    assert (VOICE, b) not in claimed and (TWIN, b) not in claimed


def test_one_live_attempt_per_contact(world: World, clock: Clock) -> None:
    world.people(1)
    world.start(VOICE)
    world.start(TWIN)
    first = world.dispatcher.claim()
    assert len(first) == 1
    world.dispatcher.take(first[0], None)  # a call is being placed ('sending')
    assert world.dispatcher.claim() == []  # the other campaign waits for it to end
    world.store.execute("UPDATE attempts SET status = 'queued'")
    assert world.dispatcher.claim() == []
    world.store.execute("UPDATE attempts SET status = 'completed'")
    assert len(world.dispatcher.claim()) == 1


def test_concurrent_call_limit(world: World, clock: Clock) -> None:
    world.people(14)  # the county allows 10 concurrent calls
    world.start(VOICE)
    first = world.dispatcher.claim()
    assert len(first) == 10
    for item in first[:4]:
        world.dispatcher.take(item, None)
        world.store.execute("UPDATE attempts SET status = 'in-progress' WHERE status = 'sending'")
    for item in first[4:]:  # those never dialled: their leases run out
        world.dispatcher.release(item)
    assert len(world.dispatcher.claim()) == 6


def test_lease_taken_by_another_is_not_used(world: World, clock: Clock) -> None:
    world.people(1)
    world.start(VOICE)
    (item,) = world.dispatcher.claim()
    clock.advance(minutes=3)  # the lease expired: a second dispatcher claims the contact
    (again,) = world.dispatcher.claim()
    assert world.dispatcher.take(item, None) is None  # the stale holder writes nothing
    assert world.dispatcher.take(again, None) is not None
    assert world.store.one("SELECT count(*) AS n FROM attempts")["n"] == 1


def test_lifecycle_by_start_and_end(world: World, clock: Clock) -> None:
    world.people(3)
    clock.set(local(2027, 1, 11, 9, 59))
    scheduler.lifecycle(world.store, world.config)
    assert campaigns.status(world.store, VOICE) == "scheduled"
    clock.set(local(2027, 1, 11, 10, 0))  # start = 2027-01-11T10:00 county time
    scheduler.lifecycle(world.store, world.config)
    assert campaigns.status(world.store, VOICE) == "running"
    assert world.store.one("SELECT count(*) AS n FROM campaign_contacts")["n"] == 3
    world.attempt("busy")  # everyone tried once, then:
    campaigns.set_status(world.store, VOICE, "paused")
    scheduler.lifecycle(world.store, world.config)
    assert campaigns.status(world.store, VOICE) == "paused"
    clock.set(local(2027, 1, 24, 18, 0))  # end
    scheduler.lifecycle(world.store, world.config)
    assert campaigns.status(world.store, VOICE) == "finished"
    dispositions = world.store.query(
        "SELECT disposition, count(*) AS n FROM campaign_contacts WHERE campaign_id = ? "
        "GROUP BY disposition",
        [VOICE],
    )
    assert dispositions == [{"disposition": "non_contact", "n": 3}]


async def test_daily_jobs_run_once_a_local_day(world: World, clock: Clock) -> None:
    ran: list[str] = []

    async def purge(store: Store, config: configuration.Config) -> None:
        ran.append(store.clock().astimezone(HELSINKI).date().isoformat())

    jobs = [purge]
    clock.set(local(2026, 11, 24, 2, 59))
    await scheduler.run_daily(world.store, world.config, jobs)
    assert ran == []
    clock.set(local(2026, 11, 24, 3, 0))
    await scheduler.run_daily(world.store, world.config, jobs)
    clock.advance(hours=5)
    await scheduler.run_daily(world.store, world.config, jobs)
    clock.advance(days=1)
    await scheduler.run_daily(world.store, world.config, jobs)
    assert ran == ["2026-11-24", "2026-11-25"]


def test_never_contacted_at_the_end_is_unknown(world: World, clock: Clock) -> None:
    """AAPOR 3.1: a sampled person never attempted has unknown eligibility."""
    world.people(2)
    audience.enrol(world.store, world.config, TWIN)
    campaigns.set_status(world.store, TWIN, "running")
    outcomes.finish_campaign(world.store, world.config, TWIN)
    rows = world.store.query("SELECT DISTINCT disposition FROM campaign_contacts")
    assert rows == [{"disposition": "unknown"}]


SAMPLED = "otos-2027"
SAMPLED_TOML = f"""
[campaigns.{SAMPLED}]
questionnaire = "hyvinvointi"
council = "vanhusneuvosto"
channels = ["voice"]
audience = {{ group = "otos", sample = 4, stratify = ["kunta"], seed = 7 }}
"""


def test_closed_stratum_and_replacements_through_sampling(tmp_path: Path, clock: Clock) -> None:
    """A stratum whose quota is met is not called any more (``quota_filled``), and an
    invalid number's replacement is drawn from the reserve through the on_final hook."""
    w = World(tmp_path, clock, config_text(extra=SAMPLED_TOML))
    csv = tmp_path / "otos.csv"
    rows = "".join(f"+3584013{i:05d},fi,{'A' if i % 2 else 'B'}\n" for i in range(20))
    csv.write_text("phone,language,kunta\n" + rows, encoding="utf-8")
    contacts.import_csv(w.store, csv, "otos", ["fi", "sv", "en"], [358], False)
    w.start(SAMPLED)
    enrolled = w.store.query(
        "SELECT contact_id, stratum FROM campaign_contacts WHERE campaign_id = ?", [SAMPLED]
    )
    assert len(enrolled) == 4
    w.store.execute(
        "UPDATE sample_strata SET closed_at = ? WHERE campaign_id = ? AND stratum = 'A'",
        [w.store.now(), SAMPLED],
    )
    claimed = w.dispatcher.claim()
    strata = {r["contact_id"]: r["stratum"] for r in enrolled}
    assert claimed and all(strata[i.contact_id] == "B" for i in claimed)
    closed = w.store.query("SELECT DISTINCT disposition FROM campaign_contacts WHERE stratum = 'A'")
    assert closed == [{"disposition": "quota_filled"}]
    # An invalid number in stratum B: final, and a reserve from B takes its place.
    outcomes.finish(w.store, w.config, SAMPLED, claimed[0].contact_id, "not_eligible")
    replacement = w.store.one(
        "SELECT replaced_by FROM sample_draws WHERE campaign_id = ? AND contact_id = ?",
        [SAMPLED, claimed[0].contact_id],
    )
    assert replacement["replaced_by"] is not None
    w.store.close()
