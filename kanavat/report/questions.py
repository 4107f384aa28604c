"""Per-question results: distributions, breakdowns, means, free text, all already suppressed.

One question's main table and all its breakdowns are protected together, because the main
table's counts are the column totals of every breakdown: hiding a cell in one and showing the
same sum in the other would undo the suppression.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kanavat.privacy.redact import redact
from kanavat.questions.dialog import value_label
from kanavat.questions.model import (
    NumberQuestion,
    Question,
    ScaleQuestion,
    TextQuestion,
    valid_values,
)
from kanavat.questions.normalise import DONT_KNOW
from kanavat.report import stats, suppress
from kanavat.report.data import AnswerRow, TextAnswers
from kanavat.report.disclosure import Ledger, half_width_for, step_for, step_for_weighted
from kanavat.report.texts import texts

N = "__n__"
ALL = "__all__"
GIVEN = ("answered", "dont_know")
NPS_CLASSES = {
    "detractors": tuple(stats.DETRACTORS),
    "passives": (7, 8),
    "promoters": tuple(stats.PROMOTERS),
}
"""An NPS question's breakdowns count these three classes, not the eleven scores: a service
unit of 30 people has scores of 1-4 people that would hide its NPS, but not classes."""
"""Statuses that count as an answer to the question (the share base)."""


@dataclass(frozen=True)
class Context:
    """What building a question needs besides its answers."""

    language: str
    min_cell: int
    pool: dict[str, int] | None
    """Stratum -> pool size for a stratified sample (answers are weighted); None: unweighted."""
    stratum_of: Callable[[str], str | None]
    group_of: Callable[[str, AnswerRow], str | None]
    breakdowns: list[str]
    """The attributes shown."""
    universe: list[str]
    """Every attribute a variant of the report could show: all are protected together."""
    stratify: list[str]
    redacted: str


def closed_categories(q: Question, language: str, values: list[Any]) -> list[tuple[Any, str]]:
    """The categories a question's answers are counted in, in the order asked."""
    allowed = valid_values(q)
    if allowed is not None:
        cats = [(v, value_label(q, v, language)) for v in allowed]
    elif isinstance(q, NumberQuestion):
        cats = [(b, label) for b, label in number_bins(q, values)]
    else:
        return []
    return [*cats, (DONT_KNOW, value_label(q, DONT_KNOW, language))]


