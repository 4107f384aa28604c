"""Relations beyond the tables' sums, each attacked by the auditor: a stratum's RR1, RR3 with
AAPOR's *e*, the input-kind table, a weighted share's interval and the NPS.

For each, the report as built finds nothing, and the same report with that one figure
published without the disclosure pass (exactly, as a report without it would) does leak: so
the auditor's attack is real and it is the pass that stops it."""

from __future__ import annotations

import copy
import json
from typing import Any

from kanavat.report import json_out, stats
from kanavat.report.build import _input_kinds, _reach
from kanavat.report.data import AnswerRow, CampaignData, ChannelReach, ContactCell
from kanavat.report.disclosure import Ledger, step_for_weighted

from . import auditor, fixture
from .conftest import NOW
from .test_audit import _skeleton, _weighted


def _published(world, campaign: str, *, min_cell: int | None = None, **options) -> dict:
    """The rendered JSON of a report; with ``min_cell=1`` nothing is hidden: the true figures
    a report without the pass would publish."""
    from kanavat.report.build import build_report

    config = world.config
    if min_cell is not None:
        privacy = config.privacy.model_copy(update={"min_cell": min_cell})
        config = config.model_copy(update={"privacy": privacy})
    store = world.store()
    try:
        return json.loads(json_out.dumps(build_report(store, config, campaign, now=NOW, **options)))
    finally:
        store.close()


def test_stratum_rr1_at_full_precision_gives_away_a_strata_ineligible(world):
    report = _published(world, fixture.SAMPLED)
    assert auditor.audit(report) == []
    ranged = [s for s in report["sample"]["strata"] if s["rr1"] is None and s["rr1_range"]]
    assert ranged, "a stratum whose dispositions hide a small count gives its RR1 as a range"
    for s in ranged:
        low, high = s["rr1_range"]
        assert 0 <= low < high <= 1
    # Without the pass: every stratum's exact RR1 beside its sampled people.
    truth = _published(world, fixture.SAMPLED, min_cell=1)
    naive = copy.deepcopy(report)
    for s, t in zip(naive["sample"]["strata"], truth["sample"]["strata"], strict=True):
        s["rr1"], s["rr1_range"] = t["rr1"], None
    found = {f.name: f.low for f in auditor.audit(naive)}
    ineligible = {name: n for name, n in found.items() if name[-1] == "not_eligible"}
    assert ineligible, found
    assert all(1 <= n < report["privacy"]["min_cell"] for n in ineligible.values())


def _contacts_data(**counts: int) -> CampaignData:
    cells = [ContactCell("", d, d != "unknown", d == "complete", n) for d, n in counts.items()]
    total = sum(counts.values())
    everyone = ChannelReach(total - counts.get("unknown", 0), counts["complete"], 0, 0)
    return CampaignData("c", [], cells, {None: everyone, "sms": everyone}, counts["complete"])


def _reach_report(data: CampaignData, min_cell: int = 5) -> dict[str, Any]:
    ledger = Ledger(min_cell)
    reach = _reach(["sms"], data, ledger)
    ledger.apply()
    reach["e_range"] = reach["e"].get("range")
    reach["e"] = reach["e"]["value"]
    return json.loads(json.dumps(_skeleton(**reach)))


def test_rr3_and_e_at_full_precision_give_away_unknown_and_ineligible():
    # 46 complete, 10 refused, 3 of unknown eligibility and 2 not eligible: both small.
    data = _contacts_data(complete=46, refusal=10, unknown=3, not_eligible=2)
    report = _reach_report(data)
    d = report["reach"]["dispositions"]
    assert d["unknown"]["count"] is None and d["not_eligible"]["count"] is None
    assert auditor.audit(report) == []
    assert auditor.audit(report, rate_decimals=1) == []
    o = stats.Outcomes(I=46, P=0, R=10, NC=0, O=0, U=3, NE=2)
    exact = stats.rates(o)
    naive = copy.deepcopy(report)
    naive["reach"]["rates"]["RR3"] = {"value": exact["RR3"], "range": None}
    naive["reach"]["e"], naive["reach"]["e_range"] = exact["e"], None
    found = {f.name: f.low for f in auditor.audit(naive)}
    assert found[("disposition", "not_eligible")] == 2
    assert found[("disposition", "unknown")] == 3


