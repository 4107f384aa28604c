"""The space answers are compared in: E5 vectors centred, with the language and register
axes taken out.

E5's cosine similarities sit close together (any two Finnish sentences score about 0.85), so
the mean of the question's answers is subtracted first; after that an unrelated pair scores
about zero and a fixed threshold means the same for every question. On the development corpus
the first principal direction of the centred answers separated Finnish from Swedish and the
second written answers from SMS and transcripts; removing both let a Swedish answer about
phone queues join the Finnish ones (ARI 0.33 -> 0.53 at the chosen threshold).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AXES_REMOVED = 2
MIN_FOR_AXES = 20
"""Fewer answers than this do not show their language and register axes reliably."""


@dataclass(frozen=True)
class Space:
    mean: np.ndarray
    axes: np.ndarray
    """(k, 384) orthonormal directions projected out; k = 0 for few answers."""

    @classmethod
    def fit(cls, vectors: np.ndarray) -> Space:
        if len(vectors) == 0:
            return cls(np.zeros(vectors.shape[1], np.float32), np.zeros((0, vectors.shape[1])))
        mean = vectors.mean(axis=0)
        axes = np.zeros((0, vectors.shape[1]), np.float32)
        if len(vectors) >= MIN_FOR_AXES:
            centred = vectors - mean
            _, _, vt = np.linalg.svd(centred, full_matrices=False)
            axes = vt[:AXES_REMOVED]
        return cls(mean.astype(np.float32), axes.astype(np.float32))

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """The vectors in this space, L2-normalised (a zero vector stays zero)."""
        out = np.asarray(vectors, dtype=np.float32) - self.mean
        if len(self.axes):
            out = out - (out @ self.axes.T) @ self.axes
        return normalise(out)


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
