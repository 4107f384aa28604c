"""Suggestions and notices under TIETONI / POISTA: a data request lists a resident's
suggestions; an erasure removes their text and number and stops every notice not yet told."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from harness import SMS_CAMPAIGN, running_server

from kanavat import config as configuration
from kanavat.loop import notices, outcomes, suggestions
from kanavat.privacy import erase
from kanavat.privacy.data import Person
from kanavat.store import Store

RESIDENT = "+358401260001"


async def test_my_data_lists_a_suggestion_and_delete_erases_it(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        srv.import_contacts({RESIDENT: "fi"})
        h = srv.emulator.handset(RESIDENT)
        await h.send_sms("EHDOTUS pidempi aukioloaika apteekkiin")
        assert "Kiitos ehdotuksestasi" in (await h.wait_for_message(10)).body
        await h.send_sms("TIETONI")
        listed = (await h.wait_for_message(10)).body
        assert "pidempi aukioloaika apteekkiin" in listed and "odottaa käsittelyä" in listed
        await h.send_sms("POISTA")
        await h.wait_for_message(10)
        await h.send_sms("KYLLÄ")
        await h.wait_for_message(10)
        row = srv.store.one("SELECT * FROM suggestions")
        assert row["text"] is None and row["contact_id"] is None and row["phone"] is None
        assert row["status"] == "new"  # still counted, no longer anyone's
        assert srv.count("SELECT id FROM events WHERE payload LIKE '%apteekkiin%'") == 0
        await h.send_sms("TIETONI")
        assert "apteekkiin" not in (await h.wait_for_message(10)).body


def test_an_erased_participant_is_never_told(tmp_path: Path, example_config_path: Path) -> None:
    config = configuration.load(example_config_path, env={})
    store = Store(tmp_path / "k.db")
    try:
        now = store.now()
        for n, phone in enumerate(("+358401260011", "+358401260012"), start=1):
            store.execute(
                "INSERT INTO contacts(id, phone, language, created_at, updated_at) "
                "VALUES (?, ?, 'fi', ?, ?)",
                [n, phone, now, now],
            )
            store.execute(
                "INSERT INTO sessions(campaign_id, respondent, contact_id, channel, language, "
                "state, status, started_at, updated_at) VALUES (?, ?, ?, 'sms', 'fi', '{}', "
                "'completed', ?, ?)",
                [SMS_CAMPAIGN, f"r{n}", n, now, now],
            )
        outcome = outcomes.Outcome(SMS_CAMPAIGN, "Neuvosto", "2027-05-14", {"fi": "Päätös."})
        _, planned, _ = outcomes.add(store, config, outcome)
        assert planned == 2
        erase.erase(store, config, Person(phone="+358401260012"), "cli")
        due = notices.claim(store, ("sms",), timedelta(minutes=2), 10)
        assert [r["contact_id"] for r in due] == [1]
        assert store.one("SELECT status, reason FROM notices WHERE contact_id = 2") == {
            "status": "skipped",
            "reason": "erased",
        }
        sid = suggestions.record(
            store,
            event_id=None,
            channel="sms",
            language="fi",
            text="x",
            queue=None,
            phone="+358401260099",
        )
        suggestions.route(store, sid, "palvelut", None)
        assert suggestions.answer(store, sid, "Vastaus.")  # planned for the writer's number
        erase.erase(store, config, Person(phone="+358401260099"), "cli")
        row = store.one("SELECT status, phone FROM notices WHERE kind = 'answer'")
        assert row == {"status": "skipped", "phone": None}
    finally:
        store.close()


def test_an_open_suggestions_number_goes_after_retention(
    tmp_path: Path, example_config_path: Path
) -> None:
    """A suggestion nobody answered keeps its text for the council, but the number of a
    writer who is no contact is kept only retention_days (``kanavat purge``)."""
    from datetime import UTC, datetime

    from kanavat.privacy.purge import purge

    config = configuration.load(example_config_path, env={})
    store = Store(tmp_path / "k.db")
    try:
        sid = suggestions.record(
            store, event_id=None, channel="sms", language="fi", text="lisää penkkejä",
            queue="kirjaamo", phone="+358401260021",
        )  # fmt: skip
        made = datetime.fromisoformat(store.one("SELECT created_at FROM suggestions")["created_at"])
        days = config.privacy.retention_days
        early = purge(store, config, made.astimezone(UTC) + timedelta(days=days - 1))
        assert early.suggestions == 0
        assert store.one("SELECT phone FROM suggestions")["phone"] == "+358401260021"
        late = purge(store, config, made.astimezone(UTC) + timedelta(days=days, minutes=1))
        assert late.suggestions == 1
        row = suggestions.get(store, sid)
        assert row["phone"] is None and row["text"] == "lisää penkkejä" and row["status"] == "new"
        assert purge(store, config, made + timedelta(days=days + 2)).suggestions == 0
    finally:
        store.close()


def test_a_kept_suggestion_recording_goes_after_retention(
    tmp_path: Path, example_config_path: Path
) -> None:
    """With ``store_recordings`` on, a suggestion's audio is deleted by ``kanavat purge`` once
    it is older than retention_days (its text stays for the council)."""
    from datetime import UTC, datetime

    import numpy as np

    from kanavat.loop import recordings
    from kanavat.privacy.purge import purge
    from kanavat.voice.audio import ulaw_encode

    text = example_config_path.read_text("utf-8").replace(
        'erasure = "anonymise"', 'erasure = "anonymise"\nstore_recordings = true'
    )
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    config = configuration.load(tmp_path / "config.toml", env={})
    tone = (8000 * np.sin(np.arange(8000) / 8000 * 2 * np.pi * 440)).astype(np.int16)
    store = Store(tmp_path / "k.db")
    try:
        sid = suggestions.record(
            store, event_id=None, channel="voice", language="fi", text="lisää penkkejä",
            queue="kirjaamo", phone="+358401260022",
        )  # fmt: skip
        kept = recordings.keep(config, sid, ulaw_encode(tone))
        assert kept == tmp_path / "recordings" / "_suggestions" / f"{sid}.wav"
        made = datetime.fromisoformat(store.one("SELECT created_at FROM suggestions")["created_at"])
        days = config.privacy.retention_days
        assert purge(store, config, made.astimezone(UTC) + timedelta(days=days - 1)).recordings == 0
        assert kept.is_file()
        late = purge(store, config, made.astimezone(UTC) + timedelta(days=days, minutes=1))
        assert late.recordings == 1 and not kept.exists()
        assert suggestions.get(store, sid)["text"] == "lisää penkkejä"
    finally:
        store.close()
