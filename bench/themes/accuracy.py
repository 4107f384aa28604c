"""Themes against the corpus's labels, unaided and seeded, beside plain k-means.

Unaided: :func:`kanavat.themes.analyse.analyse` with no named themes. Scored on the answers
that have a label (``-`` answers take part but are not scored): adjusted Rand index with all
strays counted as one more group (so leaving an answer out is never free), purity over the
answers put in a theme (the share whose theme's main label is theirs) and coverage (the share
put in a theme). Beside it, in the same run: scikit-learn's ``KMeans`` told the true number of
themes (an advantage the method does not get) on E5 embeddings of the whole texts (the plain
baseline, ``kmeans``), on the method's own embeddings (content words, ``kmeans_content``) and
on those in the centred space (``kmeans_space``); and the previous method (whole texts, cut at
0.93, ``previous``).

Seeded: for each theme, three answers of the same part drawn at random become an official's
examples, with the theme's name (``corpus.THEME_NAMES``); accuracy is the share of the other
labelled answers that land in their own theme (an unassigned answer counts as wrong; ``-``
answers are not scored), over ``DRAWS`` draws, assigned as the product does
(:func:`kanavat.themes.seeded.assign`: centres that move with their members, an answer under
``ASSIGN_MIN`` of every centre, or nearer a theme proposed from what fits none, left for
unaided themes). Beside it, to tell the space from the method: ``nearest_example`` (each
answer takes the theme of its nearest example) and ``no_threshold`` (the same rounds with no
"fits none": no threshold, no proposals competing).

    python -m bench.themes.accuracy --part dev       # while tuning: the development part only
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from bench.themes.corpus import NONE, PARTS, THEME_NAMES, load
from kanavat.themes import cluster, seeded
from kanavat.themes.analyse import Answer, NamedTheme, analyse, anchors
from kanavat.themes.embed import DIM, _load, embed
from kanavat.themes.space import Space

PREVIOUS_THRESHOLD = 0.93
"""The cut of the previous method (whole texts embedded)."""

DRAWS = 10
EXAMPLES = 3


def purity(found: list[int], truth: list[str]) -> float | None:
    by_theme: dict[int, Counter[str]] = {}
    for f, t in zip(found, truth, strict=True):
        if f >= 0:
            by_theme.setdefault(f, Counter())[t] += 1
    placed = sum(sum(c.values()) for c in by_theme.values())
    return sum(c.most_common(1)[0][1] for c in by_theme.values()) / placed if placed else None


def scores(found: list[int], truth: list[str]) -> dict[str, Any]:
    """ARI (strays one group), purity over placed answers, coverage, number of themes."""
    labelled = [(f, t) for f, t in zip(found, truth, strict=True) if t != NONE]
    fs = [f if f >= 0 else -1 for f, _ in labelled]
    ts = [t for _, t in labelled]
    return {
        "ari": float(adjusted_rand_score(ts, fs)),
        "purity": purity(fs, ts),
        "coverage": sum(1 for f in fs if f >= 0) / len(fs),
        "themes": len({f for f in found if f >= 0}),
    }


def unaided(part: str) -> dict[str, Any]:
    rows = load(part)
    truth = [r.label for r in rows]
    started = time.perf_counter()
    result = analyse([Answer(r.text, r.language, str(i)) for i, r in enumerate(rows)])
    seconds = time.perf_counter() - started
    found = [-1] * len(rows)
    for number, theme in enumerate(result.themes):
        for i in theme.members:
            found[int(result.answers[i].key)] = number
    k = len(set(truth) - {NONE})
    raw = _embed(rows)
    whole = whole_texts([r.text for r in rows])
    baseline = KMeans(k, n_init=10, random_state=0).fit_predict(whole).tolist()
    baseline_content = KMeans(k, n_init=10, random_state=0).fit_predict(raw).tolist()
    centred = _space(rows, raw).apply(raw)
    baseline_space = KMeans(k, n_init=10, random_state=0).fit_predict(centred).tolist()
    previous = cluster.find_clusters(Space.fit(whole).apply(whole), threshold=PREVIOUS_THRESHOLD)
    themes = []
    for theme in result.themes:
        labels = Counter(rows[int(result.answers[i].key)].label for i in theme.members)
        main, count = labels.most_common(1)[0]
        themes.append(
            {
                "size": len(theme.members),
                "main": main,
                "share": count / len(theme.members),
                "words": theme.words,
            }
        )
    return {
        "answers": len(rows),
        "labels": k,
        "themes_found": scores(found, truth),
        "kmeans": scores(baseline, truth),
        "kmeans_content": scores(baseline_content, truth),
        "kmeans_space": scores(baseline_space, truth),
        "previous": scores(previous.tolist(), truth),
        "seconds": seconds,
        "themes": themes,
    }


def seeded_accuracy(
    part: str, *, names: bool = True, draws: int = DRAWS, seeded_themes: int | None = None
) -> dict[str, Any]:
    """With ``seeded_themes`` only that many themes (drawn at random) are seeded, and the
    figure of interest is ``precision``: the share of answers joining a seeded theme that
    belong to it (nothing else competes for them)."""
    rows = load(part)
    raw = _embed(rows)
    space = _space(rows, raw)
    points = space.apply(raw)
    topics = sorted(set(r.label for r in rows) - {NONE})
    rng = np.random.default_rng(21)
    accuracies, coverages, precisions, nearest, unthresholded = [], [], [], [], []
    for _ in range(draws):
        chosen = (
            sorted(rng.choice(topics, seeded_themes, replace=False)) if seeded_themes else topics
        )
        picks = {
            t: rng.choice([i for i, r in enumerate(rows) if r.label == t], EXAMPLES, replace=False)
            for t in chosen
        }
        named = [
            NamedTheme(j, THEME_NAMES[t] if names else "", raw[picks[t]].sum(axis=0), EXAMPLES)
            for j, t in enumerate(chosen)
        ]
        pulls = anchors(space, named)
        if not names:
            pulls = [seeded.Anchor(a.examples, None) for a in pulls]
        labels = seeded.assign(points, pulls)
        used = {int(i) for p in picks.values() for i in p}
        scored = [i for i, r in enumerate(rows) if r.label in chosen and i not in used]
        right = sum(1 for i in scored if labels[i] >= 0 and chosen[labels[i]] == rows[i].label)
        accuracies.append(right / len(scored))
        examples = np.concatenate([picks[t] for t in chosen])
        of_example = np.repeat(np.arange(len(chosen)), EXAMPLES)
        nearest_theme = of_example[(points @ points[examples].T).argmax(axis=1)]
        nearest.append(np.mean([chosen[nearest_theme[i]] == rows[i].label for i in scored]))
        loose = seeded.assign(points, pulls, least=-2.0, propose=False)
        unthresholded.append(np.mean([chosen[loose[i]] == rows[i].label for i in scored]))
        coverages.append(sum(1 for i in scored if labels[i] >= 0) / len(scored))
        joined = [i for i, r in enumerate(rows) if labels[i] >= 0 and i not in used]
        precisions.append(
            sum(1 for i in joined if chosen[labels[i]] == rows[i].label) / max(len(joined), 1)
        )
    return {
        "examples": EXAMPLES,
        "names": names,
        "draws": draws,
        "accuracy": float(np.mean(accuracies)),
        "worst": float(np.min(accuracies)),
        "coverage": float(np.mean(coverages)),
        "precision": float(np.mean(precisions)),
        "nearest_example": float(np.mean(nearest)),
        "no_threshold": float(np.mean(unthresholded)),
        "seeded_themes": len(chosen),
    }


def _embed(rows: list) -> np.ndarray:
    """The method's embeddings: each answer's content words, read in its language."""
    return embed([r.text for r in rows], [r.language for r in rows])


def whole_texts(texts: list[str]) -> np.ndarray:
    """Plain E5 embeddings of the whole texts (the baseline's and the previous method's)."""
    model = _load()
    vectors = np.asarray(model.query(texts), dtype=np.float32)  # type: ignore[attr-defined]
    return vectors.reshape(len(texts), DIM)


def _space(rows: list, raw: np.ndarray) -> Space:
    return Space.fit(raw)


def run_part(part: str) -> dict[str, Any]:
    out = unaided(part)
    out["seeded"] = seeded_accuracy(part)
    out["seeded_examples_only"] = seeded_accuracy(part, names=False)
    out["seeded_some"] = seeded_accuracy(part, seeded_themes=3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=sorted(PARTS), default="dev")
    args = parser.parse_args()
    print(json.dumps(run_part(args.part), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
