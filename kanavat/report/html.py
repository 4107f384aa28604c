"""The council report as one self-contained HTML page (inline CSS and SVG, no scripts).

It renders the report dict from ``report.build`` and nothing else, so it can show no number
the JSON hides. Every value passes through ``e()`` (``html.escape``): question texts, labels
and above all free-text answers are treated as hostile.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

from kanavat.questions.normalise import DONT_KNOW
from kanavat.report import conversation_render
from kanavat.report.svg import Bar, bar_chart
from kanavat.report.texts import texts

HERE = Path(__file__).parent
DASH = "–"


def e(value: Any) -> str:
    return escape(str(value), quote=True)


class Format:
    """Numbers, shares and dates the way the report's language writes them."""

    def __init__(self, language: str, zone: str | None = None):
        self.t = texts(language)
        self.zone = ZoneInfo(zone) if zone else None

    def num(self, n: float | None, decimals: int = 0) -> str:
        if n is None:
            return DASH
        text = f"{n:,.{decimals}f}"
        return (
            text.replace(",", "\0")
            .replace(".", self.t["decimal"])
            .replace("\0", self.t["thousands"])
        )

    def pct(self, share: float | None, decimals: int = 0) -> str:
        if share is None:
            return DASH
        return self.t["percent"].format(value=self.num(share * 100, decimals))

    def pp(self, change: float | None) -> str:
        if change is None:
            return DASH
        sign = "+" if change > 0.0005 else ("−" if change < -0.0005 else "±")
        return self.t["compare"]["pp"].format(value=sign + self.num(abs(change) * 100, 1))

    def rate(self, rate: dict[str, Any], decimals: int = 1) -> str:
        """A rate, or the range it lies in when its parts are hidden."""
        if rate.get("value") is None and rate.get("range"):
            low, high = rate["range"]
            return f"{self.num(low * 100, decimals)}–{self.pct(high, decimals)}"
        return self.pct(rate.get("value"), decimals)

    def points(self, nps: dict[str, Any] | None) -> str:
        """An NPS in points with its interval ("+45 (38…52)"), or its range when hidden."""
        if not nps:
            return DASH

        def signed(x: float) -> str:
            return ("+" if x > 0.05 else ("−" if x < -0.05 else "")) + self.num(abs(x), 0)

        if nps.get("value") is None:
            if nps.get("range"):
                low, high = nps["range"]
                return f"{signed(low)}…{signed(high)}"
            return DASH
        ci = nps.get("ci")
        return signed(nps["value"]) + (f" ({signed(ci[0])}…{signed(ci[1])})" if ci else "")

    def ci(self, interval: list[float] | None) -> str:
        if not interval:
            return DASH
        low, high = interval
        return f"{self.num(low * 100, 0)}–{self.pct(high)}"

    def date(self, text: str | None) -> str:
        """A day ("2026-12-04"), or an instant's day in the county's time zone: a report built
        at 00:30 in Helsinki is dated that day, not the day before as UTC has it."""
        if not text:
            return DASH
        if len(text) > 10 and self.zone is not None:
            text = datetime.fromisoformat(text).astimezone(self.zone).date().isoformat()
        y, m, d = int(text[:4]), int(text[5:7]), int(text[8:10])
        months = self.t.get("months")
        month = months[m - 1] if months else m
        return self.t["date"].format(d=d, m=m, y=y, month=month)

    def count(self, cell: dict[str, Any] | None) -> str:
        return DASH if not cell or cell.get("count") is None else self.num(cell["count"])


