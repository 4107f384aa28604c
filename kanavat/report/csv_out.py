"""The report as one tidy CSV table: a row per published number, for spreadsheets.

Every row has the same columns; ``section`` says what the number is. Hidden cells are rows
with empty numbers and ``suppressed`` = 1, so a spreadsheet sees the gap instead of a zero.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO, Any

from kanavat.report import conversation_render

COLUMNS = (
    "campaign",
    "section",
    "question",
    "by",
    "group",
    "category",
    "label",
    "count",
    "share",
    "estimate",
    "ci_low",
    "ci_high",
    "suppressed",
)


def rows(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    campaign = report["campaign"]["id"]

    def row(section: str, **values: Any) -> dict[str, Any]:
        return {"campaign": campaign, "section": section, **values}

    def cell(c: dict[str, Any]) -> dict[str, Any]:
        return {"count": c["count"], "suppressed": int(c["suppressed"])}

    yield row("respondents", **cell(report["respondents"]))
    reach = report["reach"]
    if reach["kind"] == "contacts":
        for r in [*reach["by_channel"], {"channel": "total", **reach["total"]}]:
            for what in ("contacted", "reached", "completed"):
                yield row("reach", group=r["channel"], category=what, **cell(r[what]))
        for name, c in reach["dispositions"].items():
            yield row("disposition", category=name, **cell(c))
        for name, rate in reach["rates"].items():
            low, high = rate.get("range") or (None, None)  # a range when its parts are hidden
            yield row(
                "rate",
                category=name,
                estimate=rate["value"],
                ci_low=low,
                ci_high=high,
                suppressed=int(rate["suppressed"]),
            )
        yield row("rate", category="e", estimate=reach["e"], suppressed=0)
    else:
        for name, c in reach["sessions"].items():
            yield row("sessions", category=name, **cell(c))
    for s in (report["sample"] or {}).get("strata", []):
        yield row("stratum", group=s["stratum"], category="pool", count=s["pool"], suppressed=0)
        yield row(
            "stratum", group=s["stratum"], category="sampled", count=s["sampled"], suppressed=0
        )
        yield row("stratum", group=s["stratum"], category="respondents", **cell(s["respondents"]))
        hidden = int(s["respondents"]["suppressed"])
        yield row(
            "stratum", group=s["stratum"], category="rr1", estimate=s["rr1"], suppressed=hidden
        )
        yield row(
            "stratum",
            group=s["stratum"],
            category="weight",
            estimate=s["weight"],
            suppressed=hidden,
        )
    for q in report["questions"]:
        yield from _question(q, row)
    kinds = report["input_kinds"]
    for k in kinds["by_kind"]:
        for channel, c in k["by_channel"].items():
            yield row("input_kind", group=channel, category=k["kind"], **cell(c))
        yield row("input_kind", group="total", category=k["kind"], **cell(k["total"]))
    yield row("input_kind", group="total", category="total", **cell(kinds["total"]))
    yield row("speech", category="confirmed", **cell(kinds["speech_confirmed"]))
    yield row("speech", category="not_confirmed", **cell(kinds["speech_not_confirmed"]))


def _question(q: dict[str, Any], row) -> Iterator[dict[str, Any]]:
    qid = q["id"]
    hidden = int(q.get("suppressed", False))
    yield row("question_n", question=qid, count=q.get("n"), suppressed=hidden)
    for a in q.get("answers", []):
        yield row("free_text", question=qid, label=a["text"], suppressed=0)
    yield from _themes(q, row)
    for c in q.get("categories", []):
        low, high = c["ci"] or (None, None)
        yield _category_row(row("question", question=qid, ci_low=low, ci_high=high), c)
    for c in (q.get("compare") or {}).get("categories", []):
        ci = c["change_ci"] or [None, None]
        yield row(
            "change",
            question=qid,
            category=c["value"],
            estimate=c["change"],
            ci_low=ci[0],
            ci_high=ci[1],
            suppressed=int(c["change"] is None),
        )
    if "mean" in q:
        yield _mean_row(row("mean", question=qid), q["mean"])
    if "nps" in q:
        yield _nps_row(row("nps", question=qid), q["nps"])
    for b in q.get("breakdowns", []):
        for g in b["groups"]:
            at = {"question": qid, "by": b["by"], "group": "" if g["group"] is None else g["group"]}
            if "nps" in g:
                yield _nps_row(row("breakdown_nps", **at), g["nps"])
            yield row("breakdown_n", **at, count=g["n"], suppressed=int(g["suppressed"]))
            for c in g["cells"]:
                yield _category_row(row("breakdown", **at), c)
            if "mean" in g:
                yield _mean_row(row("breakdown_mean", **at), g["mean"])


def _themes(q: dict[str, Any], row) -> Iterator[dict[str, Any]]:
    """A text question's themes: a ``theme`` row each (label: its name or words), its spread
    as ``theme_breakdown`` rows and its quotes as ``theme_quote`` rows."""
    themes = q.get("themes")
    if not themes:
        return
    qid = q["id"]
    items = [*themes["items"], *([themes["other"]] if themes["other"] else [])]
    for item in items:
        label = item["name"] or ", ".join(item["words"]) or item["id"]
        hidden = int(item["suppressed"])
        yield row(
            "theme",
            question=qid,
            category=item["id"],
            label=label,
            count=item["count"],
            share=item["share"],
            suppressed=hidden,
        )
        for attribute, cells in item["by"].items():
            for c in cells:
                yield row(
                    "theme_breakdown",
                    question=qid,
                    by=attribute,
                    group=c["group"],
                    category=item["id"],
                    count=c["count"],
                    suppressed=int(c["suppressed"]),
                )
        for quote in item["quotes"]:
            yield row("theme_quote", question=qid, category=item["id"], label=quote, suppressed=0)


def _category_row(base: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
    """One category of a question or of a breakdown's group: its count, share and estimate."""
    return base | {
        "category": c["value"],
        "label": c["label"],
        "count": c["count"],
        "share": c["share"],
        "estimate": c["estimate"],
        "suppressed": int(c["suppressed"]),
    }


def _mean_row(base: dict[str, Any], mean: dict[str, Any] | None) -> dict[str, Any]:
    """A mean, or an empty hidden row when it is not published."""
    return base | {"estimate": mean["estimate"] if mean else None, "suppressed": int(mean is None)}


def _nps_row(base: dict[str, Any], nps: dict[str, Any] | None) -> dict[str, Any]:
    """An NPS in points: its interval, or the range it lies in when its parts are hidden."""
    nps = nps or {}
    low, high = nps.get("ci") or nps.get("range") or (None, None)
    hidden = int(nps.get("value") is None)
    return base | {
        "estimate": nps.get("value"),
        "ci_low": low,
        "ci_high": high,
        "suppressed": hidden,
    }


def _text(value: Any) -> Any:
    if value is None:
        return ""
    return round(value, 6) if isinstance(value, float) else value


def write(out: IO[str], report: dict[str, Any]) -> int:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for r in [*rows(report), *conversation_render.csv_rows(report)]:
        writer.writerow({k: _text(r.get(k)) for k in COLUMNS})
        count += 1
    return count
