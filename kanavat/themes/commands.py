"""What officials do with a question's themes: list, name, merge, split, seed, forget.

Thin over :mod:`analyse` and :mod:`named`; ``kanavat themes CAMPAIGN QUESTION ...`` calls
these. A theme is named by its id as listed: a number for a named theme, ``new-N`` for a
proposed one (proposals are deterministic, so the id listed is the group named, as long as no
answer arrived in between).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kanavat.config import Config
from kanavat.questions.model import TextQuestion
from kanavat.report.data import AnswerRow, load
from kanavat.store import Store
from kanavat.themes import named, stored
from kanavat.themes.analyse import Analysis, Answer, Theme, analyse
from kanavat.themes.embed import embed


class ThemeError(ValueError):
    """An official's request that cannot be done, with what to do instead."""


def text_answers(rows: Sequence[AnswerRow]) -> list[Answer]:
    """The written or spoken free-text answers among a question's rows, keyed by position."""
    out = []
    for i, a in enumerate(rows):
        if a.status != "answered":
            continue
        text = str(a.raw if a.raw is not None else a.value or "").strip()
        if text:
            out.append(Answer(text, a.language, str(i), a.answer_id))
    return out


def analysed(store: Store, campaign_id: str, question: str, answers: Sequence[Answer]) -> Analysis:
    """The answers' themes, their embeddings read from the store (made and kept once)."""
    items = [(a.answer_id, a.text, a.language) for a in answers]
    vectors = stored.vectors(store, campaign_id, question, items)
    return analyse(answers, named.load(store, campaign_id, question), vectors)


def check_question(config: Config, campaign_id: str, question: str) -> None:
    questionnaire = config.questionnaire_of(campaign_id)
    try:
        q = questionnaire.question(question)
    except KeyError:
        known = ", ".join(x.id for x in questionnaire.questions if isinstance(x, TextQuestion))
        raise ThemeError(
            f"no question '{question}' in '{questionnaire.id}'; free-text questions: "
            f"{known or 'none'}"
        ) from None
    if not isinstance(q, TextQuestion):
        raise ThemeError(f"question '{question}' is a {q.type} question; themes need free text")


def current(store: Store, config: Config, campaign_id: str, question: str) -> Analysis:
    """The question's themes now: named ones with their new answers, and proposals."""
    check_question(config, campaign_id, question)
    data = load(store, config, campaign_id)
    rows = list(data.texts[question].rows()) if question in data.texts else []
    return analysed(store, campaign_id, question, text_answers(rows))


def _theme(analysis: Analysis, theme_id: str) -> Theme:
    theme = analysis.theme(theme_id)
    if theme is None:
        known = ", ".join(t.id for t in analysis.themes) or "none yet"
        raise ThemeError(f"no theme '{theme_id}'; themes now: {known} (see the list command)")
    return theme


def _stored_id(theme: Theme) -> int | None:
    return int(theme.id) if theme.named else None


def _examples(analysis: Analysis, store: Store, theme: Theme) -> tuple[np.ndarray, int, list[int]]:
    """A theme's examples as kept: an official's own examples' sum and count (a named theme's
    stored ones), and the ids of the residents' answers in it (its members, and a named
    theme's stored answers). Answers are kept by id, never by their embedding: erasure then
    takes an answer out of every theme."""
    members = [a for i in theme.members if (a := analysis.answers[i].answer_id) is not None]
    if not theme.named:
        return np.zeros(analysis.vectors.shape[1], np.float32), 0, members
    seed_sum, seed_count, kept = named.parts(store, int(theme.id))
    return seed_sum, seed_count, list(dict.fromkeys([*kept, *members]))


def name(store: Store, analysis: Analysis, campaign: str, q: str, theme_id: str, title: str) -> int:
    """Name a proposed theme (it becomes an official one) or rename a named one."""
    theme = _theme(analysis, theme_id)
    title = _clean(title)
    with store.transaction():
        if theme.named:
            named.rename(store, int(theme.id), title)
            return int(theme.id)
        total, count, answers = _examples(analysis, store, theme)
        return named.add(store, campaign, q, title, total, count, "named", answers)


