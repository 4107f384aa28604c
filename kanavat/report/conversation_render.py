"""The conversation section (issue 20) in the report's HTML and CSV; what is shown is only what
``report/conversation.py`` left unsuppressed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

DASH = "–"


def html(report: dict[str, Any], t: dict, f: Any) -> str:
    from kanavat.report.html import e

    section = report.get("conversation")
    if not section:
        return ""
    c = t["conversation"]
    out = [
        f"<h2>{e(c['heading'])}: {e(section['title'])}</h2>",
        f"<p>{e(c['summary'].format(participants=f.count(section['participants']), grouped=f.count(section['grouped']), statements=section['statements']))}</p>",
    ]
    if not section["groups"]:
        out.append(f'<p class="note">{e(c["no_groups"])}</p>')
    else:
        sizes = ", ".join(
            f"{c['group']} {e(g['label'])}: {f.count(g['size'])}" for g in section["groups"]
        )
        out.append(f"<p>{e(c['groups'])} {sizes}</p>")
    head = f"<tr><th>{e(c['statement'])}</th><th>{e(c['agree'])}</th><th>{e(c['disagree'])}</th><th>{e(c['pass'])}</th></tr>"

    def shares(votes: dict[str, Any]) -> str:
        return "".join(
            f"<td>{f.pct(votes[k].get('share')) if votes[k].get('share') is not None else DASH}</td>"
            for k in ("agree", "disagree", "pass")
        )

    for group in section["representative"]:
        out.append(f"<h3>{e(c['representative'].format(group=group['group']))}</h3>")
        rows = [
            f"<tr><td>{e(item['text'])} ({e(c[item['direction']])})</td>{shares(item['votes'])}</tr>"
            for item in group["statements"]
        ]
        out.append(f"<table>{head}{''.join(rows)}</table>")
    out.append(f"<h3>{e(c['consensus'])}</h3>")
    if not section["consensus"]:
        out.append(f"<p>{e(c['no_consensus'])}</p>")
    for item in section["consensus"]:
        out.append(f"<p><strong>{e(item['text'])}</strong> ({e(c[item['direction']])})</p>")
        rows = [
            f"<tr><td>{e(c['everyone'] if g == '*' else c['group'] + ' ' + g)}</td>{shares(v)}</tr>"
            for g, v in item["groups"].items()
        ]
        out.append(
            f"<table>{head.replace(e(c['statement']), e(c['group']))}{''.join(rows)}</table>"
        )
    for table in section["spread"]:
        by = t["attribute"].get(table["by"], table["by"])
        labels = [g["label"] for g in section["groups"]]
        header = "".join(f"<th>{e(c['group'])} {e(label)}</th>" for label in labels)
        rows = []
        for row in table["rows"]:
            name = row["value"] or t["unknown"]
            if table["by"] == "channel":
                name = t["channel"].get(name, name)
            cells = "".join(f"<td>{f.count(row['groups'][label])}</td>" for label in labels)
            rows.append(f"<tr><td>{e(name)}</td>{cells}<td>{f.count(row['total'])}</td></tr>")
        out.append(
            f"<h3>{e(c['spread'].format(by=by))}</h3><table><tr><th>{e(by)}</th>{header}"
            f"<th>{e(c['total'])}</th></tr>{''.join(rows)}</table>"
        )
    return "\n".join(out)


def csv_rows(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    section = report.get("conversation")
    if not section:
        return
    campaign = report["campaign"]["id"]

    def row(kind: str, cell: dict[str, Any], **values: Any) -> dict[str, Any]:
        return {
            "campaign": campaign,
            "section": kind,
            "count": cell.get("count"),
            "share": cell.get("share"),
            "suppressed": int(cell.get("suppressed", False)),
            **values,
        }

    yield row("conversation_participants", section["participants"])
    yield row("conversation_grouped", section["grouped"])
    for g in section["groups"]:
        yield row("opinion_group", g["size"], group=g["label"])
    for group in section["representative"]:
        for item in group["statements"]:
            for kind in ("agree", "disagree", "pass"):
                yield row(
                    "representative",
                    item["votes"][kind],
                    question=item["statement"],
                    group=group["group"],
                    category=kind,
                    label=item["direction"],
                )
    for item in section["consensus"]:
        for g, votes in item["groups"].items():
            for kind in ("agree", "disagree", "pass"):
                yield row(
                    "consensus",
                    votes[kind],
                    question=item["statement"],
                    group=g,
                    category=kind,
                    label=item["direction"],
                )
    for table in section["spread"]:
        for r in table["rows"]:
            for label, cell in r["groups"].items():
                yield row("opinion_spread", cell, by=table["by"], group=label, category=r["value"])
