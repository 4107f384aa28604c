"""The auditor's exact check of a report's AAPOR rates (see ``auditor``).

RR3 with *e* estimated from the same dispositions, as AAPOR defines it, is not linear in the
counts, so the auditor's mixed-integer program holds only a relaxation of it; here every
integer filling of the hidden dispositions is checked against the exact formulas.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable
from typing import Any

EXACT_LIMIT = 500_000
"""Most fillings of a report's hidden dispositions the exact check walks through."""


def aapor_rates(counts: dict[str, int], attempted_pending: int) -> dict[str, float | None]:
    """RR1, RR2, RR3, COOP1, REF1 and e from disposition counts, as the AAPOR Standard
    Definitions (10th ed.) give them, written here independently of ``kanavat.report.stats``.
    *e*, the eligible share of the cases of unknown eligibility, is estimated from the same
    cases (eligible / (eligible + not eligible)), and 1 when none is resolved (RR3 = RR1)."""
    pending = counts.get("pending", 0)
    i, p, r, o = (counts.get(k, 0) for k in ("complete", "partial", "refusal", "other"))
    nc = counts.get("non_contact", 0) + attempted_pending
    u = counts.get("unknown", 0) + pending - attempted_pending
    ne = counts.get("not_eligible", 0)
    eligible = i + p + r + nc + o
    e = eligible / (eligible + ne) if eligible + ne else 1.0

    def ratio(a: float, b: float) -> float | None:
        return a / b if b > 0 else None

    return {
        "RR1": ratio(i, eligible + u),
        "RR2": ratio(i + p, eligible + u),
        "RR3": ratio(i, eligible + e * u),
        "COOP1": ratio(i, i + p + r + o),
        "REF1": ratio(r, eligible + u),
        "e": e,
    }


def exact_reach(
    report: dict[str, Any],
    known_counts: dict[Hashable, float],
    ranges: dict[Hashable, tuple[float, float]],
    decimals: int | None,
    bounds_of: Callable[..., tuple[float, float] | None],
) -> list[tuple[Hashable, int]]:
    """Hidden dispositions that the published rates pin down through AAPOR's exact formulas
    (RR3 with *e* estimated from the same counts is not linear, so the MILP holds only its
    relaxation): every integer filling of the hidden dispositions inside the MILP's ranges
    that keeps the published total is checked against every published rate and *e*. Returns
    the hidden dispositions with the one value they can take (``bounds_of`` reads a published
    figure's interval, as the auditor does)."""
    reach = report["reach"]
    if reach["kind"] != "contacts":
        return []
    d = reach["dispositions"]
    names = [k for k in d if k != "total"]
    total = known_counts.get(("disposition", "total"))
    if total is None:
        return []
    known = {
        k: int(known_counts[("disposition", k)])
        for k in names
        if ("disposition", k) in known_counts
    }
    hidden = [k for k in names if k not in known]
    if not hidden:
        return []
    spans = [range(int(ranges[("disposition", k)][0]), int(ranges[("disposition", k)][1]) + 1)
             if ("disposition", k) in ranges else range(0, int(total) + 1) for k in hidden]  # fmt: skip
    size = 1
    for span in spans[:-1]:
        size *= len(span)
    if size * (int(total) + 1) > EXACT_LIMIT:
        return []
    published = {name: bounds_of(reach["rates"].get(name), decimals) for name in reach["rates"]}
    published["e"] = bounds_of(reach.get("e") if reach.get("e") is not None else
                             ({"range": reach["e_range"]} if reach.get("e_range") else None),
                             decimals)  # fmt: skip
    rest = int(total) - sum(known.values())
    seen: dict[str, set[int]] = {k: set() for k in hidden}
    for head in itertools.product(*spans[:-1]):
        last = rest - sum(head)
        if last not in spans[-1]:
            continue
        counts = known | dict(zip(hidden, (*head, last), strict=True))
        for attempted in range(counts.get("pending", 0) + 1):
            rates = aapor_rates(counts, attempted)
            if all(
                bounds is None
                or (rates[name] is not None and bounds[0] <= rates[name] <= bounds[1])
                for name, bounds in published.items()
            ):
                for k in hidden:
                    seen[k].add(counts[k])
                break
    return [(("disposition", k), min(v)) for k, v in seen.items() if len(v) == 1 and max(v) >= 1]