def render(report: dict[str, Any]) -> str:
    t = texts(report["language"])
    f = Format(report["language"], report["campaign"].get("timezone"))
    c = report["campaign"]
    body = [
        _header(report, t, f),
        _figures(report, t, f),
        _reach(report, t, f),
        _sample(report, t, f),
        f"<h2>{e(t['question']['heading'])}</h2>",
    ]
    if report["comparison"]:
        other = report["comparison"]["campaign"]
        intro = t["compare"]["intro"].format(other=f"{other['id']} ({other['title']})")
        body.append(f'<p class="note">{e(intro)}</p>')
    body += [_question(q, report, t, f) for q in report["questions"]]
    body += [
        _loop(report, t, f),
        conversation_render.html(report, t, f),
    ]  # issue 20: empty for questionnaires
    body += [_inputs(report, t, f), _method(report, t, f)]
    template = Template((HERE / "template.html").read_text("utf-8"))
    return template.substitute(
        lang=e(report["language"]),
        version=e(report["version"]),
        title=e(f"{c['title']} – {t['report_for'].format(council=c['council'])}"),
        css=(HERE / "report.css").read_text("utf-8"),
        body="\n".join(part for part in body if part),
    )


def _header(report: dict[str, Any], t: dict, f: Format) -> str:
    c = report["campaign"]
    channels = ", ".join(t["channel"].get(ch, ch) for ch in c["channels"])
    status = t["status_name"].get(c["status"] or "", c["status"] or DASH)
    meta = [
        (t["campaign"], c["id"]),
        (t["period"], f"{f.date(c['start'])} – {f.date(c['end'])}"),
        (t["channels"], channels),
        (t["status"], status),
        (t["generated"], f.date(report["generated_at"])),
    ]
    interim = (
        f'<p class="interim">{e(t["interim"])}</p>'
        if c["status"] in ("scheduled", "running", "paused")
        else ""
    )
    rows = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in meta)
    return (
        f'<header><p class="county">{e(c["county"])}</p><h1>{e(c["title"])}</h1>'
        f'<p class="council">{e(t["report_for"].format(council=c["council"]))}</p>'
        f'<dl class="meta">{rows}</dl>{interim}</header>'
    )


def _figures(report: dict[str, Any], t: dict, f: Format) -> str:
    s = t["summary"]
    items = [(f.count(report["respondents"]), s["respondents"])]
    reach = report["reach"]
    if reach["kind"] == "contacts":
        items.append((f.rate(reach["rates"]["RR1"]), s["rr1"]))
        items.append((f.rate(reach["rates"]["RR3"]), s["rr3"]))
        items.append((f.count(reach["total"]["completed"]), s["completed"]))
    else:
        items.append((f.count(reach["sessions"]["started"]), s["sessions"]))
        items.append((f.count(reach["sessions"]["completed"]), s["completed"]))
    items.append((f.count(report["input_kinds"]["total"]), s["answers"]))
    cards = "".join(
        f'<div class="figure"><span class="number">{e(n)}</span><span class="what">{e(w)}</span></div>'
        for n, w in items
    )
    return f'<section class="figures">{cards}</section>'


def _table(
    head: list[str], rows: list[list[Any]], numeric_from: int = 1, total_last: bool = False
) -> str:
    """A table of already-escaped cells; columns from ``numeric_from`` are right-aligned."""
    ths = "".join(
        f"<th{' class=num' if i >= numeric_from else ''}>{h}</th>" for i, h in enumerate(head)
    )
    body = []
    for r, row in enumerate(rows):
        cls = ' class="total"' if total_last and r == len(rows) - 1 else ""
        tds = "".join(_td(v, i >= numeric_from) for i, v in enumerate(row))
        body.append(f"<tr{cls}>{tds}</tr>")
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _td(value: str | tuple[str, str], numeric: bool) -> str:
    """One cell; a ``(text, style)`` pair carries an inline style (the breakdowns' shading)."""
    text, style = value if isinstance(value, tuple) else (value, "")
    classes = " ".join(c for c in ("num" if numeric else "", "hidden" if text == DASH else "") if c)
    attrs = (f' class="{classes}"' if classes else "") + (f' style="{style}"' if style else "")
    return f"<td{attrs}>{text}</td>"


