"""``kanavat simulate`` and ``kanavat demo`` end to end: the real server, the emulator, a
generated population, and the store counted independently of ``kanavat.outreach.reach``."""

from __future__ import annotations

import json
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from kanavat import config as configuration
from kanavat.cli import main
from kanavat.simulate import population, rehearsal
from kanavat.simulate.cli import demo, simulate
from kanavat.simulate.runner import RehearsalClock
from kanavat.store import Store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.toml"
main.add_command(simulate)  # kanavat/cli.py registers them; harmless to do it again
main.add_command(demo)


def _any_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kanavat(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_population_is_repeatable_and_spread_over_campaigns() -> None:
    config = configuration.load(EXAMPLE)
    a = population.generate(config, list(config.campaigns), 40, seed=3)
    b = population.generate(config, list(config.campaigns), 40, seed=3)
    assert a == b and len(a) == 40
    assert population.generate(config, list(config.campaigns), 40, seed=4) != a
    per = Counter(r.campaign_id for r in a)
    assert set(per) == set(config.campaigns) and min(per.values()) >= 5
    phones = [r.phone for r in a if r.phone]
    assert len(phones) == len(set(phones))
    assert all(r.phone is None for r in a if r.channel == "chat")


def test_the_demo_gives_its_conversation_residents_enough_to_form_groups() -> None:
    """``kanavat demo`` (320 residents): the conversation gets some ninety, so that after
    those not reached and those who stop early some sixty have 7 votes and the groups stand
    out (a run of the demo: 4 groups over 63 grouped residents; with 240 residents and no
    volume, 22 residents and no groups)."""
    config = configuration.load(EXAMPLE)
    counts = population.split(
        320,
        list(config.campaigns),
        config,
        population.EVENT_VOLUME,
        population.CONVERSATION_VOLUME,
    )
    talking = [cid for cid in counts if config.campaign(cid).conversation]
    assert talking and all(counts[cid] >= 80 for cid in talking)
    event = [cid for cid in counts if config.campaign(cid).trigger == "event"]
    assert all(counts[cid] >= 160 for cid in event)  # the feedback report's units keep theirs


def test_rehearsal_config_opens_windows_and_keeps_the_rest(tmp_path: Path) -> None:
    source = configuration.load(EXAMPLE)
    rehearsal.prepare_folder(tmp_path / "r")
    path = rehearsal.write_config(source, tmp_path / "r", 18080, None)
    copy = configuration.load(path)
    assert copy.server.public_url == "http://127.0.0.1:18080"
    assert copy.county.call_hours == ["mon-sun 00:00-24:00"] and copy.county.holidays is False
    assert "fi" not in copy.speech  # no Whisper model given: keypad only
    assert copy.campaigns["vanhukset-2027"].retries == source.campaigns["vanhukset-2027"].retries
    assert copy.questionnaires == source.questionnaires
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    with pytest.raises(rehearsal.RehearsalError, match="not a rehearsal folder"):
        rehearsal.prepare_folder(tmp_path / "other")


def test_simulate_reaches_every_channel_and_its_summary_matches_the_store(tmp_path: Path) -> None:
    folder = tmp_path / "sim"
    summary = tmp_path / "summary.json"
    out = kanavat(
        "simulate",
        "--respondents", "30",
        "--seed", "5",
        "--pace", "20",
        "--no-speech",
        "--dir", str(folder),
        "--port", str(_any_port()),
        "--config", str(EXAMPLE),
        "--summary-json", str(summary),
    )  # fmt: skip
    assert "Reach per campaign and channel" in out and "timed out" not in out
    rows = json.loads(summary.read_text())
    config = configuration.load(folder / "config.toml")
    store = Store(config.database_path)
    try:
        for cid, campaign in config.campaigns.items():
            mine = [r for r in rows if r["campaign_id"] == cid]
            got = {
                k: sum(r[k] for r in mine)
                for k in ("contacts", "completed", "partial", "refused", "pending", "attempted")
            }
            if campaign.audience is None and campaign.trigger != "event":  # chat: visitors
                expected = {
                    "contacts": _n(
                        store,
                        "SELECT * FROM sessions WHERE campaign_id = ? AND status != 'restarted'",
                        cid,
                    ),
                    "completed": _n(
                        store,
                        "SELECT * FROM sessions WHERE campaign_id = ? AND status = 'completed'",
                        cid,
                    ),
                }
                assert {k: got[k] for k in expected} == expected
                continue
            by = {
                r["disposition"]: r["n"]
                for r in store.query(
                    "SELECT disposition, count(*) AS n FROM campaign_contacts WHERE campaign_id = ? GROUP BY disposition",
                    [cid],
                )
            }
            assert got["contacts"] == sum(by.values()) > 0
            assert got["completed"] == by.get("complete", 0)
            assert got["partial"] == by.get("partial", 0)
            assert got["refused"] == by.get("refusal", 0)
            assert got["pending"] == by.get("pending", 0)
            assert got["attempted"] == _n(
                store, "SELECT DISTINCT contact_id FROM attempts WHERE campaign_id = ?", cid
            )
        channels = {r["channel"] for r in store.query("SELECT DISTINCT channel FROM answers")}
        assert channels == {"voice", "sms", "chat"}
        assert _n(store, "SELECT * FROM campaign_contacts WHERE disposition = 'complete'", None) > 5
        # Closing the loop (issue 23): every campaign's outcome told by text and by a call,
        # once per resident and outcome; each suggestion routed, answered and its answer told.
        assert "what came of it:" in out and "still on their way" not in out
        # The example county's calls wait for a recording; a rehearsal has none: released.
        assert "calls waited for the message's recording" in out
        assert _n(store, "SELECT * FROM notices WHERE status = 'held'", None) == 0
        told = {
            r["channel"]: r["n"]
            for r in store.query(
                "SELECT channel, count(*) AS n FROM notices WHERE kind = 'outcome' "
                "AND status IN ('told', 'queued') GROUP BY channel"
            )
        }
        assert told.get("sms", 0) > 0 and told.get("voice", 0) > 0, told
        assert not store.query(
            "SELECT ref_id, contact_id FROM notices WHERE contact_id IS NOT NULL "
            "GROUP BY kind, ref_id, contact_id HAVING count(*) > 1"
        )
        answered = _n(store, "SELECT * FROM suggestions WHERE status = 'answered'", None)
        # Five residents text a suggestion; one who opted out earlier in the run is ignored
        # (the store has no number to answer), so count what was taken, not five.
        taken = _n(store, "SELECT * FROM events WHERE outcome = 'suggestion'", None)
        assert answered == taken >= 3
        assert (
            _n(
                store,
                "SELECT * FROM notices WHERE kind = 'answer' AND status IN ('told', 'queued')",
                None,
            )
            == answered
        )
    finally:
        store.close()
    exported: set[str] = set()
    for cid in config.campaigns:
        text = kanavat("export", cid, "--format", "jsonl", "--config", str(folder / "config.toml"))
        exported |= {json.loads(line)["channel"] for line in text.splitlines() if line.strip()}
    assert exported == {"voice", "sms", "chat"}


def _n(store: Store, sql: str, campaign_id: str | None) -> int:
    params = [] if campaign_id is None else [campaign_id]
    row = store.one(f"SELECT count(*) AS n FROM ({sql})", params)
    return int(row["n"]) if row else 0


@pytest.mark.slow
def test_demo_without_serving_writes_the_council_reports(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = kanavat(
        "demo", "--no-serve", "--respondents", "24", "--pace", "10",
        "--port", str(_any_port()), "--config", str(EXAMPLE),
    )  # fmt: skip
    reports = sorted((tmp_path / "demo" / "reports").glob("*.html"))
    assert [p.stem for p in reports] == sorted(configuration.load(EXAMPLE).campaigns)
    assert all(
        p.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html") for p in reports
    )
    assert "simulated part:" in out and "/chat/nuoret-2027" in out and "Ctrl-C" not in out
    # The screen shows progress and the summary; the server's log lines go to demo/kanavat.log.
    assert " INFO " not in out and " WARNING " not in out and "Traceback" not in out
    assert "scheduler.stopped" in (tmp_path / "demo" / "kanavat.log").read_text(encoding="utf-8")
    assert (tmp_path / "demo" / "qr" / "nuoret-2027.png").exists()
    # The rehearsal was played in the past: nothing is stamped ahead of the real time, and the
    # reports (written after the clock returned to real time) are dated today.
    store = Store(tmp_path / "demo" / "kanavat.db")
    try:
        latest = store.one("SELECT max(answered_at) AS t FROM answers")
    finally:
        store.close()
    assert latest and latest["t"] < datetime.now(UTC).isoformat()
    today = datetime.now(ZoneInfo("Europe/Helsinki"))
    assert f"{today.day}.{today.month}.{today.year}" in reports[0].read_text(encoding="utf-8")


def test_rehearsal_clock_runs_in_the_past_and_returns_to_real_time() -> None:
    clock = RehearsalClock(7200.0, lead=timedelta(days=14))
    assert clock() < datetime.now(UTC) - timedelta(days=13)
    clock.slow_down()
    assert abs(clock() - datetime.now(UTC)) < timedelta(seconds=1)
    ahead = RehearsalClock(7200.0, lead=timedelta(days=-1))  # a rehearsal that ran past now
    ahead.slow_down()
    assert clock() < ahead()  # keeps where it got to: never back in time
