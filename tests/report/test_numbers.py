"""The report's numbers against independent counts: plain Python over the export rows and
the generator's own record of what it wrote, never the report's own queries."""

from __future__ import annotations

from collections import Counter
from typing import Any

from kanavat import export
from kanavat.report.build import build_report

from . import fixture


def _export(world, campaign: str = fixture.SAMPLED) -> list[dict[str, Any]]:
    store = world.store()
    try:
        return list(export.rows(store, campaign))
    finally:
        store.close()


def test_fixture_holds_over_ten_thousand_answers(world):
    store = world.store()
    try:
        stored = store.one("SELECT count(*) AS n FROM answers")["n"]
    finally:
        store.close()
    assert stored == world.truth.answers >= 10_000
    assert len(_export(world)) >= 10_000


def test_counts_match_export(world, sampled):
    rows = _export(world)
    for q in sampled["questions"]:
        given = [r for r in rows if r["question"] == q["id"] and r["value"] not in ("skip",)]
        if q["type"] == "text":
            assert q["n"] == len(given)
            continue
        assert q["n"] == len(given), q["id"]
        if q["type"] == "number":
            continue
        independent = Counter(r["value"] for r in given)
        shown = {c["value"]: c["count"] for c in q["categories"]}
        for value, count in shown.items():
            if count is not None:
                assert count == independent.get(value, 0), (q["id"], value)
        hidden = sum(independent[v] for v, c in shown.items() if c is None)
        assert hidden + sum(c or 0 for c in shown.values()) == len(given)


def test_breakdown_by_municipality_matches_generator(world, sampled):
    rows = _export(world)
    arki = next(q for q in sampled["questions"] if q["id"] == "arki")
    by = next(b for b in arki["breakdowns"] if b["by"] == "municipality")
    independent = Counter(
        (world.truth.municipality_of[r["respondent"]], r["value"])
        for r in rows
        if r["question"] == "arki"
    )
    for g in by["groups"]:
        for cell in g["cells"]:
            if cell["count"] is not None:
                assert cell["count"] == independent[(g["group"], cell["value"])]


def test_aapor_rates_from_generator_record(world, sampled):
    cases = world.truth.cases[fixture.SAMPLED]
    n = Counter(d for _, d, _ in cases)
    pending_attempted = sum(1 for _, d, a in cases if d == "pending" and a > 0)
    pending_fresh = n["pending"] - pending_attempted
    i, p, r, o = n["complete"], n["partial"], n["refusal"], n["other"]
    nc = n["non_contact"] + pending_attempted
    u = n["unknown"] + pending_fresh
    ne = n["not_eligible"]
    e = (i + p + r + nc + o) / (i + p + r + nc + o + ne)
    rates = sampled["reach"]["rates"]
    assert abs(rates["RR1"]["value"] - i / (i + p + r + nc + o + u)) < 1e-12
    assert abs(rates["RR3"]["value"] - i / (i + p + r + nc + o + e * u)) < 1e-12
    assert abs(rates["COOP1"]["value"] - i / (i + p + r + o)) < 1e-12
    assert abs(rates["REF1"]["value"] - r / (i + p + r + nc + o + u)) < 1e-12
    assert abs(sampled["reach"]["e"] - e) < 1e-12
    assert sampled["reach"]["dispositions"]["complete"]["count"] == i


def test_post_stratified_shares(world, sampled):
    """Share = sum over strata of (pool share) x (share within stratum), computed here."""
    rows = [r for r in _export(world) if r["question"] == "apu"]
    pool = world.truth.pool
    per: dict[str, list[str]] = {}
    for r in rows:
        per.setdefault(world.truth.stratum_of[r["respondent"]], []).append(r["value"])
    total = sum(pool[h] for h in per)
    expected = sum(pool[h] / total * values.count("yes") / len(values) for h, values in per.items())
    apu = next(q for q in sampled["questions"] if q["id"] == "apu")
    yes = next(c for c in apu["categories"] if c["value"] == "yes")
    assert apu["weighted"] is True
    assert abs(yes["estimate"] - expected) <= yes["precision"] / 2 + 1e-9, "rounded, no more"
    assert abs(yes["estimate"] - yes["share"]) > 0.005, "over-sampling the old must matter"
    low, high = yes["ci"]
    assert low < yes["estimate"] < high and high - low < 0.06


def test_stratum_table(world, sampled):
    sample = sampled["sample"]
    assert sample["design"] == "stratified" and sample["weighted"]
    assert sample["pool"] == sum(world.truth.pool.values())
    assert sample["sampled"] == len(world.truth.cases[fixture.SAMPLED])
    assert {s["stratum"]: s["pool"] for s in sample["strata"]} == world.truth.pool


def test_input_kinds_match_export(world, sampled):
    rows = _export(world)
    independent = Counter(r["input_kind"] for r in rows)
    for k in sampled["input_kinds"]["by_kind"]:
        assert k["total"]["count"] == independent.get(k["kind"], 0)


def test_comparison_is_the_difference(sampled):
    arki = next(q for q in sampled["questions"] if q["id"] == "arki")
    for c, d in zip(arki["categories"], arki["compare"]["categories"], strict=True):
        if d["change"] is not None:
            assert abs(c["estimate"] - d["other_estimate"] - d["change"]) < 1e-12
            low, high = d["change_ci"]
            assert low <= d["change"] <= high
    assert sampled["comparison"]["campaign"]["id"] == fixture.EARLIER


def test_chat_campaign_counts_sessions(world):
    report = world.report(fixture.CHAT)
    assert report["reach"]["kind"] == "sessions"
    assert "rates" not in report["reach"]
    assert report["reach"]["sessions"]["started"]["count"] == 260
    store = world.store()
    try:
        report2 = build_report(store, world.config, fixture.CHAT, language="sv")
    finally:
        store.close()
    assert report2["language"] == "sv"
