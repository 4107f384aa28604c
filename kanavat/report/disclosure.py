"""One disclosure-control pass over a whole report, after every figure exists and before any
format is written.

While a report is built, every published count is registered here under a key (the same key
wherever the same number appears: the reach table's ``completed`` is the dispositions'
``complete``), with the additive relations a reader can subtract along (a row or column and its
total, a breakdown and the main table, strata within an age group) and every figure derived
from counts (shares, means, medians, weights, rates). :meth:`Ledger.apply` then decides once,
for all tables together:

- counts: small cells (1..min_cell-1) and groups are hidden, and complementary cells so that no
  relation hides exactly one (``suppress.protect`` over all relations of the report at once);
- derived figures: a share, mean, median or weight is hidden when any count it is computed
  from is, since a ratio of a visible and a hidden count gives the hidden one back;
- rates: a rate is published exactly only when both its numerator and its denominator can be
  summed from published counts; otherwise it is published as the range of values it takes over
  every way the hidden counts could fill the published totals, which a reader could compute
  from the published counts alone, so it tells nothing new;
- weighted shares and means are rounded to a step their interval supports (a quarter of
  the interval's half-width, at least 0.1 percentage points) and at least twice the most one
  person moves them, so that the strata behind a share cannot be solved from its digits.

Each hidden figure says why (``"why"``): ``protected`` (a count: small, or hidden so that a
small one cannot be worked out; deliberately not saying which), ``derived`` (computed from a
hidden count), ``range`` (a rate given as a range), ``rounded`` (a weighted figure rounded).
The test suite's auditor (``tests/report/auditor.py``) checks the result independently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kanavat.report import suppress

Key = Hashable
STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
"""Rounding steps for weighted shares, as fractions (0.1 to 10 percentage points)."""


def step_for(half_width: float) -> float:
    """The coarsest step that still shows a share to a quarter of its interval's half-width."""
    return max([s for s in STEPS if s <= half_width / 4] or [STEPS[0]])


def step_for_weighted(half_width: float, heaviest: float, total: float) -> float:
    """The step for a weighted share: as :func:`step_for`, and at least twice the most one
    person can move it (the heaviest weight over all weights together), so that moving one
    person between strata stays inside one step and no stratum's count can be solved from
    the digits."""
    effect = heaviest / total if total else 1.0
    coarse = [s for s in STEPS if s >= 2 * effect] or [STEPS[-1]]
    return max(step_for(half_width), coarse[0])


def half_width_for(n: float) -> float:
    """The widest 95 % half-width a share over ``n`` people can have (at p = 1/2); it depends
    on ``n`` only, so the step it gives tells nothing about the hidden answers."""
    return 1.959963984540054 * math.sqrt(0.25 / n) if n > 0 else 1.0


def round_to(value: float | None, step: float) -> float | None:
    if value is None:
        return None
    return round(round(value / step) * step, 6)


@dataclass
class _Derived:
    target: dict[str, Any]
    fields: tuple[str, ...]
    on: tuple[Key, ...]
    mark: bool


@dataclass
class _Rate:
    target: dict[str, Any]
    fn: Callable[[dict[str, int]], float | None]
    """The rate from counts by part name."""
    parts: dict[str, tuple[Key, int]]
    """Part name -> (the key of the count it belongs to, its value); the parts add up to
    ``total``. Several parts may belong to one published count (pending: attempted or not)."""
    total: Key


@dataclass
class _Rounded:
    target: dict[str, Any]
    fields: tuple[str, ...]
    step: float


