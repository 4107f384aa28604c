"""Cross-validation of seeded assignment within the development part only (never a held-out
part): the figures :mod:`kanavat.themes.seeded` was chosen by.

Each draw takes a setting, picks three examples per seeded theme from the answers of that
setting (with the theme's name), assigns as the product does and scores the other labelled
answers of the seeded themes (unassigned counts wrong):

- ``all``: the whole development part, every theme seeded;
- ``160``: a random 160-answer subset (a held-out part's size), every theme seeded;
- ``some``: the whole part, three themes seeded; ``precision`` is the share of the answers
  joining a seeded theme that are its own (nothing else is seeded to compete for them);
- ``some-160``: the same on a random 160-answer subset (added after the fourth look's
  held-out run showed that precision lower on the 160-answer held-out parts);
- ``3-topic``: the answers of three topics (and the "-" ones), all three seeded.

    python -m bench.themes.seeded_cv --draws 30
    python -m bench.themes.seeded_cv --set ASSIGN_MIN=0.2 --set PROPOSED_MARGIN=9
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from bench.themes.corpus import NONE, THEME_NAMES, load
from kanavat.themes import seeded
from kanavat.themes.analyse import NamedTheme, anchors
from kanavat.themes.embed import embed
from kanavat.themes.space import Space

SETTINGS = ("all", "160", "some", "some-160", "3-topic")
EXAMPLES = 3


def _setting(kind: str, labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list]:
    topics = sorted(THEME_NAMES)
    if kind == "all":
        return np.arange(len(labels)), topics
    if kind == "160":
        return np.sort(rng.choice(len(labels), 160, replace=False)), topics
    if kind == "some":
        return np.arange(len(labels)), sorted(rng.choice(topics, 3, replace=False))
    if kind == "some-160":
        subset = np.sort(rng.choice(len(labels), 160, replace=False))
        return subset, sorted(rng.choice(topics, 3, replace=False))
    if kind == "3-topic":
        chosen = sorted(rng.choice(topics, 3, replace=False))
        return np.flatnonzero(np.isin(labels, [*chosen, NONE])), chosen
    raise ValueError(kind)


def evaluate(draws: int = 30, seed: int = 7) -> dict[str, Any]:
    rows = load("dev")
    raw = embed([r.text for r in rows], [r.language for r in rows])
    labels = np.array([r.label for r in rows])
    out: dict[str, Any] = {}
    for kind in SETTINGS:
        rng = np.random.default_rng(seed)
        right, precision = [], []
        while len(right) < draws:
            subset, chosen = _setting(kind, labels, rng)
            own = labels[subset]
            if any(np.sum(own == t) <= EXAMPLES for t in chosen):
                continue
            picks = {
                t: rng.choice(np.flatnonzero(own == t), EXAMPLES, replace=False) for t in chosen
            }
            vectors = raw[subset]
            space = Space.fit(vectors)
            named = [
                NamedTheme(j, THEME_NAMES[t], vectors[picks[t]].sum(axis=0), EXAMPLES)
                for j, t in enumerate(chosen)
            ]
            found = seeded.assign(space.apply(vectors), anchors(space, named))
            used = {int(i) for p in picks.values() for i in p}
            scored = [i for i in range(len(subset)) if own[i] in chosen and i not in used]
            right.append(np.mean([found[i] >= 0 and chosen[found[i]] == own[i] for i in scored]))
            joined = [i for i in range(len(subset)) if found[i] >= 0 and i not in used]
            precision.append(np.mean([chosen[found[i]] == own[i] for i in joined] or [0.0]))
        out[kind] = {
            "right": round(float(np.mean(right)), 3),
            "worst": round(float(np.min(right)), 3),
            "precision": round(float(np.mean(precision)), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--set", action="append", default=[], help="NAME=VALUE: a kanavat.themes.seeded setting"
    )
    args = parser.parse_args()
    for setting in args.set:
        name, value = setting.split("=", 1)
        if not hasattr(seeded, name):
            parser.error(f"kanavat.themes.seeded has no setting {name}")
        setattr(seeded, name, type(getattr(seeded, name))(value))
    print(json.dumps(evaluate(args.draws, args.seed)))


if __name__ == "__main__":
    main()
