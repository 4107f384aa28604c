"""Time and memory to theme N answers (10,000 in the full run), in a process of its own.

The answers are the corpus's, each varied (a greeting, a closing word, a dropped or doubled
letter) so that all N are different texts and each is embedded: no cache helps. The run goes
the way a county's server does: the answers' embeddings are made once and kept in a real
SQLite store (:mod:`kanavat.themes.stored`), then a report or ``kanavat themes`` reads them back
and finds the themes. Prints one JSON line: seconds to embed (and the rate), to store, to read
back, to find themes (space, clustering, words), to find them again once three themes are
seeded (the seeded rounds, in which proposed themes compete, then the rest clustered), and the
process's peak resident memory.

    python -m bench.themes.scale 10000
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from bench.common import own_peak_mb
from bench.themes.corpus import THEME_NAMES, load
from kanavat.themes import analyse as analysis
from kanavat.themes import embed as embedding
from kanavat.themes import stored

OPENINGS = ("", "", "no ", "hei ", "tota ", "jo ", "hej ", "siis ", "asså ")
SEEDED = ("jonot", "kotihoito", "liikenne")
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
            out.append(analysis.Answer(text, r.language, str(len(out)), len(out) + 1))
    return out


def seeded_themes() -> list[analysis.NamedTheme]:
    """Three themes an official seeded with three of the development part's answers each and
    a name (a later run: the answers are assigned to them, the rest proposed)."""
    rows = load("dev")
    out = []
    for number, label in enumerate(SEEDED):
        examples = [r for r in rows if r.label == label][:3]
        vectors = embedding.embed([r.text for r in examples], [r.language for r in examples])
        out.append(analysis.NamedTheme(number, THEME_NAMES[label], vectors.sum(axis=0), 3))
    return out


def main() -> None:
    from kanavat.store import Store

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    given = answers(n)
    items = [(a.answer_id, a.text, a.language) for a in given]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "scale.db", secret="bench")
        started = time.perf_counter()
        cpu_started = time.process_time()
        embedding._load()
        loaded = time.perf_counter()
        made = embedding.embed([t for _, t, _ in items], [lang for *_, lang in items])
        embedded = time.perf_counter()
        cpu_embedding = time.process_time() - cpu_started
        embedding._cache.clear()  # the store, not the process's cache, serves what follows
        stored_at = time.perf_counter()
        # What a first report run does: finds none stored, keeps them (embedded above).
        with store.transaction():
            store.executemany(
                "INSERT INTO answer_embeddings (answer_id, campaign_id, question, text_key, "
                "model, vector, created_at) VALUES (?, 'bench', 'q', ?, ?, ?, ?)",
                [
                    (i, stored.text_key(t), stored.model_name(), stored.encode(v), store.now())
                    for (i, t, _), v in zip(items, made, strict=True)
                ],
            )
        kept = time.perf_counter()
        vectors = stored.vectors(store, "bench", "q", items)  # a later run: all read back
        read = time.perf_counter()
        result = analysis.analyse(given, (), vectors)
        done = time.perf_counter()
        named = seeded_themes()
        named_at = time.perf_counter()
        with_named = analysis.analyse(given, named, vectors)
        named_done = time.perf_counter()
        store.close()
    peak_mb = own_peak_mb()
    print(
        json.dumps(
            {
                "answers": n,
                "model_load_seconds": loaded - started,
                "embed_seconds": embedded - loaded,
                "embed_ms_per_answer": 1000 * (embedded - loaded) / n,
                "embed_cpu_seconds": cpu_embedding,
                "store_seconds": kept - stored_at,
                "read_seconds": read - kept,
                "themes_seconds": done - read,
                "total_seconds": done - started,
                "peak_rss_mb": peak_mb,
                "themes": len(result.themes),
                "strays": len(result.strays),
                "seeded_seconds": named_done - named_at,
                "seeded_assigned": sum(len(t.members) for t in with_named.themes if t.named),
                "omp_threads": os.environ.get("OMP_NUM_THREADS", "all"),
                "embed_batch": embedding.BATCH,
            }
        )
    )


if __name__ == "__main__":
    main()
