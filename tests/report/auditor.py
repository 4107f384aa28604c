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
rounded (``rate_decimals``, as the HTML shows them) or as a range; shares and scale means of
hidden counts; and post-stratified shares (main and per group) over the strata when a
``stratum`` breakdown publishes their n, each within its published precision.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

BIG = 10**7
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
    for report in reports:
        _reach(model, report, rate_decimals)
        _sample(model, report)
        _inputs(model, report)
        for q in report["questions"]:
            _question(model, report, q)
    # A count determined as zero discloses no one (zero is never hidden for being small).
    return [
        Finding(name, low, high)
        for name, (low, high) in model.ranges().items()
        if high - low < 0.5 and high >= 0.5
    ]


def hidden_counts(*reports: dict[str, Any]) -> int:
    """How many distinct hidden counts the reports have (what the audit searched)."""
    model = _Model()
    for report in reports:
        _reach(model, report, None)
        _sample(model, report)
        _inputs(model, report)
        for q in report["questions"]:
            _question(model, report, q)
    return sum(model.integer)


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


def _sample(model: _Model, report: dict[str, Any]) -> None:
    sample = report["sample"]
    if not sample or not sample["strata"]:
        return
    parts = [_cell(model, ("stratum", s["stratum"]), s["respondents"]) for s in sample["strata"]]
    total = _cell(model, ("respondents",), sample["respondents"])
    model.equal(parts, total)
    model.equal([_cell(model, ("respondents",), report["respondents"])], total)


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


def _question(model: _Model, report: dict[str, Any], q: dict[str, Any]) -> None:
    if "categories" not in q:
        return
    qid = q["id"]
    values = [c["value"] for c in q["categories"]]
    n = model.term((qid, "n"), q["n"])
    main = {c["value"]: _cell(model, (qid, "all", c["value"]), c) for c in q["categories"]}
    model.equal(list(main.values()), n)
    _shares(model, q["categories"], main, n)
    if q["type"] == "scale" and q.get("mean") and q["mean"].get("value") is not None:
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
            groups[key], group_n[key] = cells, gn
        for v in values:
            model.equal([groups[(by, g["group"])][v] for g in b["groups"]], main[v])
        model.equal([group_n[(by, g["group"])] for g in b["groups"]], n)
    _strata(model, report, q, groups, group_n, main)


def _shares(model: _Model, cells: list[dict[str, Any]], terms: dict[Any, Any], n) -> None:
    """A share shown beside a hidden count gives the count: share * n."""
    for c in cells:
        if c["count"] is None and c.get("share") is not None:
            model.relate([(1.0, terms[c["value"]]), (-c["share"], n)], -1e-6, 1e-6)


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
        if c["estimate"] is None:
            continue
        half = c.get("precision", 0) / 2 + 1e-9
        terms = [(pool[h] / total_pool, share[(h, c["value"])]) for h in inside]
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