def test_rr3_with_e_estimated_from_the_same_counts_is_audited_exactly():
    """RR3 published exactly beside *e* given only as a range: with *e* estimated from the
    same dispositions (AAPOR), RR3 pins the hidden ones; a linear model that lets *e* be any
    number in its range (as the auditor once did) finds nothing here."""
    cases = [
        ({"complete": 40, "refusal": 8, "unknown": 30, "not_eligible": 2},
         {"refusal": 8, "not_eligible": 2}),
        ({"complete": 40, "non_contact": 12, "unknown": 9, "not_eligible": 3},
         {"unknown": 9, "not_eligible": 3}),
    ]  # fmt: skip
    for counts, leaked in cases:
        report = _reach_report(_contacts_data(**counts))
        assert report["reach"]["e"] is None and report["reach"]["e_range"]
        assert auditor.audit(report) == []
        o = stats.Outcomes(
            I=counts["complete"],
            R=counts.get("refusal", 0),
            NC=counts.get("non_contact", 0),
            U=counts["unknown"],
            NE=counts["not_eligible"],
        )
        naive = copy.deepcopy(report)
        naive["reach"]["rates"]["RR3"] = {"value": stats.rates(o)["RR3"], "range": None}
        found = {f.name[-1]: f.low for f in auditor.audit(naive)}
        assert found == leaked


def test_a_rates_range_is_every_value_its_hidden_counts_allow():
    """The report's range of a rate (RR3 with e estimated, e, RR1, COOP1) over the fillings
    of its hidden dispositions is exactly the smallest and largest value any filling gives."""
    import itertools
    import random

    from kanavat.report.build import _outcomes, counts_of

    rng = random.Random(18)
    names = ("complete", "partial", "refusal", "non_contact", "other", "unknown", "not_eligible")
    for _ in range(300):
        counts = {d: rng.choice([0, 1, 2, 3, 8, 20, 40]) for d in names}
        hidden = rng.sample(names, rng.randint(1, 3))
        parts = {d: (("d", d), n) for d, n in counts.items()}
        total = sum(counts.values())
        mass = sum(counts[d] for d in hidden)
        for rate in ("RR1", "RR3", "COOP1", "e"):
            ledger = Ledger(5)
            target: dict[str, Any] = {"value": stats.rates(_outcomes(counts))[rate]}
            ledger.rate(target, lambda c, r=rate: stats.rates(_outcomes(c))[r], parts, ("d", "t"))
            ledger.values = {("d", d): n for d, n in counts.items()} | {("d", "t"): total}
            ledger.hidden = {("d", d) for d in hidden}
            ledger._rate(ledger.rates[0])
            values = []
            for fill in itertools.product(range(mass + 1), repeat=len(hidden)):
                if sum(fill) == mass:
                    c = counts_of(parts) | dict(zip(hidden, fill, strict=True))
                    v = stats.rates(_outcomes(c))[rate]
                    if v is not None:
                        values.append(v)
            if not values:
                continue
            if min(values) == max(values):
                assert target["value"] == values[0]
            else:
                assert target["range"] == [min(values), max(values)], (rate, counts, hidden)


NO_REACH = {
    "kind": "sessions",
    "sessions": {k: {"count": 0} for k in ("started", "completed", "not_completed")},
}


def _answers(*rows: tuple[str, str, bool, int]) -> list[AnswerRow]:
    return [
        AnswerRow("q", "p0", channel, "fi", kind, 1, "answered", confirmed, None, n)
        for kind, channel, confirmed, n in rows
    ]