def _reach(report: dict[str, Any], t: dict, f: Format) -> str:
    r, reach = t["reach"], report["reach"]
    out = [f"<h2>{e(r['heading'])}</h2>"]
    if reach["kind"] == "sessions":
        s = reach["sessions"]
        out.append(f"<p>{e(r['intro_sessions'])}</p>")
        out.append(
            _table(
                [e(r["started"]), e(r["sessions_completed"]), e(r["not_completed"])],
                [[f.count(s["started"]), f.count(s["completed"]), f.count(s["not_completed"])]],
                numeric_from=0,
            )
        )
        return "".join(out)
    cols = ("contacted", "reached", "completed")
    d = reach["dispositions"]
    out.append(f"<p>{e(r['intro_contacts'].format(contacts=f.count(d['total'])))}</p>")
    rows = [
        [e(t["channel"].get(row["channel"], row["channel"]))] + [f.count(row[c]) for c in cols]
        for row in reach["by_channel"]
    ]
    rows.append([e(r["total"])] + [f.count(reach["total"][c]) for c in cols])
    out.append(_table([e(r["channel"])] + [e(r[c]) for c in cols], rows, total_last=True))
    dt = t["disposition"]
    out.append(f"<h3>{e(dt['heading'])}</h3>")
    names = [k for k in d if k != "total" and (d[k]["count"] != 0)]
    rows = [[e(dt[k]), f.count(d[k])] for k in names] + [[e(dt["total"]), f.count(d["total"])]]
    out.append(_table([e(dt["outcome"]), e(dt["count"])], rows, total_last=True))
    rt = t["rates"]
    out.append(f"<h3>{e(rt['heading'])}</h3><p>{e(rt['intro'])}</p>")
    rows = [[e(rt[name]), f.rate(v)] for name, v in reach["rates"].items()]
    out.append(_table([e(rt["name"]), e(rt["value"])], rows))
    if any(v.get("range") for v in reach["rates"].values()):
        out.append(f'<p class="note">{e(rt["range_note"])}</p>')
    if reach["e"] is not None:
        out.append(f'<p class="note">{e(rt["e"].format(e=f.num(reach["e"], 3)))}</p>')
    pending = d.get("pending", {})
    if pending.get("count") != 0:
        out.append(f'<p class="note">{e(rt["pending"].format(pending=f.count(pending)))}</p>')
    return "".join(out)


def _loop(report: dict[str, Any], t: dict, f: Format) -> str:
    """What came of the campaign and who was told; the council's suggestions (issue 23)."""
    loop, lt = report.get("closing_loop"), t["loop"]
    if not loop:
        return ""
    out = [f"<h2>{e(lt['heading'])}</h2>", f"<p>{e(lt['outcomes'].format(n=loop['outcomes']))}</p>"]
    told = loop["told"]
    if told["by_channel"]:
        states = ("told", "waiting", "not_told")
        rows = [
            [e(t["channel"].get(r["channel"], r["channel"]))] + [f.count(r[s]) for s in states]
            for r in told["by_channel"]
        ]
        rows.append([e(t["reach"]["total"])] + [f.count(told["total"][s]) for s in states])
        head = [e(t["reach"]["channel"])] + [e(lt[s]) for s in states]
        out.append(_table(head, rows, total_last=True))
    sug = loop["suggestions"]
    out.append(f"<h3>{e(lt['suggestions'].format(queue=sug['queue'] or DASH))}</h3>")
    rows = [[e(lt["status"][s]), f.count(c)] for s, c in sug["by_status"].items()]
    rows.append([e(t["reach"]["total"]), f.count(sug["total"])])
    out.append(_table([e(lt["state"]), e(lt["count"])], rows, total_last=True))
    if sug["by_theme"]:
        rows = [[e(r["theme"]), f.count(r)] for r in sug["by_theme"]]
        out.append(_table([e(lt["theme"]), e(lt["count"])], rows))
    return "".join(out)


