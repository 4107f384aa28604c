"""Fast feedback: an NPS question's score with its interval, by service unit, year to year."""

from __future__ import annotations

import json
from collections import Counter

from kanavat import export
from kanavat.report import html, json_out

from . import auditor, fixture


def _scores(world, campaign: str) -> list[tuple[str, int]]:
    store = world.store()
    try:
        rows = [r for r in export.rows(store, campaign) if r["question"] == "suosittelu"]
    finally:
        store.close()
    return [(world.truth.unit_of[r["respondent"]], int(r["value"])) for r in rows]


def _nps(values: list[int]) -> float:
    return 100 * (sum(v >= 9 for v in values) - sum(v <= 6 for v in values)) / len(values)


def test_nps_matches_the_export_overall_and_by_unit(world):
    report = world.report(fixture.FEEDBACK)
    scores = _scores(world, fixture.FEEDBACK)
    q = next(q for q in report["questions"] if q["id"] == "suosittelu")
    assert q["type"] == "nps" and [c["value"] for c in q["categories"]][:11] == list(range(11))
    assert abs(q["nps"]["value"] - _nps([v for _, v in scores])) < 1e-9
    low, high = q["nps"]["ci"]
    assert low < q["nps"]["value"] < high and high - low < 20
    assert report["breakdowns"][0] == "unit"
    by_unit = next(b for b in q["breakdowns"] if b["by"] == "unit")
    units = {g["group"]: g for g in by_unit["groups"]}
    for unit in fixture.UNITS:
        mine = [v for u, v in scores if u == unit]
        nps = units[unit]["nps"]
        if units[unit]["n"] is None:  # hidden whole as the tiny unit's complement
            assert nps["value"] is None and nps["range"] is None
        elif nps["value"] is not None:
            assert abs(nps["value"] - _nps(mine)) < 1e-9
            assert nps["ci"][0] < nps["value"] < nps["ci"][1]
        else:
            assert nps["why"] == "range"
            low, high = nps["range"]
            assert low <= _nps(mine) <= high
    assert any(units[u]["nps"]["value"] is not None for u in fixture.UNITS)
    tiny = units[fixture.TINY_UNIT]
    assert tiny["n"] is None and tiny["nps"]["value"] is None
    assert Counter(u for u, _ in scores)[fixture.TINY_UNIT] == 3


def test_nps_compared_year_to_year(world):
    report = world.report(fixture.FEEDBACK, compare=fixture.FEEDBACK_EARLIER)
    q = next(q for q in report["questions"] if q["id"] == "suosittelu")
    change = q["compare"]["nps"]
    before = _nps([v for _, v in _scores(world, fixture.FEEDBACK_EARLIER)])
    assert abs(change["other"] - before) < 1e-9
    assert abs(change["change"] - (q["nps"]["value"] - before)) < 1e-9
    low, high = change["change_ci"]
    assert low < change["change"] < high
    assert change["clear"] is True, "a score 1.2 points higher on average over 360 people"
    page = html.render(report)
    assert "Suositteluindeksi (NPS)" in page and "Muutos suositteluindeksissä" in page
    assert fixture.TINY_UNIT in page


def test_nps_reports_leak_nothing(world):
    reports = [
        json.loads(json_out.dumps(world.report(fixture.FEEDBACK, **options)))
        for options in ({}, {"by": ["unit"]}, {"compare": fixture.FEEDBACK_EARLIER})
    ]
    assert auditor.audit(*reports) == []
    assert auditor.audit(json.loads(json_out.dumps(world.report(fixture.FEEDBACK_EARLIER)))) == []


def test_nps_rows_in_csv(world):
    import csv
    import io

    from kanavat.report import csv_out

    report = world.report(fixture.FEEDBACK)
    out = io.StringIO()
    csv_out.write(out, report)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    main = next(r for r in rows if r["section"] == "nps")
    q = next(q for q in report["questions"] if q["id"] == "suosittelu")
    assert abs(float(main["estimate"]) - q["nps"]["value"]) < 1e-5
    units = [r for r in rows if r["section"] == "breakdown_nps" and r["by"] == "unit"]
    assert {r["group"] for r in units} >= set(fixture.UNITS)
    assert all(r["estimate"] == "" for r in units if r["suppressed"] == "1")