def number_bins(q: NumberQuestion, values: list[Any]) -> list[tuple[str, str]]:
    """Equal-width bins of a round width (1, 2, 5, 10, ...) over the observed range, at most 8."""
    numbers = [v for v in values if isinstance(v, int | float)]
    low, high = (min(numbers), max(numbers)) if numbers else (q.min, q.max)
    low, high = math.floor(low), math.floor(high)
    for width in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if (high // width - low // width) + 1 <= 8:
            break
    start = (low // width) * width
    bins = []
    while start <= high:
        end = start + width - 1
        bins.append((f"{start}-{end}" if width > 1 else str(start), _bin_label(start, end)))
        start += width
    return bins


def _bin_label(start: int, end: int) -> str:
    return str(start) if start == end else f"{start}–{end}"


def bin_of(value: Any, bins: list[tuple[str, str]]) -> str | None:
    if not isinstance(value, int | float):
        return None
    for key, _ in bins:
        lo, _, hi = key.partition("-")
        if int(lo) <= value <= int(hi or lo):
            return key
    return None


def build_question(
    q: Question,
    position: int,
    answers: list[AnswerRow],
    ctx: Context,
    ledger: Ledger,
    texts: TextAnswers | None = None,
    *,
    stream: bool = False,
) -> dict[str, Any]:
    """One question's results. A free-text question lists ``texts`` (else its ``answers``'
    own texts); with ``stream`` the list is read from the store as it is written out."""
    given = [a for a in answers if a.status in GIVEN]
    no_answer = sum(a.n for a in answers if a.status not in GIVEN)
    n_given = sum(a.n for a in given)
    out: dict[str, Any] = {
        "id": q.id,
        "position": position,
        "type": q.type,
        "text": q.text.get(ctx.language) or next(iter(q.text.values())),
        "asked_if": _asked_if(q),
        "format": _format(q, ctx.language),
        "no_answer": ledger.cell(("q", q.id, "no_answer"), no_answer),
    }
    if isinstance(q, TextQuestion):
        return out | _free_text(texts or TextAnswers.of(answers), ctx, stream)
    categories = closed_categories(q, ctx.language, [a.value for a in given])
    keys = [k for k, _ in categories]
    bins = categories[:-1] if isinstance(q, NumberQuestion) else None

    def category_of(status: str, value: Any) -> Any:
        if status == "dont_know" or value == DONT_KNOW:
            return DONT_KNOW
        return bin_of(value, bins) if bins is not None else value

    seen: dict[tuple[str, Any, type], Any] = {}  # a few distinct values among many rows

    def category(a: AnswerRow) -> Any:
        try:
            return seen[(a.status, a.value, type(a.value))]
        except KeyError:
            found = seen[(a.status, a.value, type(a.value))] = category_of(a.status, a.value)
            return found
        except TypeError:  # an unhashable value
            return category_of(a.status, a.value)

    def key(row: Any, column: Any) -> tuple[Any, ...]:
        return ("q", q.id, row, column)

    weights = _weights(given, ctx)
    rows: dict[Any, list[AnswerRow]] = {ALL: given}
    # Rows alike in profile, channel and language fall in the same groups: found once.
    groups_of: dict[tuple[str, str, str], tuple[str | None, ...]] = {}
    by_attribute: list[dict[str | None, list[AnswerRow]]] = [{} for _ in ctx.universe]
    for a in given:
        alike = (a.respondent, a.channel, a.language)
        found = groups_of.get(alike)
        if found is None:
            found = groups_of[alike] = tuple(ctx.group_of(x, a) for x in ctx.universe)
        for groups, g in zip(by_attribute, found, strict=True):
            groups.setdefault(g, []).append(a)
    for attribute, groups in zip(ctx.universe, by_attribute, strict=True):
        if len(groups) > 1:
            for g in sorted(groups, key=lambda x: (x is None, str(x))):
                rows[(attribute, g)] = groups[g]
    group_categories, group_category = categories, category
    if q.type == "nps":
        group_categories, group_category = _nps_classes(categories, category, ctx.language)
    group_keys = [k for k, _ in group_categories]
    counts = {
        r: _count(rows[r], keys, category)
        if r == ALL
        else _count(rows[r], group_keys, group_category)
        for r in rows
    }
    if group_keys != keys:  # the main table's classes: sums of its scores, not shown
        classes = _count(given, group_keys, group_category)
        for name, scores in NPS_CLASSES.items():
            ledger.count(key(ALL, name), classes[name])
            ledger.line([key(ALL, v) for v in scores], key(ALL, name))
    _register(counts, keys, key, ctx, ledger, group_keys)
    ledger.count(key(ALL, N), n_given, out, "n", total=True)
    out["weighted"] = weights is not None
    out["categories"] = [_category(key(ALL, value), label, ledger) for value, label in categories]
    for c in out["categories"]:
        ledger.derive(c, ("share", "estimate", "ci"), (key(ALL, c["value"]), key(ALL, N)))
    _estimates(out["categories"], given, category, weights, ctx, ledger)
    numeric = isinstance(q, ScaleQuestion)
    every_cell = [key(ALL, v) for v in [*keys, N]]
    if numeric or isinstance(q, NumberQuestion):
        # A mean (or median) with a hidden category would give it back: hidden with any.
        out["mean"] = _mean(given, weights)
        if weights is not None and out["mean"]:
            span = (q.max - q.min) if isinstance(q, ScaleQuestion) else 1
            step = step_for(half_width_for(n_given)) * span
            ledger.round(out["mean"], ("estimate",), step)
        if isinstance(q, NumberQuestion):
            out["median"] = _median([(a.value, a.n) for a in given])
        ledger.derive(out, ("mean", "median"), every_cell, mark=False)
    if q.type == "nps":
        out["nps"] = _nps(ALL, counts[ALL], key, ledger)
    out["breakdowns"] = []
    for attribute in ctx.breakdowns:
        groups = [r for r in rows if r != ALL and r[0] == attribute]
        if not groups:
            continue
        shown = []
        for r in groups:
            group = _group(
                r,
                rows[r],
                group_categories,
                key,
                group_category,
                weights,
                numeric and q.type != "nps",  # a unit's mean would give its scores away
                ledger,
            )
            if q.type == "nps":
                group["nps"] = _nps(r, _scores_of(counts[r]), key, ledger, classes=True)
            shown.append(group)
        out["breakdowns"].append({"by": attribute, "groups": shown})
    return out


def _nps_classes(
    categories: list[tuple[Any, str]], category: Callable, language: str
) -> tuple[list[tuple[Any, str]], Callable]:
    """A breakdown's categories for an NPS question: its three classes and "don't know"."""
    label = texts(language)["question"]
    of = {v: name for name, scores in NPS_CLASSES.items() for v in scores}
    cats = [(name, label[f"nps_{name}"]) for name in NPS_CLASSES]
    cats += [c for c in categories if c[0] == DONT_KNOW]

    def in_class(a: AnswerRow) -> Any:
        c = category(a)
        return of.get(c, c)

    return cats, in_class


def _scores_of(classes: dict[Any, int]) -> dict[Any, int]:
    """Class counts as score counts (one score stands for its class), for ``stats.nps``."""
    return {
        **dict.fromkeys(range(11), 0),
        0: classes["detractors"],
        7: classes["passives"],
        9: classes["promoters"],
        DONT_KNOW: classes.get(DONT_KNOW, 0),
        N: classes[N],
    }


def _nps(
    row: Any,
    counts: dict[Any, int],
    key: Callable[[Any, Any], tuple[Any, ...]],
    ledger: Ledger,
    *,
    classes: bool = False,
) -> dict[str, Any]:
    """The Net Promoter Score of a row, exact when its parts are shown (or give it anyway),
    else as a range; its interval only when exact. ``classes``: the row counts classes (a
    breakdown's group), given as one score per class."""
    out: dict[str, Any] = {"value": stats.nps(counts), "ci": None, "suppressed": False}
    if classes:
        names = {0: "detractors", 7: "passives", 9: "promoters"}
        parts = {str(v): (key(row, name), counts[v]) for v, name in names.items()}
    else:
        parts = {str(v): (key(row, v), counts[v]) for v in range(11)}
    parts[DONT_KNOW] = (key(row, DONT_KNOW), counts[DONT_KNOW])
    ledger.rate(
        out, lambda c: stats.nps({v: c.get(str(v), 0) for v in range(11)}), parts, key(row, N)
    )

    def interval() -> None:
        if out["value"] is not None:
            out["ci"] = list(stats.nps_interval(counts) or ()) or None

    ledger.then(interval)
    return out


def _register(
    counts: dict[Any, dict[Any, int]],
    keys: list[Any],
    key: Callable[[Any, Any], tuple[Any, ...]],
    ctx: Context,
    ledger: Ledger,
    group_keys: list[Any] | None = None,
) -> None:
    """One question's main table and every breakdown's cells, with the relations a reader can
    subtract along: each row and its n, each breakdown's column and the main table's cell,
    and the strata of each value of a stratifying attribute and that value's group. The
    breakdowns count ``group_keys`` (an NPS question's classes) if given, else ``keys``."""
    main_keys = keys
    keys = group_keys or keys
    for r, row in counts.items():
        small = suppress.is_small(row[N], ctx.min_cell)
        row_keys = main_keys if r == ALL else keys
        for k in [*row_keys, N]:
            ledger.count(key(r, k), row[k], total=r == ALL or k == N, forced=small)
        ledger.line([key(r, k) for k in row_keys], key(r, N))
        if r != ALL:  # a group whose n is hidden shows none of its cells
            ledger.together(key(r, N), [key(r, k) for k in keys])
    for attribute in ctx.universe:
        groups = [r for r in counts if r != ALL and r[0] == attribute]
        for k in [*keys, N]:
            if groups:
                ledger.line([key(g, k) for g in groups], key(ALL, k))
    strata = [r for r in counts if r != ALL and r[0] == "stratum" and r[1] is not None]
    for i, attribute in enumerate(ctx.stratify):
        for r in counts:
            if r == ALL or r[0] != attribute:
                continue
            inside = [s for s in strata if s[1].split("|")[i : i + 1] == [r[1]]]
            for k in [*keys, N]:
                if inside:
                    ledger.line([key(s, k) for s in inside], key(r, k))


def _format(q: Question, language: str) -> dict[str, Any]:
    """How the question was put: its options, scale anchors or number range."""

    def local(text: dict[str, str] | None) -> str | None:
        return (text.get(language) or next(iter(text.values()), None)) if text else None

    if isinstance(q, ScaleQuestion):
        return {
            "min": q.min,
            "max": q.max,
            "min_label": local(q.min_label),
            "max_label": local(q.max_label),
        }
    if isinstance(q, NumberQuestion):
        return {"min": q.min, "max": q.max, "unit": local(q.unit)}
    if isinstance(q, TextQuestion):
        return {"max_length": q.max_length}
    return {
        "options": [
            {"value": v, "label": value_label(q, v, language)} for v in valid_values(q) or []
        ]
    }


def _asked_if(q: Question) -> dict[str, list[Any]] | None:
    if not q.when:
        return None
    return {
        k: [("yes" if w else "no") if isinstance(w, bool) else w for w in v]
        if isinstance(v, list)
        else [("yes" if v else "no") if isinstance(v, bool) else v]
        for k, v in q.when.items()
    }


def _count(rows: list[AnswerRow], keys: list[Any], category: Callable) -> dict[Any, int]:
    counts = dict.fromkeys(keys, 0)
    for a in rows:
        c = category(a)
        if c in counts:
            counts[c] += a.n
    counts[N] = sum(a.n for a in rows)
    return counts


def _category(cell: tuple[Any, ...], label: str, ledger: Ledger) -> dict[str, Any]:
    value = cell[-1]
    out: dict[str, Any] = {"value": value, "label": label}
    ledger.count(cell, ledger.values[cell], out)
    n = ledger.values[(*cell[:-1], N)]
    out["share"] = out["count"] / n if n else None
    out["estimate"] = out["share"]
    out["ci"] = None
    out["suppressed"] = False
    return out


def _estimates(
    categories: list[dict[str, Any]],
    given: list[AnswerRow],
    category: Callable,
    weights: dict[str, float] | None,
    ctx: Context,
    ledger: Ledger,
) -> None:
    """Each category's estimate and 95 % interval (post-stratified if a sample, then rounded
    to the step its interval supports)."""
    n = sum(a.n for a in given)
    # Stratum -> its respondents, and its respondents by category.
    per_stratum: dict[str | None, tuple[list[int], dict[Any, int]]] = {}
    if weights is not None and n:
        for a in given:
            h = ctx.stratum_of(a.respondent)
            if h not in per_stratum:
                per_stratum[h] = ([0], {})
            total_n, hits = per_stratum[h]
            total_n[0] += a.n
            c = category(a)
            hits[c] = hits.get(c, 0) + a.n
        heaviest, total = _heaviest(given, weights)
    for c in categories:
        if not n:
            continue
        if weights is None:
            c["ci"] = list(stats.wilson(c["count"], n) or ())
            continue
        strata = [
            stats.Stratum(
                pool=(ctx.pool or {}).get(h or "", 0),
                respondents=total_n[0],
                hits=hits.get(c["value"], 0),
            )
            for h, (total_n, hits) in per_stratum.items()
        ]
        result = stats.stratified_share(strata)
        if result:
            c["estimate"], interval = result
            c["ci"] = list(interval)
            half = max(interval[1] - c["estimate"], c["estimate"] - interval[0])
            step = step_for_weighted(max(half, half_width_for(n) / 2), heaviest, total)
            ledger.round(c, ("estimate", "ci"), step)


def _weights(given: list[AnswerRow], ctx: Context) -> dict[str, float] | None:
    """Respondent -> post-stratification weight for this question's respondents."""
    if ctx.pool is None:
        return None
    per_stratum: dict[str, int] = {}
    for a in given:
        h = ctx.stratum_of(a.respondent) or ""
        per_stratum[h] = per_stratum.get(h, 0) + a.n
    by_stratum = stats.stratum_weights(ctx.pool, per_stratum)
    return {a.respondent: by_stratum.get(ctx.stratum_of(a.respondent) or "", 0.0) for a in given}


def _mean(given: list[AnswerRow], weights: dict[str, float] | None) -> dict[str, Any] | None:
    values = [(a.value, a.respondent, a.n) for a in given if isinstance(a.value, int | float)]
    if not values:
        return None
    plain = sum(v * n for v, _, n in values) / sum(n for _, _, n in values)
    if weights is None:
        return {"value": plain, "estimate": plain}
    total = sum(weights.get(r, 0.0) * n for _, r, n in values)
    estimate = sum(v * weights.get(r, 0.0) * n for v, r, n in values) / total if total else None
    return {"value": plain, "estimate": estimate}


def _median(counted: list[tuple[Any, int]]) -> float | None:
    """The median of values given with their counts (as ``statistics.median`` of them all)."""
    values = sorted((v, n) for v, n in counted if isinstance(v, int | float) and n > 0)
    total = sum(n for _, n in values)
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]
    found: list[float] = []
    seen = 0
    for v, n in values:
        found += [v] * sum(1 for m in middle if seen <= m < seen + n)
        seen += n
    return found[0] if found[0] == found[1] else (found[0] + found[1]) / 2


def _heaviest(rows: list[AnswerRow], weights: dict[str, float]) -> tuple[float, float]:
    """The largest weight of one person among ``rows``, and all their weights together."""
    return (
        max((weights.get(a.respondent, 0.0) for a in rows), default=0.0),
        sum(weights.get(a.respondent, 0.0) * a.n for a in rows),
    )


def _group(
    row: tuple[str, str | None],
    rows: list[AnswerRow],
    categories: list[tuple[Any, str]],
    key: Callable[[Any, Any], tuple[Any, ...]],
    category: Callable,
    weights: dict[str, float] | None,
    numeric: bool,
    ledger: Ledger,
) -> dict[str, Any]:
    n = sum(a.n for a in rows)
    # Each row's weight and weighted count, found once (summed in row order, as always).
    each = [weights.get(a.respondent, 0.0) for a in rows] if weights is not None else []
    weighted = [w * a.n for w, a in zip(each, rows, strict=True)] if each else []
    total_weight = sum(weighted) if weights else 0.0
    step = step_for(half_width_for(n))
    if weights is not None:
        step = step_for_weighted(half_width_for(n), max(each, default=0.0), sum(weighted))
    terms: dict[Any, list[float]] = {}  # category -> its rows' weighted counts, in row order
    if weights is not None and total_weight:
        for a, w in zip(rows, weighted, strict=True):
            terms.setdefault(category(a), []).append(w)
    cells = []
    for value, label in categories:
        cell = _category(key(row, value), label, ledger)
        del cell["ci"]
        if weights is not None and total_weight:
            hit = sum(terms.get(value, ()))
            cell["estimate"] = hit / total_weight
            ledger.round(cell, ("estimate",), step)
        ledger.derive(cell, ("share", "estimate"), (key(row, value), key(row, N)))
        cells.append(cell)
    group: dict[str, Any] = {"group": row[1]}
    ledger.count(key(row, N), n, group, "n")
    group["cells"] = cells
    if numeric:
        group["mean"] = _mean(rows, weights)
        if weights is not None and group["mean"]:
            ledger.round(group["mean"], ("estimate",), step * 4)
        on = [key(row, v) for v, _ in categories] + [key(row, N)]
        ledger.derive(group, ("mean",), on, mark=False)
    return group


def _free_text(texts: TextAnswers, ctx: Context, stream: bool) -> dict[str, Any]:
    """Free-text answers, redacted, ordered by pseudonym (not by time, which could link them
    to a call log); none listed if fewer than ``min_cell`` people wrote one."""
    hidden = suppress.is_small(texts.count, ctx.min_cell)
    listed = Listed(texts, ctx.redacted)
    return {
        "n": None if hidden else texts.count,
        "suppressed": hidden,
        "weighted": False,
        "answers": [] if hidden else listed if stream else list(listed),
    }


class Listed:
    """A free-text question's answers as the report lists them, ``{"respondent", "text"}``
    redacted, read from the store while they are iterated: writing 200,000 of them keeps
    one chunk in memory, not all (``json_out`` writes it as a list)."""

    def __init__(self, texts: TextAnswers, replacement: str) -> None:
        self.texts = texts
        self.replacement = replacement

    def __len__(self) -> int:
        return self.texts.count

    def __iter__(self) -> Iterator[dict[str, str]]:
        cleaned: dict[str, str] = {}  # many people write the same words: redact each once
        for respondent, text in self.texts.texts():
            if text not in cleaned:
                if len(cleaned) > 10_000:
                    cleaned.clear()
                cleaned[text] = redact(text, self.replacement).strip()
            yield {"respondent": respondent, "text": cleaned[text]}