def merge(
    store: Store,
    analysis: Analysis,
    campaign: str,
    q: str,
    theme_ids: Sequence[str],
    title: str | None,
) -> int:
    """One theme from several: their examples together, under ``title`` or the first's name."""
    if len(set(theme_ids)) < 2:
        raise ThemeError("merge needs two or more different themes")
    themes = [_theme(analysis, t) for t in theme_ids]
    title = _clean(title or next((t.name for t in themes if t.name), None) or "")
    if not title:
        raise ThemeError("none of these themes has a name yet: give one with --name")
    parts = [_examples(analysis, store, t) for t in themes]
    answers = list(dict.fromkeys(a for p in parts for a in p[2]))
    with store.transaction():
        named.delete(store, [int(t.id) for t in themes if t.named])
        return named.add(
            store,
            campaign,
            q,
            title,
            sum(p[0] for p in parts),
            sum(p[1] for p in parts),
            "merged",
            answers,
        )


def split(
    store: Store, analysis: Analysis, campaign: str, q: str, theme_id: str, parts: int = 2
) -> list[int]:
    """Split a theme's answers into ``parts`` by k-means in the question's space; each part
    becomes a named theme "NAME (1)", "NAME (2)", ... for the official to rename."""
    theme = _theme(analysis, theme_id)
    if parts < 2 or len(theme.members) < 2 * parts:
        raise ThemeError(
            f"theme '{theme_id}' has {len(theme.members)} answers: too few to split in {parts}"
        )
    members = np.asarray(theme.members)
    from sklearn.cluster import KMeans  # a second to import: only when clustering

    found = KMeans(parts, n_init=10, random_state=0).fit_predict(analysis.points[members])
    base = theme.name or f"{analysis.themes.index(theme) + 1}: " + ", ".join(theme.words[:2])
    with store.transaction():
        if theme.named:
            named.delete(store, [int(theme.id)])
        return [
            named.add(
                store,
                campaign,
                q,
                f"{base} ({part + 1})",
                np.zeros(analysis.vectors.shape[1], np.float32),
                0,
                "split",
                [
                    a
                    for i in members[found == part]
                    if (a := analysis.answers[int(i)].answer_id) is not None
                ],
            )
            for part in range(parts)
        ]


def seed(store: Store, campaign: str, q: str, title: str, examples: Sequence[str]) -> int:
    """A theme from its name and a few example answers (an official's own words)."""
    examples = [e.strip() for e in examples if e.strip()]
    if not examples:
        raise ThemeError("seed needs at least one example answer (--example TEXT)")
    vectors = embed(examples)
    with store.transaction():
        return named.add(
            store, campaign, q, _clean(title), vectors.sum(axis=0), len(examples), "seeded"
        )


def forget(store: Store, analysis: Analysis, theme_id: str) -> None:
    theme = _theme(analysis, theme_id)
    if not theme.named:
        raise ThemeError(f"theme '{theme_id}' is a proposal, not a named theme: nothing to forget")
    with store.transaction():
        named.delete(store, [int(theme.id)])


def _clean(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise ThemeError("a theme's name cannot be empty")
    if len(title) > 80:
        raise ThemeError("a theme's name is at most 80 characters")
    return title


def overview(store: Store, config: Config, campaign_ids: Sequence[str], top: int = 4) -> list[str]:
    """A few lines per free-text question with at least ``min_cell`` answers: its largest
    themes with their size and words (no answer texts: for a console or a log)."""
    lines = []
    k = config.privacy.min_cell
    for cid in campaign_ids:
        data = load(store, config, cid)
        for q in config.questionnaire_of(cid).questions:
            if not isinstance(q, TextQuestion):
                continue
            written = data.texts.get(q.id)
            answers = text_answers(list(written.rows()) if written else [])
            if len(answers) < k:
                lines.append(f"{cid} / {q.id}: {len(answers)} answers, too few for themes")
                continue
            found = analysed(store, cid, q.id, answers)
            shown = [t for t in found.themes if len(t.members) >= k][:top]
            lines.append(
                f"{cid} / {q.id}: {len(answers)} answers, {len(found.themes)} themes"
                + ("" if found.themes else " (answers too varied or too few to group)")
            )
            lines += [
                f"  {t.id:>6} {t.name or ''} {len(t.members):>4}  {', '.join(t.words)}"
                for t in shown
            ]
    return lines
