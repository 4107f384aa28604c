"""An intruder's audit of published reports, independent of ``kanavat.report.disclosure``.

It reads only what a report publishes (its JSON, as rendered), writes down every relation a
reader knows between the published figures and the hidden counts, and asks a mixed-integer
program (``scipy.optimize.milp``) for the smallest and largest value each hidden count can
take. A hidden count whose smallest and largest values are equal is *determined*: the report
leaks it. Several reports of one campaign (``--by`` variants) are audited together, their
shared figures identified by meaning, not position.

Relations used: every table's rows and columns against their totals; a breakdown's groups
against the main table; strata inside the age group (or other stratifying attribute) they
belong to; the reach table's completes as the dispositions' completes; the respondents of
the strata as the report's respondents; AAPOR rates (RR1, RR2, COOP1, REF1) published exactly,
rounded (``rate_decimals``, as the HTML shows them) or as a range; RR3 with AAPOR's *e*
(exact, rounded or as a range); each stratum's RR1 over its sampled people, whose completes add
up to the report's and whose ineligible to its not-eligible; shares and scale means of hidden
counts; a category's 95 % interval, read back into the share it was computed from (Wilson's
interval gives its centre share exactly; an interval rounded outward gives it to within its
step); NPS values over their 0-10 cells; and post-stratified shares (main and per group) over
the strata when a ``stratum`` breakdown publishes their n, each within its published precision.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from .auditor_exact import exact_reach

BIG = 10**7
NPS_CLASSES = {"detractors": range(7), "passives": (7, 8), "promoters": (9, 10)}
"""An NPS question's breakdowns count classes of the main table's scores."""
EPS = 1e-9


@dataclass(frozen=True)
class Finding:
    name: Hashable
    low: float
    high: float


@dataclass
class _Model:
    names: list[Hashable] = field(default_factory=list)
    index: dict[Hashable, int] = field(default_factory=dict)
    integer: list[bool] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    known: dict[Hashable, float] = field(default_factory=dict)
    aux: set[Hashable] = field(default_factory=set)
    """Unknowns that are no published cell (a stratum's completes and ineligible people):
    reported only when worked out as a small count (1 .. min_cell - 1)."""
    min_cell: int = 5
    rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)

    def term(self, name: Hashable, value: float | None, *, integer: bool = True, upper=BIG):
        """A published value (a constant) or, if hidden, a variable: (coefficients, constant)."""
        if name in self.known:
            return {}, self.known[name]
        if value is not None:
            self.known[name] = value
            return {}, float(value)
        if name not in self.index:
            self.index[name] = len(self.names)
            self.names.append(name)
            self.integer.append(integer)
            self.upper.append(upper)
        return {self.index[name]: 1.0}, 0.0

    def relate(self, terms: Iterable[tuple[float, tuple[dict[int, float], float]]], low, high):
        """low <= sum(coef * term) <= high."""
        coefs: dict[int, float] = {}
        constant = 0.0
        for c, (vars_, k) in terms:
            constant += c * k
            for i, v in vars_.items():
                coefs[i] = coefs.get(i, 0.0) + c * v
        coefs = {i: v for i, v in coefs.items() if abs(v) > 1e-15}
        if coefs:
            self.rows.append((coefs, low - constant, high - constant))

    def equal(self, parts: list[tuple[dict[int, float], float]], total) -> None:
        self.relate([*((1.0, p) for p in parts), (-1.0, total)], 0.0, 0.0)

    def ranges(self) -> dict[Hashable, tuple[float, float]]:
        """Each hidden count's smallest and largest feasible value, or, once two feasible
        solutions already differ in it, any two different values it can take."""
        out: dict[Hashable, tuple[float, float]] = {}
        for component in self._components():
            out |= self._component_ranges(component)
        return out

    def _components(self) -> list[list[int]]:
        """Groups of variables linked by some relation (solved separately: much smaller)."""
        parent = list(range(len(self.names)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for coefs, _, _ in self.rows:
            first, *rest = coefs
            for i in rest:
                parent[find(i)] = find(first)
        groups: dict[int, list[int]] = {}
        for i in range(len(self.names)):
            groups.setdefault(find(i), []).append(i)
        return list(groups.values())

    def _component_ranges(self, members: list[int]) -> dict[Hashable, tuple[float, float]]:
        local = {v: j for j, v in enumerate(members)}
        rows = [r for r in self.rows if next(iter(r[0])) in local]
        n = len(members)
        matrix = np.zeros((len(rows), n))
        low = np.zeros(len(rows))
        high = np.zeros(len(rows))
        for r, (coefs, lo, hi) in enumerate(rows):
            for i, v in coefs.items():
                matrix[r, local[i]] = v
            low[r], high[r] = lo - 1e-7, hi + 1e-7
        constraints = [LinearConstraint(matrix, low, high)] if rows else []
        bounds = Bounds(np.zeros(n), np.array([self.upper[i] for i in members], dtype=float))
        integrality = np.array([self.integer[i] for i in members], dtype=int)
        solutions: list[np.ndarray] = []
        out = {}
        for j, i in enumerate(members):
            if not self.integer[i]:
                continue
            seen = {round(x[j]) for x in solutions}
            if len(seen) > 1:
                out[self.names[i]] = (min(seen), max(seen))
                continue
            ends = []
            for sign in (1.0, -1.0):
                c = np.zeros(n)
                c[j] = sign
                res = milp(c, constraints=constraints, bounds=bounds, integrality=integrality)
                if res.status != 0 or res.x is None:
                    ends.append(0.0 if sign > 0 else float(BIG))
                    continue
                solutions.append(res.x)
                ends.append(round(res.x[j]))
                if sign > 0 and len({round(x[j]) for x in solutions}) > 1:
                    ends.append(max(round(x[j]) for x in solutions))
                    break
            out[self.names[i]] = (ends[0], ends[1])
        return out


def audit(*reports: dict[str, Any], rate_decimals: int | None = None) -> list[Finding]:
    """Hidden counts that the published figures of ``reports`` (one campaign) determine."""
    model = _Model()
    model.min_cell = min(r.get("privacy", {}).get("min_cell", 5) for r in reports)
    for report in reports:
        _reach(model, report, rate_decimals)
        _sample(model, report, rate_decimals)
        _inputs(model, report)
        for q in report["questions"]:
            _question(model, report, q, rate_decimals)
    # A count determined as zero discloses no one (zero is never hidden for being small).
    ranges = model.ranges()
    found = {
        name: Finding(name, low, high)
        for name, (low, high) in ranges.items()
        if high - low < 0.5
        and high >= 0.5
        and (name not in model.aux or high < model.min_cell - 0.5)
    }
    for report in reports:
        for name, value in exact_reach(report, model.known, ranges, rate_decimals, _bounds):
            found.setdefault(name, Finding(name, value, value))
    return list(found.values())


def hidden_counts(*reports: dict[str, Any]) -> int:
    """How many distinct hidden counts the reports have (what the audit searched)."""
    model = _Model()
    for report in reports:
        _reach(model, report, None)
        _sample(model, report)
        _inputs(model, report)
        for q in report["questions"]:
            _question(model, report, q)
    return sum(
        1 for name, i in zip(model.names, model.integer, strict=True) if i and name not in model.aux
    )


def _cell(model: _Model, name: Hashable, cell: dict[str, Any] | None):
    return model.term(name, None if cell is None else cell.get("count"))


def _reach(model: _Model, report: dict[str, Any], rate_decimals: int | None) -> None:
    reach = report["reach"]
    if reach["kind"] == "sessions":
        s = reach["sessions"]
        model.equal(
            [_cell(model, ("sessions", "completed"), s["completed"]),
             _cell(model, ("sessions", "not_completed"), s["not_completed"])],
            _cell(model, ("sessions", "started"), s["started"]),
        )  # fmt: skip
        return
    d = reach["dispositions"]
    names = [k for k in d if k != "total"]
    cell = {k: _cell(model, ("disposition", k), d[k]) for k in names}
    total = _cell(model, ("disposition", "total"), d["total"])
    model.equal(list(cell.values()), total)
    # The reach table's total of completes is the dispositions' completes.
    model.equal([_cell(model, ("reach", "total", "completed"), reach["total"]["completed"])],
                cell["complete"])  # fmt: skip
    for column in ("contacted", "reached", "completed"):
        rows = [
            _cell(model, ("reach", r["channel"], column), r[column]) for r in reach["by_channel"]
        ]
        t = _cell(model, ("reach", "total", column), reach["total"][column])
        # A person may be on two channels: each row <= total <= the rows' sum.
        model.relate([*((1.0, r) for r in rows), (-1.0, t)], 0.0, BIG)
        for r in rows:
            model.relate([(1.0, t), (-1.0, r)], 0.0, BIG)
    everyone = [k for k in names if k != "not_eligible"]
    formulas = {
        "RR1": (["complete"], everyone),
        "RR2": (["complete", "partial"], everyone),
        "COOP1": (["complete"], ["complete", "partial", "refusal", "other"]),
        "REF1": (["refusal"], everyone),
    }
    for rate, (top, bottom) in formulas.items():
        r = reach["rates"][rate]
        if r.get("value") is not None:
            half = 0.5 * 10 ** -(rate_decimals + 2) if rate_decimals is not None else EPS
            low, high = r["value"] - half, r["value"] + half
        elif r.get("range"):
            low, high = r["range"]
            low, high = low - EPS, high + EPS
        else:
            continue
        # low <= top / bottom <= high, as two linear inequalities.
        terms_low = [(1.0, cell[k]) for k in top] + [(-low, cell[k]) for k in bottom]
        terms_high = [(1.0, cell[k]) for k in top] + [(-high, cell[k]) for k in bottom]
        model.relate(terms_low, 0.0, BIG)
        model.relate(terms_high, -BIG, 0.0)
    _rr3(model, reach, cell, everyone, rate_decimals)


def _bounds(figure: dict[str, Any] | float | None, decimals: int | None, scale: float = 1.0):
    """The interval a published rate lies in: exact, rounded, or its published range."""
    if isinstance(figure, (int, float)):
        figure = {"value": float(figure)}
    if not figure:
        return None
    if figure.get("value") is not None:
        half = 0.5 * 10 ** -(decimals + 2) * scale if decimals is not None else EPS
        return figure["value"] - half, figure["value"] + half
    if figure.get("range"):
        low, high = figure["range"]
        return low - EPS, high + EPS
    return None


def _rr3(model: _Model, reach: dict[str, Any], cell, everyone: list[str], decimals) -> None:
    """e = E / (E + NE) and RR3 = I / (E + e U), linear bounds that hold for every e in its
    published bounds (never excluding the truth); the exact, non-linear relation, with *e*
    estimated from the very same counts as AAPOR defines it, is checked by ``auditor_exact.exact_reach``.

    A pending case is a non-contact (eligible, E) if it was attempted and of unknown
    eligibility (U) if not; the report does not publish the split, so here a pending case
    counts between the two: weight ``e`` in U at least, 1 in E at most."""
    known = ("complete", "partial", "refusal", "non_contact", "other")
    eligible = [k for k in everyone if k in known]
    unknown = [k for k in everyone if k not in known]  # unknown and pending
    e = _bounds(reach.get("e") if reach.get("e") is not None else
                ({"range": reach["e_range"]} if reach.get("e_range") else None), decimals)  # fmt: skip
    if e is not None:
        e_low, e_high = e
        ne = cell.get("not_eligible")
        pending = [cell[k] for k in everyone if k == "pending"]
        if ne is not None:
            # e_low <= E / (E + NE): (1 - e_low) E >= e_low NE, E at most eligible + pending.
            terms = [*((1 - e_low, cell[k]) for k in eligible), *((1 - e_low, p) for p in pending)]
            model.relate([*terms, (-e_low, ne)], 0.0, BIG)
            # E / (E + NE) <= e_high: (1 - e_high) E <= e_high NE, E at least eligible.
            model.relate([*((1 - e_high, cell[k]) for k in eligible), (-e_high, ne)], -BIG, 0.0)
    else:
        e_low, e_high = 0.0, 1.0
    rr3 = _bounds(reach["rates"].get("RR3"), decimals)
    if rr3 is None:
        return
    low, high = rr3
    # E + e U lies between eligible + e_low (unknown + pending) and eligible + pending + e_high
    # unknown: I >= low (E + e U) >= low (that lower end); I <= high (the upper end).
    model.relate([(1.0, cell["complete"]), *((-low, cell[k]) for k in eligible),
                  *((-low * e_low, cell[k]) for k in unknown)], 0.0, BIG)  # fmt: skip
    model.relate([(1.0, cell["complete"]), *((-high, cell[k]) for k in eligible),
                  *((-high * (1.0 if k == "pending" else e_high), cell[k]) for k in unknown)],
                 -BIG, 0.0)  # fmt: skip


def _sample(model: _Model, report: dict[str, Any], decimals: int | None = None) -> None:
    sample = report["sample"]
    if not sample or not sample["strata"]:
        return
    parts = [_cell(model, ("stratum", s["stratum"]), s["respondents"]) for s in sample["strata"]]
    total = _cell(model, ("respondents",), sample["respondents"])
    model.equal(parts, total)
    model.equal([_cell(model, ("respondents",), report["respondents"])], total)
    _stratum_rr1(model, report, decimals)


def _stratum_rr1(model: _Model, report: dict[str, Any], decimals: int | None) -> None:
    """A stratum's RR1 is its completes over its sampled people less its ineligible ones
    (both unknown, in whole people); the strata's completes add up to the report's completes
    and their ineligible to its not-eligible."""
    reach, sample = report["reach"], report["sample"]
    if reach["kind"] != "contacts":
        return
    d = reach["dispositions"]
    completes, ineligible = [], []
    for s in sample["strata"]:
        h = s["stratum"]
        sampled = s["sampled"]
        i_h = model.term(("stratum", h, "complete"), None, upper=sampled)
        ne_h = model.term(("stratum", h, "not_eligible"), None, upper=sampled)
        rest = model.term(("stratum", h, "not_complete"), None, upper=sampled)
        model.aux |= {("stratum", h, c) for c in ("complete", "not_eligible", "not_complete")}
        model.relate([(1.0, i_h), (1.0, ne_h), (1.0, rest)], sampled, sampled)
        completes.append(i_h)
        ineligible.append(ne_h)
        rr1 = _bounds({"value": s.get("rr1"), "range": s.get("rr1_range")}, decimals)
        if rr1 is None or not sampled:
            continue
        low, high = rr1
        # low (sampled - NE_h) <= I_h <= high (sampled - NE_h)
        model.relate([(1.0, i_h), (low, ne_h)], low * sampled, BIG)
        model.relate([(1.0, i_h), (high, ne_h)], -BIG, high * sampled)
    if sum(s["sampled"] for s in sample["strata"]) == d["total"]["count"]:
        model.equal(completes, _cell(model, ("disposition", "complete"), d["complete"]))
        model.equal(ineligible, _cell(model, ("disposition", "not_eligible"), d["not_eligible"]))


def _inputs(model: _Model, report: dict[str, Any]) -> None:
    kinds = report["input_kinds"]
    channels = report["campaign"]["channels"]
    totals = []
    for k in kinds["by_kind"]:
        row = [_cell(model, ("input", k["kind"], ch), k["by_channel"][ch]) for ch in channels]
        t = _cell(model, ("input", k["kind"], "total"), k["total"])
        model.equal(row, t)
        totals.append(t)
    model.equal(totals, _cell(model, ("input", "total"), kinds["total"]))
    speech = next(k for k in kinds["by_kind"] if k["kind"] == "speech")
    model.equal(
        [_cell(model, ("speech", "confirmed"), kinds["speech_confirmed"]),
         _cell(model, ("speech", "not_confirmed"), kinds["speech_not_confirmed"])],
        _cell(model, ("input", "speech", "total"), speech["total"]),
    )  # fmt: skip


def _nps(model: _Model, nps: dict[str, Any] | None, cells: dict[Any, Any], decimals) -> None:
    """NPS = 100 (promoters - detractors) / everyone who gave 0-10, exact, whole points (as
    the HTML shows it) or a range: linear in the cells."""
    if not nps:
        return
    if nps.get("value") is not None:
        half = EPS if decimals is None else 0.5
        low, high = nps["value"] - half, nps["value"] + half
    elif nps.get("range"):
        low, high = nps["range"][0] - EPS, nps["range"][1] + EPS
    else:
        return
    sign = {v: 100.0 if v >= 9 else -100.0 if v <= 6 else 0.0 for v in range(11) if v in cells}
    sign |= {c: {"promoters": 100.0, "detractors": -100.0}.get(c, 0.0)
             for c in NPS_CLASSES if c in cells}  # fmt: skip
    scores = list(sign)
    model.relate([*((sign[v] - low, cells[v]) for v in scores)], 0.0, BIG)
    model.relate([*((sign[v] - high, cells[v]) for v in scores)], -BIG, 0.0)


def _question(
    model: _Model, report: dict[str, Any], q: dict[str, Any], decimals: int | None = None
) -> None:
    if "categories" not in q:
        return
    qid = q["id"]
    values = [c["value"] for c in q["categories"]]
    n = model.term((qid, "n"), q["n"])
    main = {c["value"]: _cell(model, (qid, "all", c["value"]), c) for c in q["categories"]}
    model.equal(list(main.values()), n)
    _shares(model, q["categories"], main, n, bool(q.get("weighted")))
    _nps(model, q.get("nps"), main, decimals)
    if q["type"] in ("scale", "nps") and (q.get("mean") or {}).get("value") is not None:
        numeric = [v for v in values if isinstance(v, int)]
        m = q["mean"]["value"]
        model.relate([(v - m, main[v]) for v in numeric], -1e-6, 1e-6)
    groups: dict[tuple[str, Any], dict[Any, Any]] = {}
    group_n: dict[tuple[str, Any], Any] = {}
    for b in q["breakdowns"]:
        by = b["by"]
        for g in b["groups"]:
            key = (by, g["group"])
            gn = model.term((qid, key, "n"), g["n"])
            cells = {c["value"]: _cell(model, (qid, key, c["value"]), c) for c in g["cells"]}
            model.equal(list(cells.values()), gn)
            _shares(model, g["cells"], cells, gn)
            _nps(model, g.get("nps"), cells, decimals)
            if q["type"] in ("scale", "nps") and (g.get("mean") or {}).get("value") is not None:
                m = g["mean"]["value"]  # a group's mean over its scores, like the main one
                scores = [v for v in cells if isinstance(v, int)]
                model.relate([(v - m, cells[v]) for v in scores], -1e-6, 1e-6)
            groups[key], group_n[key] = cells, gn
        columns = [c["value"] for c in b["groups"][0]["cells"]] if b["groups"] else []
        for v in columns:
            # A column is one of the main table's values, or an NPS class: a sum of them.
            members = [v] if v in main else NPS_CLASSES[v]
            model.relate(
                [*((1.0, groups[(by, g["group"])][v]) for g in b["groups"]),
                 *((-1.0, main[s]) for s in members if s in main)],
                0.0, 0.0,
            )  # fmt: skip
        model.equal([group_n[(by, g["group"])] for g in b["groups"]], n)
    _strata(model, report, q, groups, group_n, main)


def _shares(
    model: _Model, cells: list[dict[str, Any]], terms: dict[Any, Any], n, weighted: bool = False
) -> None:
    """A share shown beside a hidden count gives the count: share * n; so does its interval
    (the share at the interval's centre, in Wilson's sense)."""
    for c in cells:
        if c["count"] is None and c.get("share") is not None:
            model.relate([(1.0, terms[c["value"]]), (-c["share"], n)], -1e-6, 1e-6)
        centre = wilson_centre(c.get("ci"), c.get("precision"))
        if c["count"] is None and centre is not None and not weighted:
            low, high = centre
            model.relate([(1.0, terms[c["value"]]), (-low, n)], 0.0, BIG)
            model.relate([(1.0, terms[c["value"]]), (-high, n)], -BIG, 0.0)


def _wilson_share(low: float, high: float) -> float:
    """The share a Wilson interval (low, high) was computed from, whatever its n: both ends
    solve n (p - x)^2 = z^2 x (1 - x), so (p - low) / sqrt(low (1 - low)) equals
    (high - p) / sqrt(high (1 - high))."""
    a_low = (max(low, 0.0) * (1 - max(low, 0.0))) ** 0.5
    a_high = (min(high, 1.0) * (1 - min(high, 1.0))) ** 0.5
    if a_low + a_high == 0:
        return (low + high) / 2
    return (low * a_high + high * a_low) / (a_low + a_high)


def wilson_centre(ci: list[float] | None, precision: float | None) -> tuple[float, float] | None:
    """Bounds on the share behind a published interval: exact for an exact interval; for one
    rounded outward to ``precision`` (low down, high up), the extremes over every pair of true
    ends the published ones could have come from, widened a little to stay sound."""
    if not ci or len(ci) != 2 or ci[0] is None:
        return None
    low, high = ci
    if not precision:
        p = _wilson_share(low, high)
        return p - 1e-7, p + 1e-7
    grid = [i / 8 for i in range(9)]
    values = [
        _wilson_share(low + a * precision, high - b * precision)
        for a in grid
        for b in grid
        if low + a * precision <= high - b * precision
    ]
    if not values:
        return None
    slack = precision / 4
    return max(0.0, min(values) - slack), min(1.0, max(values) + slack)


def _strata(model, report, q, groups, group_n, main) -> None:
    """Strata inside their attribute's groups, and post-stratified shares over the strata."""
    sample = report["sample"]
    if not sample or not sample["weighted"]:
        return
    strata = {s["stratum"]: s for s in sample["strata"]}
    inside = {key[1]: key for key in groups if key[0] == "stratum" and key[1] in strata}
    if not inside:
        return
    values = [c["value"] for c in q["categories"]]
    for i, attribute in enumerate(sample["stratify"]):
        for key in [k for k in groups if k[0] == attribute]:
            members = [inside[h] for h in inside if h.split("|")[i] == key[1]]
            for v in values:
                model.equal([groups[m][v] for m in members], groups[key][v])
            model.equal([group_n[m] for m in members], group_n[key])
    # Share of stratum h answering v: hits/n when n is shown; a free share when it is hidden.
    share: dict[tuple[str, Any], tuple[dict[int, float], float]] = {}
    for h, key in inside.items():
        n_h = model.known.get((q["id"], key, "n"))
        for v in values:
            if n_h:
                vars_, k = groups[key][v]
                share[(h, v)] = ({i: c / n_h for i, c in vars_.items()}, k / n_h)
            else:
                share[(h, v)] = model.term((q["id"], key, "share", v), None, integer=False, upper=1)
        if not n_h:
            model.relate([(1.0, share[(h, v)]) for v in values], 1.0, 1.0)
    pool = {h: strata[h]["pool"] for h in inside}
    total_pool = sum(pool.values())
    for c in q["categories"]:
        terms = [(pool[h] / total_pool, share[(h, c["value"])]) for h in inside]
        centre = wilson_centre(c.get("ci"), c.get("precision"))
        if centre is not None:  # the interval's centre share is the estimate too
            model.relate(terms, *centre)
        if c["estimate"] is None:
            continue
        half = c.get("precision", 0) / 2 + 1e-9
        model.relate(terms, c["estimate"] - half, c["estimate"] + half)
    for b in q["breakdowns"]:
        if b["by"] not in sample["stratify"]:
            continue
        i = sample["stratify"].index(b["by"])
        for g in b["groups"]:
            members = [h for h in inside if h.split("|")[i] == g["group"]]
            weight = sum(pool[h] for h in members)
            for c in g["cells"]:
                if c["estimate"] is None or not weight:
                    continue
                half = c.get("precision", 0) / 2 + 1e-9
                terms = [(pool[h] / weight, share[(h, c["value"])]) for h in members]
                model.relate(terms, c["estimate"] - half, c["estimate"] + half)