@dataclass
class Ledger:
    """Every count of a report with where it is shown, and what depends on it."""

    min_cell: int
    values: dict[Key, int] = field(default_factory=dict)
    holders: dict[Key, list[tuple[dict[str, Any], str]]] = field(default_factory=dict)
    lines: list[list[Key]] = field(default_factory=list)
    totals: set[Key] = field(default_factory=set)
    forced: set[Key] = field(default_factory=set)
    groups: list[tuple[Key, list[Key]]] = field(default_factory=list)
    derived: list[_Derived] = field(default_factory=list)
    rates: list[_Rate] = field(default_factory=list)
    rounded: list[_Rounded] = field(default_factory=list)
    finally_: list[Callable[[], None]] = field(default_factory=list)
    hidden: set[Key] = field(default_factory=set)

    def count(
        self,
        key: Key,
        value: int,
        holder: dict[str, Any] | None = None,
        name: str = "count",
        *,
        total: bool = False,
        forced: bool = False,
    ) -> None:
        """Register a count shown as ``holder[name]`` (or not shown: ``holder`` None)."""
        if key in self.values and self.values[key] != value:
            raise ValueError(f"{key!r} registered as {self.values[key]} and as {value}")
        self.values[key] = value
        if holder is not None:
            holder[name] = value
            holder["suppressed"] = False
            self.holders.setdefault(key, []).append((holder, name))
        if total:
            self.totals.add(key)
        if forced:
            self.forced.add(key)

    def cell(self, key: Key, value: int, *, total: bool = False) -> dict[str, Any]:
        """A new ``{"count", "suppressed"}`` cell for ``value``, registered under ``key``."""
        out: dict[str, Any] = {}
        self.count(key, value, out, total=total)
        return out

    def line(self, parts: Iterable[Key], total: Key) -> None:
        """``total`` is the sum of ``parts`` (or at least as large: protecting it as a sum
        only hides more)."""
        self.lines.append([*parts, total])
        self.totals.add(total)

    def together(self, key: Key, keys: Iterable[Key]) -> None:
        """Hide all of ``keys`` once ``key`` is hidden."""
        self.groups.append((key, list(keys)))

    def derive(
        self, target: dict[str, Any], fields: Iterable[str], on: Iterable[Key], *, mark: bool = True
    ) -> None:
        """``target[field]`` is computed from the counts ``on``: hidden with any of them. With
        ``mark`` the target (a cell) is marked suppressed too."""
        self.derived.append(_Derived(target, tuple(fields), tuple(on), mark))

    def rate(
        self,
        target: dict[str, Any],
        fn: Callable[[dict[str, int]], float | None],
        parts: dict[str, tuple[Key, int]],
        total: Key,
    ) -> None:
        """``target["value"]`` is ``fn`` of the parts, which add up to the count ``total``."""
        self.rates.append(_Rate(target, fn, parts, total))

    def then(self, step: Callable[[], None]) -> None:
        """Run ``step`` once the pass is done (e.g. an interval of a figure if it is shown)."""
        self.finally_.append(step)

    def round(self, target: dict[str, Any], fields: Iterable[str], step: float) -> None:
        """Publish ``target[fields]`` (numbers or intervals) rounded to ``step``."""
        self.rounded.append(_Rounded(target, tuple(fields), step))

    def apply(self) -> set[Key]:
        """Decide what is hidden, write it into the registered dicts; returns the hidden keys."""
        hidden = suppress.protect(
            self.values,
            self.lines,
            self.min_cell,
            totals=self.totals,
            forced=self.forced,
            together=self.groups,
        )
        self.hidden = hidden
        for key in hidden:
            for holder, name in self.holders.get(key, ()):
                holder[name] = None
                holder["suppressed"] = True
                holder["why"] = "protected"
        for d in self.derived:
            if any(k in hidden for k in d.on):
                for name in d.fields:
                    if name in d.target:
                        d.target[name] = None
                if d.mark:
                    d.target["suppressed"] = True
                    d.target.setdefault("why", "derived")
        for r in self.rates:
            self._rate(r)
        for f in self.rounded:
            for name in f.fields:
                value = f.target.get(name)
                if isinstance(value, list):
                    low, high = value
                    f.target[name] = [
                        max(0.0, math.floor(low / f.step) * f.step),
                        min(1.0, math.ceil(high / f.step) * f.step),
                    ]
                    f.target[name] = [round(x, 6) for x in f.target[name]]
                elif isinstance(value, float):
                    f.target[name] = round_to(value, f.step)
            if any(f.target.get(name) is not None for name in f.fields):
                f.target["precision"] = f.step
        for step in self.finally_:
            step()
        return hidden

    def _rate(self, r: _Rate) -> None:
        """Exact when every part is published; else the range over every filling of the hidden
        counts that keeps the published total, found at the fillings where one part takes all
        the hidden mass.

        That is exact for a ratio of sums (RR1, RR2, COOP1, REF1, *e*: linear-fractional, so
        extreme at a vertex), and for RR3 as AAPOR defines it with *e* estimated from the same
        cases, RR3 = I / (E + e U) with e = E / (E + NE), E = I + P + R + NC + O, which is not
        a ratio of sums: it rises with I and NE and falls with the other eligible and U, so a
        maximum has the hidden mass only in I and NE and a minimum only in the other eligible
        and U; along those edges it is monotone (moving a case from NE to I keeps E + NE, so
        RR3 = I / E * (E + NE) / (E + NE + U) grows; moving one from U to the other eligible
        grows E + e U by 1 - e + U NE / (E + NE)^2 > 0), so the extremes are vertices too.
        ``tests/report/test_audit_relations.py`` checks this against every filling."""
        target = r.target
        hidden = [name for name, (key, _) in r.parts.items() if key in self.hidden]
        if not hidden:
            return
        target["value"] = None
        target["suppressed"] = True
        target["why"] = "range"
        target["range"] = None
        if r.total in self.hidden:
            return
        known = {name: v for name, (key, v) in r.parts.items() if key not in self.hidden}
        mass = self.values[r.total] - sum(known.values())
        values = []
        for name in hidden:
            filled = known | dict.fromkeys(hidden, 0) | {name: mass}
            value = r.fn(filled)
            if value is not None:
                values.append(value)
        if values and min(values) == max(values):  # the published counts give it anyway
            target.update(value=values[0], suppressed=False, range=None)
            del target["why"]
        elif values:
            target["range"] = [min(values), max(values)]
