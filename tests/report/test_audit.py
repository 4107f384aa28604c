"""The intruder's audit (``auditor.py``): no published figure of any generated report, alone
or with the other variants of its campaign, determines a hidden count; and the auditor does
find the counts that reports used to leak."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kanavat.report import json_out
from kanavat.report.disclosure import step_for_weighted

from . import auditor, fixture

STRATA = ["stratum", "age_group", "municipality"]
VARIANTS = [
    (fixture.SAMPLED, {}),
    (fixture.SAMPLED, {"by": STRATA}),
    (fixture.SAMPLED, {"by": ["language"], "compare": fixture.EARLIER}),
    (fixture.EARLIER, {}),
    (fixture.SMALL, {}),
    (fixture.CHAT, {}),
    (fixture.FEEDBACK, {}),
    (fixture.FEEDBACK, {"by": ["unit"], "compare": fixture.FEEDBACK_EARLIER}),
]


def _published(world, campaign: str, **options: Any) -> dict[str, Any]:
    """The report as a reader gets it: the rendered JSON, parsed back."""
    return json.loads(json_out.dumps(world.report(campaign, **options)))


@pytest.mark.parametrize(("campaign", "options"), VARIANTS)
def test_no_hidden_count_is_determined(world, campaign, options):
    report = _published(world, campaign, **options)
    assert auditor.audit(report) == []
    assert auditor.audit(report, rate_decimals=1) == [], "nor from the HTML's rounded rates"


def test_variants_of_one_campaign_together_determine_nothing(world):
    reports = [
        _published(world, fixture.SAMPLED),
        _published(world, fixture.SAMPLED, by=STRATA),
        _published(world, fixture.SAMPLED, by=["age_group"]),
    ]
    assert auditor.hidden_counts(*reports) > 100
    assert auditor.audit(*reports) == []


def test_small_campaign_tells_what_it_safely_can(world):
    report = _published(world, fixture.SMALL)
    reach = report["reach"]
    complete = reach["dispositions"]["complete"]
    assert reach["total"]["completed"] == complete, "one count, shown or hidden together"
    rr1 = reach["rates"]["RR1"]
    assert rr1["value"] is not None or rr1["range"], "a value or a range, never only a dash"
    if complete["count"] is not None:
        assert rr1["value"] == complete["count"] / reach["dispositions"]["total"]["count"]
    if rr1["value"] is None:
        low, high = rr1["range"]
        assert low <= 23 / 24 <= high and rr1["why"] == "range"


def _skeleton(**reach: Any) -> dict[str, Any]:
    """The smallest report the auditor reads, for leaks built by hand."""
    return {
        "campaign": {"channels": ["sms"]},
        "respondents": {"count": None, "suppressed": True},
        "reach": reach,
        "sample": None,
        "input_kinds": {
            "by_kind": [
                {"kind": "speech", "total": {"count": 0}, "by_channel": {"sms": {"count": 0}}}
            ],
            "total": {"count": 0},
            "speech_confirmed": {"count": 0},
            "speech_not_confirmed": {"count": 0},
        },
        "questions": [],
    }


def _dispositions(**hidden_or_shown: int | None) -> dict[str, Any]:
    names = ("complete", "partial", "refusal", "non_contact", "other", "unknown", "not_eligible")
    counts = dict.fromkeys(names, 0) | {"pending": 0} | hidden_or_shown
    return {name: {"count": v, "suppressed": v is None} for name, v in counts.items()}


def _contacts_reach(dispositions, rates, completed=None) -> dict[str, Any]:
    return {
        "kind": "contacts",
        "by_channel": [],
        "total": {c: {"count": completed if c == "completed" else None} for c in ("contacted", "reached", "completed")},
        "dispositions": dispositions,
        "rates": {r: rates.get(r, {"value": None, "range": None}) for r in ("RR1", "RR2", "RR3", "COOP1", "REF1")},
    }  # fmt: skip


def test_auditor_finds_refusals_in_a_rate_whose_parts_were_hidden():
    # The old report: complete 46 of 50, refusal 3 and non-contact 1 hidden, COOP1 = 46/49.
    d = _dispositions(complete=46, refusal=None, non_contact=None, total=50)
    for decimals in (None, 1):
        value = 46 / 49 if decimals is None else round(46 / 49, 3)
        report = _skeleton(**_contacts_reach(d, {"COOP1": {"value": value}}))
        found = {f.name: f.low for f in auditor.audit(report, rate_decimals=decimals)}
        assert found == {("disposition", "refusal"): 3, ("disposition", "non_contact"): 1}
    # The pass gives such a rate as the range of every filling of the hidden cells: safe.
    ranged = {"COOP1": {"value": None, "range": [46 / 50, 1.0]}}
    assert auditor.audit(_skeleton(**_contacts_reach(d, ranged))) == []


def test_auditor_finds_refusals_from_the_reach_table_beside_dispositions():
    # The old report: the reach table showed completed 46 while the dispositions hid complete.
    d = _dispositions(complete=None, refusal=None, total=50)
    found = auditor.audit(_skeleton(**_contacts_reach(d, {}, completed=46)))
    assert {f.name: f.low for f in found} == {
        ("disposition", "complete"): 46,
        ("disposition", "refusal"): 4,
    }


def _weighted(estimate: float, precision: float | None) -> dict[str, Any]:
    """Three age strata; the youngest (7 people: 3 yes, 4 no) and a complement are hidden in the
    stratum breakdown, the main table and the shares are shown."""
    pools = {"18-39": 700, "40-64": 2000, "65+": 1300}
    groups = {"18-39": (7, None, None), "40-64": (50, None, None), "65+": (40, 15, 25)}
    cell = {"estimate": None, "share": None, "suppressed": True}
    main_yes = {"value": "yes", "count": 38, "share": 38 / 97, "estimate": estimate}
    if precision:
        main_yes["precision"] = precision
    q = {
        "id": "apu",
        "type": "yesno",
        "n": 97,
        "categories": [main_yes, {"value": "no", "count": 59, "share": 59 / 97, "estimate": None}],
        "breakdowns": [
            {
                "by": "stratum",
                "groups": [
                    {
                        "group": h,
                        "n": n,
                        "cells": [
                            {**cell, "value": "yes", "count": yes},
                            {**cell, "value": "no", "count": no},
                        ],
                    }
                    for h, (n, yes, no) in groups.items()
                ],
            }
        ],
    }
    report = _skeleton(
        kind="sessions",
        sessions={k: {"count": 0} for k in ("started", "completed", "not_completed")},
    )
    report["sample"] = {
        "weighted": True,
        "stratify": ["age_group"],
        "strata": [
            {"stratum": h, "pool": p, "respondents": {"count": None}} for h, p in pools.items()
        ],
        "respondents": {"count": None},
    }
    report["questions"] = [q]
    return report  # fmt: skip


def test_auditor_finds_a_stratum_cell_in_a_weighted_share():
    exact = 700 / 4000 * 3 / 7 + 2000 / 4000 * 20 / 50 + 1300 / 4000 * 15 / 40
    found = {f.name: f.low for f in auditor.audit(_weighted(exact, None))}
    assert found[("apu", ("stratum", "18-39"), "yes")] == 3, "'3 of 7 aged 18-39 said yes'"
    # Rounded to a quarter of its interval (about 1 point here) it still leaks: one person of
    # 18-39 moves the share by 2.5 points. The pass's step is at least twice that.
    assert auditor.audit(_weighted(round(exact, 2), 0.01))
    weights = [700 / 4000 / 7] * 7 + [2000 / 4000 / 50] * 50 + [1300 / 4000 / 40] * 40
    step = step_for_weighted(0.07, max(weights), sum(weights))
    assert step >= 0.05
    rounded = round(round(exact / step) * step, 6)
    assert auditor.audit(_weighted(rounded, step)) == []