def _sample(report: dict[str, Any], t: dict, f: Format) -> str:
    st, sample = t["sample"], report["sample"]
    if sample is None:
        return ""
    out = [f"<h2>{e(st['heading'])}</h2>"]
    stratify = ", ".join(t["attribute"].get(a, a) for a in sample["stratify"])
    words = {
        "group": sample["group"],
        "pool": f.num(sample["pool"]) if sample["pool"] is not None else DASH,
        "sampled": f.num(sample["sampled"]),
        "stratify": stratify,
    }
    out.append(f"<p>{e(st[sample['design']].format(**words))}</p>")
    if sample["weighted"]:
        out.append(f"<p>{e(st['weighting'])}</p><p>{e(st['per_stratum'])}</p>")
        rows = [
            [
                e(" · ".join(s["stratum"].split("|"))),
                f.num(s["pool"]),
                f.num(s["sampled"]),
                f.count(s["respondents"]),
                f.rate({"value": s["rr1"], "range": s.get("rr1_range")}),
                f.num(s["weight"], 2) if s["weight"] is not None else DASH,
            ]
            for s in sample["strata"]
        ]
        head = [
            st["stratum"],
            st["pool"],
            st["sampled"],
            st["respondents"],
            st["rr1"],
            st["weight"],
        ]
        out.append(_table([e(h) for h in head], rows))
    return "".join(out)


def _asked(q: dict[str, Any], report: dict[str, Any], t: dict) -> str:
    qt, fmt = t["question"], q["format"]
    parts: list[str] = []
    if "options" in fmt and q["type"] == "choice":
        labels = "; ".join(o["label"] for o in fmt["options"])
        parts.append(f"{e(qt['options'])}: {e(labels)}.")
    elif q["type"] == "scale":
        key = "scale" if fmt["min_label"] and fmt["max_label"] else "scale_plain"
        parts.append(e(qt[key].format(**fmt)))
    elif q["type"] == "number":
        unit = f" ({fmt['unit']})" if fmt.get("unit") else ""
        parts.append(e(qt["number"].format(**fmt) + unit + "."))
    elif q["type"] == "nps":
        parts.append(e(qt["nps_type"]))
    elif q["type"] == "text":
        parts.append(e(qt["text_type"]))
    for other_id, values in (q["asked_if"] or {}).items():
        other = next((x for x in report["questions"] if x["id"] == other_id), None)
        if other is None:
            continue
        labels = {o["value"]: o["label"] for o in other["format"].get("options", [])}
        said = qt["or"].join(f"”{labels.get(v, v)}”" for v in values)
        parts.append(e(qt["asked_if"].format(question=other["position"], values=said)))
    return f'<p class="asked">{" ".join(parts)}</p>' if parts else ""


