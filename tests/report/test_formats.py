"""JSON follows its published schema; CSV is tidy; HTML speaks the campaign's language."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
from click.testing import CliRunner

from kanavat.report import csv_out, html, json_out
from kanavat.report.build import SCHEMA_VERSION
from kanavat.report.cli import report as report_command

from . import fixture


def test_json_validates_against_schema(world, sampled):
    schema = json_out.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(json_out.dumps(sampled)), schema)
    jsonschema.validate(json.loads(json_out.dumps(world.report(fixture.CHAT))), schema)
    assert sampled["version"] == SCHEMA_VERSION


def test_schema_is_documented():
    from pathlib import Path

    doc = (Path(fixture.REPO) / "docs" / "report-schema.md").read_text("utf-8")
    assert f"`{SCHEMA_VERSION}`" in doc
    for key in json_out.schema()["required"]:
        assert f"`{key}`" in doc, key


def test_csv_is_one_row_per_number(sampled):
    out = io.StringIO()
    count = csv_out.write(out, sampled)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == count > 100
    assert set(rows[0]) == set(csv_out.COLUMNS)
    arki = [r for r in rows if r["section"] == "question" and r["question"] == "arki"]
    assert [r["category"] for r in arki] == ["1", "2", "3", "4", "5", "dont_know"]


def test_html_in_finnish_and_swedish(world):
    fi = html.render(world.report())
    sv = html.render(world.report(language="sv"))
    assert '<html lang="fi">' in fi and "Vastaukset kysymyksittäin" in fi
    assert '<html lang="sv">' in sv and "Svaren fråga för fråga" in sv
    assert "Hur fungerar din vardag?" in sv, "questions as asked, in Swedish"
    assert "RR1" in fi and "RR3" in fi and "AAPOR" in fi
    assert "<svg" in fi and "<script" not in fi


def test_chat_report_explains_missing_rates(world):
    page = html.render(world.report(fixture.CHAT))
    assert "vastausasteita ei voi laskea" in page


def test_cli_writes_each_format(world, tmp_path):
    runner = CliRunner()
    config = str(world.config.path)
    for fmt in ("html", "json", "csv"):
        out = tmp_path / f"r.{fmt}"
        result = runner.invoke(
            report_command,
            [
                fixture.SAMPLED,
                "--format",
                fmt,
                "--output",
                str(out),
                "--config",
                config,
                "--by",
                "age_group",
                "--compare",
                fixture.EARLIER,
            ],
        )
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000
    data = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert [b["by"] for b in data["questions"][0]["breakdowns"]] == ["age_group"]
    bad = runner.invoke(
        report_command, [fixture.SAMPLED, "--compare", fixture.CHAT, "--config", config]
    )
    assert bad.exit_code != 0 and "same questionnaire" in bad.output


def test_html_dates_a_late_evening_report_by_the_county_day(sampled):
    """Built at 00:30 in Helsinki (22:30 UTC the day before): dated the county's day."""
    late = {
        **sampled,
        "generated_at": "2026-12-04T22:30:00.000Z",
        "campaign": {**sampled["campaign"], "timezone": "Europe/Helsinki"},
    }
    early = {**late, "generated_at": "2026-12-04T21:30:00.000Z"}
    assert sampled["campaign"]["timezone"] == "Europe/Helsinki"  # the example county's
    fi = html.Format("fi", "Europe/Helsinki")
    assert fi.date("2026-12-04T22:30:00.000Z") == fi.date("2026-12-05")
    assert fi.date("2026-12-04T21:59:00.000Z") == fi.date("2026-12-04")
    assert fi.date("2026-12-04") == fi.date("2026-12-04T12:00:00Z")  # a day stays that day
    produced = "<dt>Laadittu</dt><dd>{}</dd>"
    assert produced.format(fi.date("2026-12-05")) in html.render(late)
    assert produced.format(fi.date("2026-12-04")) in html.render(early)
