"""RESULTS.md section for the broad set: each goal per language and part, then every
category (voice, form, line, rate, hesitation, question) with development and held-out
side by side, and plain ``transcribe`` on the same clips as a ratio."""

from __future__ import annotations

import math
from typing import Any

# (right or confirmed right, accepted right without a confirmation turn), misfiled must be 0
GOALS = {"fi": (0.95, 0.70), "sv": (0.90, 0.60)}
PART_NAMES = {"dev": "development", "held_out": "held-out"}


def _p(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.0%}"


def _ratio(call: dict[str, Any], base: dict[str, Any]) -> str:
    if not base.get("n") or not base["right"]:
        return "n/a"
    return f"×{call['right'] / base['right']:.2f}"


def _cell(t: dict[str, Any]) -> str:
    if not t.get("n"):
        return "–"
    return f"{_p(t['right'])} / {_p(t['accepted'])} / {t['misfiled']} (n {t['n']})"


def verdict(lang: str, s: dict[str, Any]) -> str:
    right, accepted = GOALS[lang]
    t = s["total"]
    missed = []
    if t["right"] < right:
        missed.append(f"right {(right - t['right']) * 100:.0f} points short")
    if t["accepted"] < accepted:
        missed.append(f"accepted {(accepted - t['accepted']) * 100:.0f} points short")
    if t["misfiled"]:
        missed.append(f"{t['misfiled']} misfiled")
    return "met" if not missed else "missed: " + "; ".join(missed)


def target_rows(found: dict[str, Any]) -> list[str]:
    rows = []
    for key, s in found.items():
        if "/" not in key or "total" not in s:
            continue
        lang, part = key.split("/")
        right, accepted = GOALS[lang]
        t = s["total"]
        rows.append(
            f"| speech, broad set {lang} {PART_NAMES[part]} | ≥ {right:.0%} right or confirmed "
            f"right, ≥ {accepted:.0%} accepted without confirmation, 0 misfiled | "
            f"{_p(t['right'])} / {_p(t['accepted'])} / {t['misfiled']} misfiled (n {t['n']}) | "
            f"{verdict(lang, s)} |"
        )
    return rows


def _weakest(s: dict[str, Any], count: int = 6) -> str:
    cells = [
        (g["call"]["right"], f"{dim} {k} {_p(g['call']['right'])}")
        for dim, groups in s["by"].items()
        for k, g in groups.items()
        if g["call"]["n"] >= 10
    ]
    return ", ".join(text for _, text in sorted(cells)[:count])


def section(found: dict[str, Any]) -> list[str]:
    if "error" in found:
        return [f"Failed: {found['error']}", ""]
    out = [
        "Issue 16's broad set (`bench/speechset/`, made at run time by espeak-ng variants and "
        "Festival's `suo_fi_lj_diphone`; forms, hesitations, lines; see its docstring for "
        "what is held out), heard through the call path (`bench/speechset/accuracy.py`). "
        "Cells: right or confirmed right / accepted right without a confirmation turn / "
        "misfiled (n clips). *Plain transcribe* is faster-whisper's `transcribe` (same "
        "model, language fixed) with the same normaliser and dialog rule, on "
        + (
            "every clip"
            if found.get("quick")
            else "every 4th clip (it takes about four times as long per clip)"
        )
        + "; the ratio is the call path's right-or-confirmed share over plain transcribe's "
        "on those same clips.",
        "",
    ]
    for lang in ("fi", "sv"):
        parts = [p for p in ("dev", "held_out") if f"{lang}/{p}" in found]
        if not parts:
            continue
        right, accepted = GOALS[lang]
        out += [
            f"### {'Finnish' if lang == 'fi' else 'Swedish'}",
            "",
            f"Goals: ≥ {right:.0%} right or confirmed right, ≥ {accepted:.0%} accepted without "
            "a confirmation turn, 0 misfiled.",
            "",
            "| part | clips | call path | confirmed wrong | not understood | call path on the "
            "baseline's clips | plain transcribe | ratio | verdict |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for part in parts:
            s = found[f"{lang}/{part}"]
            t = s["total"]
            base, paired = s.get("baseline", {}), s.get("paired", {})
            out.append(
                f"| {PART_NAMES[part]} | {t['n']} | {_cell(t)} | {t['confirmed_wrong']} | "
                f"{t['not_understood']} | {_cell(paired)} | {_cell(base)} | "
                f"{_ratio(paired, base)} | {verdict(lang, s)} |"
            )
        out.append("")
        dims = found[f"{lang}/{parts[0]}"]["by"].keys()
        for dim in dims:
            keys = sorted({k for p in parts for k in found[f"{lang}/{p}"]["by"][dim]})
            head = " | ".join(f"{PART_NAMES[p]}" for p in parts)
            plain = " | ".join(f"plain, {PART_NAMES[p]} (ratio)" for p in parts)
            out += [f"| {dim} | {head} | {plain} |", "|---|" + "---|" * (2 * len(parts))]
            for k in keys:
                cells, bases = [], []
                for p in parts:
                    g = found[f"{lang}/{p}"]["by"][dim].get(k, {})
                    cells.append(_cell(g.get("call", {})))
                    b = g.get("baseline", {})
                    bases.append(
                        f"{_p(b['right'])} (n {b['n']}, {_ratio(g['paired'], b)})"
                        if b.get("n")
                        else "–"
                    )
                out.append(f"| {k} | " + " | ".join(cells) + " | " + " | ".join(bases) + " |")
            out.append("")
        for part in parts:
            weakest = _weakest(found[f"{lang}/{part}"])
            if weakest:
                out += [f"Weakest categories ({lang} {PART_NAMES[part]}, n ≥ 10): {weakest}.", ""]
        for part in parts:
            s = found[f"{lang}/{part}"]
            if s.get("misfiled"):
                out += [f"Misfiled ({lang} {PART_NAMES[part]}):", ""]
                out += [f"- {m}" for m in s["misfiled"]]
                out.append("")
        dev = found.get(f"{lang}/dev", {})
        if dev.get("failures"):
            out += [f"First answers not heard right ({lang} development; said, form, "
                    "voice/rate/pitch/line/hesitation, heard, confidence):", ""]  # fmt: skip
            out += [f"- {f}" for f in dev["failures"][:25]]
            out.append("")
    return out
