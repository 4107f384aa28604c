"""The themes of a free-text question in the HTML report (the JSON's ``themes`` object)."""

from __future__ import annotations

from typing import Any

from kanavat.report.html import DASH, Format, _group_name, _table, e


def render(q: dict[str, Any], t: dict, f: Format) -> str:
    themes = q.get("themes")
    if not themes:
        return ""
    tt = t["themes"]
    items = [*themes["items"], *([themes["other"]] if themes["other"] else [])]
    rows = []
    for item in items:
        rows.append(
            [
                e(_title(item, tt)),
                f.num(item["count"]) if item["count"] is not None else DASH,
                f.pct(item["share"]) if item["share"] is not None else DASH,
            ]
        )
    out = [
        f"<h4>{e(tt['heading'].format(n=f.count(themes['n'])))}</h4>",
        f'<p class="note">{e(tt["note"])}</p>',
        _table([e(tt["theme"]), e(tt["count"]), e(tt["share"])], rows),
    ]
    for item in themes["items"]:
        if item["quotes"]:
            quotes = "".join(f"<li>{e(x)}</li>" for x in item["quotes"])
            heading = tt["quotes"].format(theme=_title(item, tt))
            out.append(f'<h5>{e(heading)}</h5><ul class="free">{quotes}</ul>')
    for attribute in next(iter(items))["by"] if items else []:
        groups = [c["group"] for c in items[0]["by"][attribute]]
        if not groups:  # an attribute these answers' people do not have
            continue
        head = [e(tt["theme"])] + [e(_group_name(attribute, g, t)) for g in groups]
        table = [
            [e(_title(item, tt))]
            + [f.num(c["count"]) if c["count"] is not None else DASH for c in item["by"][attribute]]
            for item in items
        ]
        title = tt["by"].format(attribute=t["attribute"].get(attribute, attribute))
        out.append(f'<h5>{e(title)}</h5><div class="breakdown">{_table(head, table)}</div>')
    return "".join(out)


def _title(item: dict[str, Any], tt: dict) -> str:
    if item["id"] == "other":
        return tt["other"]
    if item["name"]:
        return item["name"]
    return tt["proposed"].format(words=", ".join(item["words"][:4]) or item["id"])