def test_input_kinds_protected_together_and_leaking_without_complements():
    # Three keypad answers by phone (small) beside 40 spoken and 30 texted.
    answers = _answers(
        ("speech", "voice", True, 37), ("speech", "voice", False, 3),
        ("keypad", "voice", False, 3), ("text", "sms", False, 30),
    )  # fmt: skip
    ledger = Ledger(5)
    kinds = _input_kinds(answers, ["voice", "sms"], ledger)
    ledger.apply()
    report = _skeleton(**NO_REACH)
    report["campaign"]["channels"] = ["voice", "sms"]
    report["input_kinds"] = json.loads(json.dumps(kinds))
    assert auditor.hidden_counts(report) >= 2
    assert auditor.audit(report) == []
    # Without the pass's complements: only the small cells hidden.
    naive = _naive_kinds(answers)
    found = {f.name: f.low for f in auditor.audit(naive)}
    assert found.get(("input", "keypad", "voice")) == 3 or found.get(("speech", "not_confirmed"))


def _naive_kinds(answers: list[AnswerRow]) -> dict[str, Any]:
    """The input-kind table with every small cell hidden and nothing else (no complement)."""
    ledger = Ledger(1)
    kinds = _input_kinds(answers, ["voice", "sms"], ledger)
    ledger.apply()

    def hide(cell: dict[str, Any]) -> None:
        if cell["count"] is not None and 0 < cell["count"] < 5:
            cell.update(count=None, suppressed=True)

    for row in kinds["by_kind"]:
        hide(row["total"])
        for cell in row["by_channel"].values():
            hide(cell)
    hide(kinds["speech_confirmed"])
    hide(kinds["speech_not_confirmed"])
    report = _skeleton(**NO_REACH)
    report["campaign"]["channels"] = ["voice", "sms"]
    report["input_kinds"] = kinds
    return report


def _weighted_interval() -> tuple[float, list[float]]:
    strata = [
        stats.Stratum(pool=700, respondents=7, hits=3),
        stats.Stratum(pool=2000, respondents=50, hits=20),
        stats.Stratum(pool=1300, respondents=40, hits=15),
    ]
    result = stats.stratified_share(strata)
    assert result is not None
    estimate, interval = result
    return estimate, list(interval)


def test_a_weighted_shares_exact_interval_gives_its_stratum_cell_away():
    estimate, interval = _weighted_interval()
    weights = [700 / 4000 / 7] * 7 + [2000 / 4000 / 50] * 50 + [1300 / 4000 / 40] * 40
    step = step_for_weighted(0.07, max(weights), sum(weights))
    rounded = round(round(estimate / step) * step, 6)
    # The interval at full precision, even with no estimate beside it: its ends are published
    # figures too, and Wilson's interval has one share at its centre.
    report = _weighted(rounded, None)
    report["questions"][0]["categories"][0].update(estimate=None, ci=interval)
    found = {f.name: f.low for f in auditor.audit(report)}
    assert found[("apu", ("stratum", "18-39"), "yes")] == 3
    # Rounded outward to the estimate's step, as the pass publishes it: nothing.
    report = _weighted(rounded, step)
    report["questions"][0]["categories"][0]["ci"] = [
        (interval[0] // step) * step,
        -((-interval[1]) // step) * step,
    ]
    assert auditor.audit(report) == []


def test_a_units_exact_nps_gives_its_hidden_cells_away(world):
    options = {"by": ["unit"]}
    report = _published(world, fixture.FEEDBACK, **options)
    assert auditor.audit(report) == []
    truth = _published(world, fixture.FEEDBACK, min_cell=1, **options)
    naive = copy.deepcopy(report)
    ranged = 0
    for q, t in zip(naive["questions"], truth["questions"], strict=True):
        for b, tb in zip(q.get("breakdowns", []), t.get("breakdowns", []), strict=True):
            for g, tg in zip(b["groups"], tb["groups"], strict=True):
                if g.get("nps") and g["nps"]["value"] is None:
                    ranged += 1
                    g["nps"] = tg["nps"]
    assert ranged, "some unit's NPS is given as a range"
    assert auditor.audit(naive), "its exact value would give hidden cells away"
