"""Themes in the council report: small themes folded, quotes only where no one is singled out,
contact details never published (issue 21)."""

from __future__ import annotations

import io
import re

import jsonschema
import pytest

from kanavat.report import csv_out, html, json_out
from kanavat.report.build import SCHEMA_VERSION, build_report
from kanavat.store import Store
from kanavat.themes import commands

from . import world

SMALL_THEME = [
    "Puistoon tarvitaan lisää penkkejä istuskeluun.",
    "Penkkejä puistoon, niin vanhus jaksaa kävellä.",
    "Lisää penkkejä puistoihin!",
]
"""Three people on benches in the park: too few for a theme of its own."""
LONE_SWEDE = "Telefonkön till hälsocentralen är alldeles för lång, man väntar en timme."
"""The only Swedish answer in the phone-queue theme: its language cell is 1."""
LONE_VILLAGER = "Puhelinjonot ovat liian pitkät, soittakaa minulle takaisin."
"""The only answer from Pikkukylä: its municipality cell is 1 in any theme."""
PHONES = ["040 765 4321", "+358 50 123 4567", "09-876 5432"]
MAILS = ["maija.virtanen@example.fi", "kalle@kunta.example"]


def _report(config) -> dict:
    store = Store(config.database_path, secret="themes")
    try:
        return build_report(store, config, world.CAMPAIGN)
    finally:
        store.close()


def _outputs(report: dict) -> dict[str, str]:
    out = io.StringIO()
    csv_out.write(out, report)
    return {"html": html.render(report), "json": json_out.dumps(report), "csv": out.getvalue()}


@pytest.fixture(scope="module")
def themed(tmp_path_factory) -> dict:
    config = world.make(tmp_path_factory.mktemp("themes"))
    answers = world.topics()
    answers += [world.Written(t) for t in SMALL_THEME]
    answers.append(world.Written(LONE_SWEDE, language="sv"))
    answers.append(world.Written(LONE_VILLAGER, municipality="Pikkukylä"))
    # Contact details in answers at the heart of the queue theme, said many times.
    for phone in PHONES:
        answers += [world.Written(f"Puhelinjonot ovat liian pitkät, soittakaa minulle {phone}")] * 2
    for mail in MAILS:
        answers += [world.Written(f"Jonotin tunnin puhelimessa, vastatkaa sähköpostiin {mail}")] * 2
    world.add(config, answers)
    report = _report(config)
    store = Store(config.database_path, secret="themes")
    analysis = commands.current(store, config, world.CAMPAIGN, world.QUESTION)
    store.close()
    return {
        "config": config,
        "report": report,
        "outputs": _outputs(report),
        "analysis": analysis,
    }


def _themes(report: dict) -> dict:
    q = next(q for q in report["questions"] if q["id"] == world.QUESTION)
    assert q["themes"] is not None
    return q["themes"]


def test_report_validates_against_the_schema(themed):
    import json
    from pathlib import Path

    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "kanavat/report/schema.json").read_text()
    )
    jsonschema.validate(themed["report"], schema)
    assert themed["report"]["version"] == SCHEMA_VERSION


def test_topics_become_themes_with_their_words(themed):
    themes = _themes(themed["report"])
    assert len(themes["items"]) >= 3
    words = [w for item in themes["items"] for w in item["words"]]
    assert {"puhelinjono", "omaishoitaja"} & set(words), words
    counted = sum(i["count"] or 0 for i in themes["items"]) + (themes["other"]["count"] or 0)
    assert counted <= themes["n"]["count"]


def test_every_published_theme_has_at_least_min_cell_answers(themed):
    k = themed["report"]["privacy"]["min_cell"]
    themes = _themes(themed["report"])
    for item in themes["items"]:
        assert item["count"] is None or item["count"] >= k
        for cells in item["by"].values():
            for c in cells:
                assert c["count"] is None or c["count"] == 0 or c["count"] >= k, (item["id"], c)


