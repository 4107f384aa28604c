"""Residents' data requests by text message, end to end: the real server, the emulator's
handsets, the store. TIETONI shows, POISTA asks, KYLLÄ erases; anything else cancels it."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import SMS_CAMPAIGN, Server, running_server

from kanavat import optouts
from kanavat.emulator.handset import Handset

from .conftest import always_open

pytestmark = pytest.mark.both_backends

ANNA = "+358401110101"  # fi
BIRGITTA = "+358401110102"  # sv
CARL = "+358401110103"  # fi


async def ask(srv: Server, handset: Handset, text: str) -> str:
    """Send ``text``; everything the county texts back to it, joined."""
    before = len(handset.inbox)
    result = await handset.send_sms(text)
    assert result.status == 200
    await srv.idle()
    return "\n".join(m.body for m in handset.inbox[before:])


REPLIES = {"fi": ["4", "kyllä", "taksi"], "sv": ["4", "ja", "taxi"]}


async def answering(srv: Server, people: dict[str, str], count: int = 3) -> None:
    srv.import_contacts(people)
    srv.start_campaign()
    for phone, language in people.items():
        handset = srv.emulator.handset(phone)
        await handset.wait_for_message(10)
        for text in REPLIES[language][:count]:
            await ask(srv, handset, text)


def answers_of(srv: Server, phone: str) -> list[dict]:
    return srv.store.query(
        "SELECT a.* FROM answers a JOIN sessions s ON s.id = a.session_id "
        "JOIN contacts c ON c.id = s.contact_id WHERE c.phone = ?",
        [phone],
    )


async def test_show_erase_confirm(tmp_path: Path, database: str) -> None:
    async with running_server(tmp_path, database=database, config_text=always_open()) as srv:
        await answering(srv, {ANNA: "fi", BIRGITTA: "sv"})
        anna = srv.emulator.handset(ANNA)

        shown = await ask(srv, anna, "Tietoni")
        assert "Palvelujen saavutettavuus" in shown and "vammaisneuvosto" in shown
        assert "Vastauksesi: 4" in shown and "Vastauksesi: kulkeminen" in shown
        assert ANNA in shown and "POISTA" in shown
        assert len(answers_of(srv, ANNA)) == 3  # showing changes nothing

        asked = await ask(srv, anna, "POISTA")
        assert "KYLLÄ" in asked
        assert srv.store.one("SELECT count(*) AS n FROM privacy_requests")["n"] == 1
        assert ANNA not in str(srv.store.query("SELECT * FROM privacy_requests"))

        done = await ask(srv, anna, "kyllä")
        assert "poistettu" in done
        assert answers_of(srv, ANNA) == []
        assert srv.store.one("SELECT 1 AS x FROM contacts WHERE phone = ?", [ANNA]) is None
        # anonymise (the example's setting): the closed answers stay, unlinked; none has raw
        kept = srv.export(SMS_CAMPAIGN)
        assert len(kept) == 6 and len({r["respondent"] for r in kept}) == 2
        audit = srv.store.query("SELECT action, detail FROM audit WHERE action LIKE 'privacy.%'")
        assert [a["action"] for a in audit if a["action"] != "privacy.purge"] == ["privacy.erase"]
        audit = [a for a in audit if a["action"] == "privacy.erase"]
        assert ANNA not in str(audit) and "sms" in audit[0]["detail"]
        events = srv.store.query(
            "SELECT payload FROM events WHERE channel = 'sms' AND kind = 'inbound'"
        )
        assert not any(ANNA in e["payload"] for e in events)

        # Birgitta, in Swedish, is untouched and can ask too.
        shown = await ask(srv, srv.emulator.handset(BIRGITTA), "mina uppgifter")
        assert "Tillgängliga tjänster" in shown and "Ditt svar: 4" in shown
        assert len(answers_of(srv, BIRGITTA)) == 3

        # Anna again: nothing is held now.
        assert "Meillä ei ole" in await ask(srv, anna, "TIETONI")


async def test_another_reply_cancels_the_request(tmp_path: Path, database: str) -> None:
    async with running_server(tmp_path, database=database, config_text=always_open()) as srv:
        await answering(srv, {CARL: "fi"}, 1)
        carl = srv.emulator.handset(CARL)
        assert "KYLLÄ" in await ask(srv, carl, "poista!")
        await ask(srv, carl, "ei")  # the yes/no question's answer, and the request is off
        assert srv.store.one("SELECT count(*) AS n FROM privacy_requests")["n"] == 0
        await ask(srv, carl, "kyllä")  # no longer a confirmation: nothing erased
        assert srv.store.one("SELECT 1 AS x FROM contacts WHERE phone = ?", [CARL]) is not None
        assert {a["question"] for a in answers_of(srv, CARL)} == {"asiointi", "esteet"}
        assert (
            srv.store.one("SELECT count(*) AS n FROM audit WHERE action = 'privacy.erase'")["n"]
            == 0
        )


async def test_opted_out_and_unknown_numbers_may_ask(tmp_path: Path, database: str) -> None:
    async with running_server(tmp_path, database=database, config_text=always_open()) as srv:
        await answering(srv, {ANNA: "fi"}, 1)
        anna = srv.emulator.handset(ANNA)
        await ask(srv, anna, "LOPETA")
        shown = await ask(srv, anna, "my data")
        assert "You have refused surveys" in shown and "Your answer: 4" in shown
        assert "YES" in await ask(srv, anna, "delete")
        assert "deleted" in await ask(srv, anna, "Yes.")
        assert optouts.is_opted_out(srv.store, ANNA)  # the opt-out is the one thing kept
        stranger = srv.emulator.handset("+358401110199")
        assert "Meillä ei ole" in await ask(srv, stranger, "TIETONI")
        assert "poistettavaa ei ole" in await ask(srv, stranger, "POISTA")
