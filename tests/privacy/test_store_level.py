"""Erasure, retention and the number guard on a real store, with a controllable clock."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_clock import Clock

from kanavat import config as configuration
from kanavat import inbound
from kanavat.contacts import upsert_contact
from kanavat.conversations import Conversations
from kanavat.outreach import audience, campaigns
from kanavat.privacy import cli, commands, data, guard
from kanavat.privacy.erase import erase
from kanavat.privacy.purge import purge
from kanavat.provider import ForbiddenNumber, TwilioProvider
from kanavat.questions.normalise import Input
from kanavat.store import Store

from .conftest import always_open

pytestmark = pytest.mark.both_backends

CAMPAIGN = "vanhukset-2027"  # ends 2027-01-24 18:00 Helsinki time
PHONE = "+358401110201"
OTHER = "+358401110202"
FREE_TEXT = "Hissi Kalliolan palvelutalossa on rikki"


def setup(
    tmp_path: Path, database: str, **privacy: object
) -> tuple[configuration.Config, Store, Clock]:
    path = tmp_path / "config.toml"
    text = always_open(**privacy)  # type: ignore[arg-type]
    text, n = re.subn(r'^database = "[^"]*"', f'database = "{database}"', text, flags=re.M)
    assert n == 1
    path.write_text(text, encoding="utf-8")
    config = configuration.load(path, env={})
    clock = Clock(datetime(2027, 1, 12, 10, tzinfo=UTC))
    store = Store(config.database, secret="s", clock=clock)
    campaigns.sync(store, config)
    return config, store, clock


def answer_all(config: configuration.Config, store: Store, phone: str) -> int:
    upsert_contact(store, phone, "fi", {"ikaryhma": "75-84"}, "ikaihmiset")
    audience.enrol(store, config, CAMPAIGN)
    contact = store.one("SELECT id FROM contacts WHERE phone = ?", [phone])
    conv = Conversations(config, store)
    turn = conv.begin(CAMPAIGN, "sms", "fi", contact_id=contact["id"])
    for text in ["4", "kyllä", "kotihoito", "3", FREE_TEXT]:
        turn = conv.take(turn.session_id, Input("text", text))
    inbound.record(store, "sms", "inbound", "SM" + "1" * 32, {"From": phone, "Body": FREE_TEXT})
    return turn.session_id


def on_disk(tmp_path: Path, needle: str) -> bool:
    return any(needle.encode() in p.read_bytes() for p in tmp_path.glob("kanavat.db*"))


def test_show_lists_campaign_answers_and_groups(tmp_path: Path, database: str) -> None:
    config, store, _ = setup(tmp_path, database)
    answer_all(config, store, PHONE)
    held = data.holdings(store, config, data.Person(phone=PHONE), "en")
    text = "\n".join(data.describe(config, held, "en"))
    assert "Everyday life at home" in text and "ikaihmiset" in text and "ikaryhma 75-84" in text
    assert "Your answer: home care" in text and FREE_TEXT in text
    assert data.pack(["x" * 1000, "y" * 1000, "z" * 3000]) == [
        "x" * 1000,
        "y" * 1000,
        "z" * 1600,
        "z" * 1400,
    ]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # PostgreSQL's files: its vacuum
def test_erase_delete_leaves_nothing_on_disk(tmp_path: Path, database: str) -> None:
    config, store, _ = setup(tmp_path, database, erasure="delete")
    answer_all(config, store, PHONE)
    answer_all(config, store, OTHER)
    report = erase(store, config, data.Person(phone=PHONE), "cli")
    assert (report.found, report.answers_deleted, report.answers_kept) == (True, 5, 0)
    assert store.one("SELECT count(*) AS n FROM answers")["n"] == 5  # the other resident's
    assert store.one("SELECT count(*) AS n FROM campaign_contacts")["n"] == 1
    store.close()
    assert not on_disk(tmp_path, PHONE) and on_disk(tmp_path, OTHER)
    assert not on_disk(tmp_path, "Kalliolan") or on_disk(tmp_path, OTHER)
    store = Store(database, secret="s")
    assert store.integrity_ok()
    assert not erase(store, config, data.Person(phone=PHONE), "cli").found  # idempotent


def test_erase_anonymise_keeps_closed_answers_unlinked(tmp_path: Path, database: str) -> None:
    config, store, _ = setup(tmp_path, database)
    session = answer_all(config, store, PHONE)
    before = store.one("SELECT respondent FROM sessions WHERE id = ?", [session])["respondent"]
    report = erase(store, config, data.Person(phone=PHONE), "sms")
    assert (report.answers_deleted, report.answers_kept) == (1, 4)  # the free text goes
    rows = store.query("SELECT respondent, raw, value FROM answers")
    assert {r["raw"] for r in rows} == {None} and len({r["respondent"] for r in rows}) == 1
    assert rows[0]["respondent"] != before
    assert "Kalliolan" not in json.dumps(store.query("SELECT * FROM sessions"))
    assert "Kalliolan" not in json.dumps(store.query("SELECT * FROM events"))
    assert store.one("SELECT phone, attributes FROM contacts") == {
        "phone": None,
        "attributes": "{}",
    }
    detail = store.one("SELECT detail FROM audit WHERE action = 'privacy.erase'")["detail"]
    assert PHONE not in detail and json.loads(detail)["source"] == "sms"


def test_pending_request_expires(tmp_path: Path, database: str) -> None:
    config, store, clock = setup(tmp_path, database)
    answer_all(config, store, PHONE)
    person = data.Person(phone=PHONE)
    assert commands.respond(store, config, person, "POISTA").outcome == "privacy.erase_asked"
    clock.now += commands.PENDING + timedelta(seconds=1)
    assert commands.respond(store, config, person, "KYLLA") is None  # too late: an answer
    assert store.one("SELECT phone FROM contacts")["phone"] == PHONE
    assert commands.respond(store, config, person, "Radera").language == "sv"
    assert commands.respond(store, config, person, " ja ").outcome == "privacy.erased"


def test_purge_after_retention_only(tmp_path: Path, database: str) -> None:
    config, store, _ = setup(tmp_path, database, retention_days=30)
    answer_all(config, store, PHONE)
    end = datetime(2027, 1, 24, 16, tzinfo=UTC)  # 18:00 in Helsinki
    early = purge(store, config, end + timedelta(days=29))
    # the stored message is 41 days old by then: scrubbed; the number waits for the campaign
    assert (early.phones, early.campaigns, early.events) == (0, (), 1)
    assert store.one("SELECT phone FROM contacts")["phone"] == PHONE
    report = purge(store, config, end + timedelta(days=30, minutes=1))
    assert (report.phones, report.campaigns) == (1, (CAMPAIGN,))
    assert store.one("SELECT count(*) AS n FROM answers")["n"] == 5  # reports survive
    again = purge(store, config, end + timedelta(days=31))
    assert (again.phones, again.events) == (0, 0)
    store.close()
    assert not on_disk(tmp_path, PHONE)


def test_purge_waits_for_every_campaign_of_the_contact(tmp_path: Path, database: str) -> None:
    config, store, _ = setup(tmp_path, database, retention_days=0)
    answer_all(config, store, PHONE)
    contact = store.one("SELECT id FROM contacts")["id"]
    store.execute(
        "INSERT INTO campaign_contacts(campaign_id, contact_id, respondent, updated_at) "
        "VALUES ('vammaispalvelut-2027', ?, 'r', 'x')",
        [contact],
    )
    assert purge(store, config, datetime(2027, 2, 1, tzinfo=UTC)).phones == 0
    assert purge(store, config, datetime(2027, 2, 15, tzinfo=UTC)).phones == 1


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("+358401234567", None),
        ("+35893101691", None),
        ("+358600123456", guard.PREMIUM),  # 0600: premium rate
        ("+19005551234", guard.COUNTRY_NOT_ALLOWED),
        ("+46701234567", guard.COUNTRY_NOT_ALLOWED),
        ("0401234567", guard.INVALID),
        ("+3580", guard.INVALID),
        ("", guard.INVALID),
    ],
)
def test_guard(number: str, code: int | None) -> None:
    refused = guard.refusal(number)
    assert (refused[0] if refused else None) == code
    assert guard.refusal("+46701234567", [358, 46]) is None


async def test_provider_refuses_before_any_request() -> None:
    # api_base points nowhere: a request would fail as unreachable (status 0), not 400.
    async with TwilioProvider(
        "AC" + "0" * 32, "t" * 32, "+358451234567", "http://127.0.0.1:9"
    ) as p:
        for send in (
            lambda: p.send_sms("+19005551234", "x"),
            lambda: p.place_call("+358600123456"),
        ):
            with pytest.raises(ForbiddenNumber) as caught:
                await send()
            assert caught.value.status == 400


def test_cli_show_forget_purge(tmp_path: Path, database: str) -> None:
    config, store, _ = setup(tmp_path, database)
    answer_all(config, store, PHONE)
    store.close()
    at = ["--config", str(tmp_path / "config.toml")]
    runner = CliRunner()
    shown = runner.invoke(cli.person, ["show", "040 111 0201", "--lang", "en", *at])
    assert shown.exit_code == 0 and "Your answer: home care" in shown.output
    refused = runner.invoke(cli.person, ["forget", PHONE, *at], input="n\n")
    assert refused.exit_code == 1
    forgot = runner.invoke(cli.person, ["forget", PHONE, *at], input="y\n")
    assert forgot.exit_code == 0 and "erased (anonymise)" in forgot.output
    assert "nothing is held" in runner.invoke(cli.person, ["forget", PHONE, "--yes", *at]).output
    bad = runner.invoke(cli.person, ["show", "12", *at])
    assert bad.exit_code == 2 and "+358401234567" in bad.output
    purged = runner.invoke(cli.purge, at)
    assert purged.exit_code == 0 and "phone number(s) deleted" in purged.output
