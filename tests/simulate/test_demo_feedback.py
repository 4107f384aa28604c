"""The example config's fast-feedback campaign in ``kanavat demo``: enough residents that its
council report shows the NPS of every service unit, and leaks nothing."""

from __future__ import annotations

import json
from pathlib import Path

from test_simulate import EXAMPLE, _any_port, kanavat  # this folder's rehearsal helpers

from kanavat import config as configuration
from kanavat.simulate import population
from kanavat.simulate.population import EVENT_VOLUME
from tests.report import auditor

FEEDBACK = "palaute-2027"


def test_demo_gives_the_feedback_campaign_its_volume() -> None:
    config = configuration.load(EXAMPLE)
    demo = population.split(240, list(config.campaigns), config, EVENT_VOLUME)
    plain = population.split(240, list(config.campaigns), config)
    assert demo[FEEDBACK] >= 120 and plain[FEEDBACK] < 60
    others = [c for c in config.campaigns if c != FEEDBACK]
    assert all(demo[c] >= 10 for c in others), "the surveys keep about what 60 gave them"


def test_feedback_report_of_a_demo_sized_population_shows_nps_by_unit(tmp_path: Path) -> None:
    config = configuration.load(EXAMPLE)
    residents = population.split(240, list(config.campaigns), config, EVENT_VOLUME)[FEEDBACK]
    folder = tmp_path / "sim"
    kanavat(
        "simulate", "--campaign", FEEDBACK, "--respondents", str(residents), "--seed", "2027",
        "--pace", "20", "--no-speech", "--dir", str(folder), "--port", str(_any_port()),
        "--config", str(EXAMPLE),
    )  # fmt: skip
    text = kanavat("report", FEEDBACK, "--format", "json", "--config", str(folder / "config.toml"))
    report = json.loads(text[text.index("{") :])
    q = next(q for q in report["questions"] if q["type"] == "nps")
    assert q["nps"]["value"] is not None and q["nps"]["ci"]
    units = next(b for b in q["breakdowns"] if b["by"] == "unit")["groups"]
    assert {g["group"] for g in units} == set(population.UNITS)
    shown = 0
    for g in units:
        assert g["n"] >= 10, g
        assert [c["value"] for c in g["cells"]][:3] == ["detractors", "passives", "promoters"]
        if g["nps"]["value"] is None:
            # A class of one to four people in a unit is hidden, and the unit's NPS with it
            # (it would give the class back); the council still gets the range.
            assert g["nps"]["range"], g
            continue
        shown += 1
        low, high = g["nps"]["ci"]
        assert low < g["nps"]["value"] < high
    assert shown >= 2, units
    assert auditor.audit(report) == [] and auditor.audit(report, rate_decimals=1) == []