def _question(q: dict[str, Any], report: dict[str, Any], t: dict, f: Format) -> str:
    qt, k = t["question"], report["privacy"]["min_cell"]
    out = [
        f'<section class="question" id="q-{e(q["id"])}"><h3><span class="number">{q["position"]}.</span>'
        f"{e(q['text'])}</h3>",
        _asked(q, report, t),
    ]
    if q["type"] == "text":
        from kanavat.report import themes_html

        out.append(themes_html.render(q, t, f))
        out.append(_free_text(q, t, f, k))
        return "".join(out) + "</section>"
    if q["suppressed"]:
        out.append(f"<p>{e(qt['hidden'].format(k=k))}</p></section>")
        return "".join(out)
    if not q["n"]:
        out.append(f"<p>{e(qt['no_data'])}</p></section>")
        return "".join(out)
    compare = q.get("compare")
    others = {c["value"]: c for c in compare["categories"]} if compare else {}
    bars = [
        Bar(
            label=c["label"],
            value=c["estimate"],
            text=DASH if c["estimate"] is None else f"{f.pct(c['estimate'])} ({f.num(c['count'])})",
            ci=tuple(c["ci"]) if q["weighted"] and c["ci"] else None,
            other=others.get(c["value"], {}).get("other_estimate") if compare else None,
            muted=c["value"] == DONT_KNOW,
        )
        for c in q["categories"]
        if not (c["value"] == DONT_KNOW and c["count"] == 0)
    ]
    legend = None
    if compare:
        cmp_t = t["compare"]
        legend = (
            f"{cmp_t['this']} ({report['campaign']['id']})",
            f"{cmp_t['other']} ({report['comparison']['campaign']['id']})",
        )
    out.append(
        bar_chart(
            bars, title=q["text"], legend=legend, percent=t["percent"].replace("{value}", "{}")
        )
    )
    out.append(_main_table(q, t, f, compare))
    facts = [(qt["n"], f.num(q["n"])), (qt["no_answer"], f.count(q["no_answer"]))]
    mean = q.get("mean")
    if "mean" in q:
        facts.append(
            (
                qt["mean_weighted"] if q["weighted"] else qt["mean"],
                f.num(mean["estimate"], 2) if mean else DASH,
            )
        )
    if q.get("median") is not None:
        facts.append((qt["median"], f.num(q["median"], 1)))
    if "nps" in q:
        facts.append((qt["nps"], f.points(q["nps"])))
    nps_change = (compare or {}).get("nps")
    if nps_change and nps_change.get("change") is not None:
        mark = " ●" if nps_change.get("clear") else ""
        sign = "+" if nps_change["change"] > 0 else ""
        facts.append((t["compare"]["nps_change"], sign + f.num(nps_change["change"], 0) + mark))
    if compare and compare.get("mean_change") is not None:
        facts.append(
            (
                t["compare"]["mean_change"],
                ("+" if compare["mean_change"] > 0 else "") + f.num(compare["mean_change"], 2),
            )
        )
    out.append('<p class="note">' + " · ".join(f"{e(a)}: {e(b)}" for a, b in facts) + "</p>")
    for b in q["breakdowns"]:
        out.append(_breakdown(q, b, t, f))
    return "".join(out) + "</section>"


def _main_table(q: dict[str, Any], t: dict, f: Format, compare: dict | None) -> str:
    qt = t["question"]
    head = [qt["answer"], qt["count"], qt["share"]]
    if q["weighted"]:
        head += [qt["estimate"], qt["ci"]]
    if compare:
        head += [t["compare"]["other"], t["compare"]["change"]]
    others = {c["value"]: c for c in compare["categories"]} if compare else {}
    rows = []
    for c in q["categories"]:
        if c["value"] == DONT_KNOW and c["count"] == 0:
            continue
        row = [e(c["label"]), f.num(c["count"]), f.pct(c["share"], 1)]
        if q["weighted"]:
            row += [f.pct(c["estimate"], 1), e(f.ci(c["ci"]))]
        if compare:
            o = others.get(c["value"], {})
            mark = ' <span class="clear">●</span>' if o.get("clear") else ""
            row += [f.pct(o.get("other_estimate"), 1), e(f.pp(o.get("change"))) + mark]
        rows.append(row)
    return _table([e(h) for h in head], rows)


