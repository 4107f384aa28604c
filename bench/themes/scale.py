"""Time and memory to theme N answers (10,000 in the full run), in a process of its own.

The answers are the corpus's, each varied (a greeting, a closing word, a dropped or doubled
letter) so that all N are different texts and each is embedded: no cache helps. Prints one
JSON line: seconds to embed, to find themes (space, clustering, words) and in all, and the
process's peak resident memory.

    python -m bench.themes.scale 10000
"""

from __future__ import annotations

import json
import random
import resource
import sys
import time

from bench.themes.corpus import load
from kanavat.themes import analyse as analysis
from kanavat.themes.embed import embed

OPENINGS = ("", "", "no ", "hei ", "tota ", "jo ", "hej ", "siis ", "asså ")
CLOSINGS = ("", "", " kiitos", " tack", "!", "...", " :(", " t. asukas", " mvh")


def answers(n: int, seed: int = 10_000) -> list[analysis.Answer]:
    rng = random.Random(seed)
    rows = [r for part in ("dev", "heldout") for r in load(part)]
    out: list[analysis.Answer] = []
    seen: set[str] = set()
    while len(out) < n:
        r = rng.choice(rows)
        text = rng.choice(OPENINGS) + r.text + rng.choice(CLOSINGS)
        if len(text) > 4 and rng.random() < 0.7:
            i = rng.randrange(1, len(text) - 1)
            text = text[:i] + text[i + 1 :] if rng.random() < 0.5 else text[:i] + text[i] + text[i:]
        if text not in seen:
            seen.add(text)
            out.append(analysis.Answer(text, r.language, str(len(out))))
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    given = answers(n)
    started = time.perf_counter()
    embed([a.text for a in given])
    embedded = time.perf_counter()
    result = analysis.analyse(given)  # the embeddings are cached now: this is the rest
    done = time.perf_counter()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "answers": n,
                "embed_seconds": embedded - started,
                "themes_seconds": done - embedded,
                "total_seconds": done - started,
                "peak_rss_mb": peak_kb / 1024,
                "themes": len(result.themes),
                "strays": len(result.strays),
            }
        )
    )


if __name__ == "__main__":
    main()
