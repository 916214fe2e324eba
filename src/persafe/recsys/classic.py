"""Classic recommenders: random, popularity, item-kNN and EASE, trained on the train split."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from persafe.catalog.items import Catalog
from persafe.metrics.lists import PAD
from persafe.recsys.base import Recommendations, history_rows, interaction_matrix
from persafe.saferec.schema import SafeRecSample


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best columns per row, by score and then by column (catalog row, i.e. item order) on ties.

    Ties are common (popularity counts, zero scores); ``argpartition`` breaks them in no stated order,
    so a stable sort keeps every ranking reproducible (and is as fast here: 1,715 × 1,682 in ~0.1 s).
    """
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


class _ScoreRecommender:
    """Shared ranking: score every item per sample, never recommend the history."""

    name = "score"

    def __init__(self) -> None:
        self.catalog: Catalog | None = None

    def _scores(self, hist: np.ndarray, samples: Sequence[SafeRecSample]) -> np.ndarray:
        raise NotImplementedError

    def recommend(self, samples: Sequence[SafeRecSample], k: int) -> Recommendations:
        if self.catalog is None:
            raise RuntimeError(f"{self.name}: call fit() before recommend()")
        n_items = len(self.catalog)
        hist = np.zeros((len(samples), n_items), dtype=np.float32)
        for i, s in enumerate(samples):
            hist[i, history_rows(s, self.catalog)] = 1.0
        scores = self._scores(hist, samples).astype(np.float64)
        scores[hist > 0] = -np.inf
        k_eff = min(k, n_items)
        rows = top_k(scores, k_eff)
        rows[~np.isfinite(np.take_along_axis(scores, rows, axis=1))] = PAD
        out = np.full((len(samples), k), PAD, dtype=np.int64)
        out[:, :k_eff] = rows
        return Recommendations(rows=out)


class RandomRecommender(_ScoreRecommender):
    """Uniformly random items (seeded per sample, so reruns and resumed runs agree)."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.seed = seed

    def fit(self, samples: Sequence[SafeRecSample], catalog: Catalog) -> None:
        self.catalog = catalog

    def _scores(self, hist: np.ndarray, samples: Sequence[SafeRecSample]) -> np.ndarray:
        out = np.empty(hist.shape)
        for i, s in enumerate(samples):
            h = int.from_bytes(hashlib.sha256(f"{self.seed}:{s.sample_id}".encode()).digest()[:8], "little")
            out[i] = np.random.default_rng(h).random(hist.shape[1])
        return out


class PopularityRecommender(_ScoreRecommender):
    """The most-liked items of the training data."""

    name = "popularity"

    def fit(self, samples: Sequence[SafeRecSample], catalog: Catalog) -> None:
        self.catalog = catalog
        self.counts = interaction_matrix(samples, catalog).sum(axis=0)

    def _scores(self, hist: np.ndarray, samples: Sequence[SafeRecSample]) -> np.ndarray:
        return np.broadcast_to(self.counts, hist.shape).copy()


class ItemKNNRecommender(_ScoreRecommender):
    """Item-based collaborative filtering: cosine similarity, ``neighbors`` nearest items kept.

    Args:
        neighbors: similarities kept per item (the rest set to 0).
        shrink: added to the cosine denominator to damp rare co-occurrences.
    """

    name = "itemknn"

    def __init__(self, neighbors: int = 100, shrink: float = 10.0) -> None:
        super().__init__()
        self.neighbors, self.shrink = neighbors, shrink

    def fit(self, samples: Sequence[SafeRecSample], catalog: Catalog) -> None:
        self.catalog = catalog
        x = interaction_matrix(samples, catalog)
        co = x.T @ x
        norms = np.sqrt(np.diag(co))
        sim = co / (np.outer(norms, norms) + self.shrink)
        np.fill_diagonal(sim, 0.0)
        if self.neighbors < sim.shape[1]:
            cut = np.argsort(-sim, axis=1, kind="stable")[:, self.neighbors :]  # ties: lower row kept
            np.put_along_axis(sim, cut, 0.0, axis=1)
        self.sim = sim.astype(np.float32)

    def _scores(self, hist: np.ndarray, samples: Sequence[SafeRecSample]) -> np.ndarray:
        return hist @ self.sim.T


class EASERecommender(_ScoreRecommender):
    """EASE (Steck, 2019): a closed-form linear item-item model.

    Args:
        l2: ridge regularisation λ.
    """

    name = "ease"

    def __init__(self, l2: float = 250.0) -> None:
        super().__init__()
        self.l2 = l2

    def fit(self, samples: Sequence[SafeRecSample], catalog: Catalog) -> None:
        self.catalog = catalog
        x = interaction_matrix(samples, catalog).astype(np.float64)
        g = x.T @ x
        g[np.diag_indices_from(g)] += self.l2
        p = np.linalg.inv(g)
        b = -p / np.diag(p)[None, :]
        np.fill_diagonal(b, 0.0)
        self.b = b.astype(np.float32)

    def _scores(self, hist: np.ndarray, samples: Sequence[SafeRecSample]) -> np.ndarray:
        return hist @ self.b