def _breakdown(q: dict[str, Any], b: dict[str, Any], t: dict, f: Format) -> str:
    qt = t["question"]
    attribute = t["attribute"].get(b["by"], b["by"])
    # A breakdown's columns are its groups' cells (an NPS question's are its three classes).
    columns = b["groups"][0]["cells"] if b["groups"] else q["categories"]
    none_dont_know = any(c["value"] == DONT_KNOW and c["count"] == 0 for c in q["categories"])
    show = [i for i, c in enumerate(columns) if not (c["value"] == DONT_KNOW and none_dont_know)]
    head = [e(qt["group"]), e(qt["count"])] + [e(columns[i]["label"]) for i in show]
    numeric = any("mean" in g for g in b["groups"])
    if numeric:
        head.append(e(qt["mean"]))
    scored = any("nps" in g for g in b["groups"])
    if scored:
        head.append(e(qt["nps"]))
    rows = []
    for g in b["groups"]:
        name = _group_name(b["by"], g["group"], t)
        cells = []
        for i in show:
            c = g["cells"][i]
            share = c["estimate"]
            if share is None:
                cells.append(DASH)
            else:
                shade = f"background:rgba(31,95,139,{0.04 + 0.45 * share:.2f})"
                cells.append((f.pct(share), shade))
        row = [e(name), f.num(g["n"]), *cells]
        if numeric:
            m = g.get("mean")
            row.append(f.num(m["estimate"], 2) if m else DASH)
        if scored:
            row.append(e(f.points(g.get("nps"))))
        rows.append(row)
    title = qt["breakdown"].format(attribute=attribute)
    return f'<h4>{e(title)}</h4><div class="breakdown">{_table(head, rows)}</div>'


def _group_name(attribute: str, group: str | None, t: dict) -> str:
    if group is None:
        return t["unknown"]
    if attribute == "channel":
        return t["channel"].get(group, group)
    if attribute == "language":
        return t["language_name"].get(group, group)
    if attribute == "stratum":
        return " · ".join(group.split("|"))
    return group


def _free_text(q: dict[str, Any], t: dict, f: Format, k: int) -> str:
    qt = t["question"]
    if q["suppressed"]:
        return f"<p>{e(qt['free_text_hidden'].format(k=k))}</p>"
    items = "".join(f"<li>{e(a['text'])}</li>" for a in q["answers"])
    return (
        f"<h4>{e(qt['free_text'].format(n=f.num(q['n'])))}</h4>"
        f'<p class="note">{e(qt["free_text_note"])}</p><ol class="free">{items}</ol>'
    )


def _inputs(report: dict[str, Any], t: dict, f: Format) -> str:
    it, ik = t["inputs"], report["input_kinds"]
    channels = report["campaign"]["channels"]
    head = [e(it["kind"])] + [e(t["channel"].get(ch, ch)) for ch in channels] + [e(it["total"])]
    rows = [
        [e(t["kind"][row["kind"]])]
        + [f.count(row["by_channel"][ch]) for ch in channels]
        + [f.count(row["total"])]
        for row in ik["by_kind"]
        if row["total"]["count"] != 0
    ]
    rows.append([e(it["total"])] + [""] * len(channels) + [f.count(ik["total"])])
    confirmed = it["confirmed"].format(
        confirmed=f.count(ik["speech_confirmed"]), not_confirmed=f.count(ik["speech_not_confirmed"])
    )
    return (
        f"<h2>{e(it['heading'])}</h2><p>{e(it['intro'])}</p>{_table(head, rows, total_last=True)}"
        f"<p>{e(confirmed)}</p>"
    )


def _method(report: dict[str, Any], t: dict, f: Format) -> str:
    m, k = t["method"], report["privacy"]["min_cell"]
    weighted = bool(report["sample"] and report["sample"]["weighted"])
    paragraphs = [
        m["suppression"].format(k=k),
        m["pseudonyms"],
        m["shares"].format(weighted=m["weighted"] if weighted else m["unweighted"]),
        m["ci"],
    ]
    if weighted:
        paragraphs.append(m["rounding"])
    if report["reach"]["kind"] == "contacts":
        paragraphs.append(m["aapor"])
    paragraphs.append(m["software"].format(campaign=report["campaign"]["id"]))
    body = "".join(f"<p>{e(p)}</p>" for p in paragraphs)
    footnote = t["footnote"].format(k=k)
    return f'<footer><h2>{e(m["heading"])}</h2>{body}<p class="note">{e(footnote)}</p></footer>'