def test_no_quote_from_a_small_theme_or_a_small_cell(themed):
    themes = _themes(themed["report"])
    quotes = [q for item in themes["items"] for q in item["quotes"]]
    assert quotes, "the large themes are quoted"
    assert not themes["other"]["quotes"]
    analysis = themed["analysis"]
    k = themed["report"]["privacy"]["min_cell"]
    small = [t for t in analysis.themes if len(t.members) < k]
    assert small or analysis.strays, "the fixture has answers to hide"
    big_texts = {
        analysis.answers[i].text for t in analysis.themes if t not in small for i in t.members
    }
    hidden = {analysis.answers[i].text for t in small for i in t.members}
    hidden |= {analysis.answers[i].text for i in analysis.strays}
    home = next(
        t for t in analysis.themes if any(analysis.answers[i].text == LONE_SWEDE for i in t.members)
    )
    assert len(home.members) >= k, "the lone Swedish answer is in a published theme"
    hidden.add(LONE_SWEDE)  # in a published theme, but the only Swedish answer there
    village = next(
        t
        for t in analysis.themes
        if any(analysis.answers[i].text == LONE_VILLAGER for i in t.members)
    )
    assert len(village.members) >= k, "the lone villager is in a published theme"
    hidden.add(LONE_VILLAGER)
    for text in hidden - big_texts:
        assert all(text not in q for q in quotes), text
    published = {i["id"] for i in themes["items"]}
    assert not published & {t.id for t in small}
    for item in themes["items"]:
        if item["quotes"]:
            assert item["count"] is not None and item["count"] >= k


def test_quotes_are_not_linked_to_a_respondent(themed):
    themes = _themes(themed["report"])
    for item in themes["items"]:
        for quote in item["quotes"]:
            assert isinstance(quote, str)
            assert not re.search(r"\br\d+\b", quote)


def test_phone_numbers_and_emails_never_reach_the_report(themed):
    for name, text in themed["outputs"].items():
        flat = re.sub(r"(?<=\d)[ \-](?=\d)", "", text)
        for phone in PHONES:
            assert phone not in text, (name, phone)
            assert re.sub(r"[ \-]", "", phone) not in flat, (name, phone)
        for mail in MAILS:
            assert mail not in text, (name, mail)
            assert mail.split("@")[0] not in text, (name, mail)
    quotes = [q for item in _themes(themed["report"])["items"] for q in item["quotes"]]
    assert any("[poistettu]" in q for q in quotes), "the contact answers were quoted, redacted"


def test_the_most_typical_answer_is_not_quoted_when_its_writer_is_alone_in_a_group():
    from types import SimpleNamespace

    from kanavat.report.data import AnswerRow
    from kanavat.report.themes import _PerPerson, _quotes
    from kanavat.themes.analyse import Answer

    texts = [LONE_VILLAGER] + [f"Puhelinjonot ovat pitkät {n}." for n in range(6)]
    rows = [
        AnswerRow(world.QUESTION, f"r{i}", "sms", "fi", "text", t, "answered", False, t)
        for i, t in enumerate(texts)
    ]
    base = SimpleNamespace(
        min_cell=5,
        breakdowns=["channel"],
        universe=["channel", "municipality"],
        redacted="[poistettu]",
        group_of=lambda attribute, row: row.channel if attribute == "channel" else None,
    )
    people = {f"r{i}": {"municipality": "Pikkukylä" if i == 0 else "Keskusta"} for i in range(7)}
    analysis = SimpleNamespace(answers=[Answer(t, "fi") for t in texts])
    # Members are ordered most typical first: the lone villager would be quoted first.
    quotes = _quotes(analysis, list(range(7)), rows, _PerPerson(base, people))
    assert quotes and LONE_VILLAGER not in quotes
    # With everyone in one municipality, the same answer is quoted first.
    together = {f"r{i}": {"municipality": "Keskusta"} for i in range(7)}
    assert _quotes(analysis, list(range(7)), rows, _PerPerson(base, together))[0] == LONE_VILLAGER
