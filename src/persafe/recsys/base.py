"""The recommender protocol and the data every recommender returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from persafe.catalog.items import Catalog
from persafe.recsys.parser import parse_title_line
from persafe.saferec.schema import SafeRecSample


@dataclass
class Recommendations:
    """What a recommender produced for a batch of samples."""

    rows: np.ndarray
    """``(n, k)`` catalog rows in rank order; ``PAD`` (-1) empty, ``UNMATCHED`` (-2) unknown title."""
    raw: list[str] | None = None
    """Raw model text per sample (LLM recommenders)."""
    inferred_traits: list[list[str]] | None = None
    """Traits a guard inferred per sample."""
    extra: list[dict[str, object]] = field(default_factory=list)
    """Anything else worth keeping per sample (parse outcomes, backfill counts)."""
    errors: list[str | None] | None = None
    """Per sample, why a model call it needed failed (``None``: it did not). A failed sample's row is
    meaningless: evaluation records it as failed and never scores it."""


@runtime_checkable
class Recommender(Protocol):
    """Anything that recommends catalog items for SafeRec samples.

    ``fit`` sees training samples only; ``recommend`` returns ``k`` catalog rows per sample.
    """

    name: str

    def fit(self, samples: Sequence[SafeRecSample], catalog: Catalog) -> None:
        """Learn from training samples (a no-op for zero-shot recommenders)."""
        ...

    def recommend(self, samples: Sequence[SafeRecSample], k: int) -> Recommendations:
        """Recommend ``k`` items per sample."""
        ...


def history_rows(sample: SafeRecSample, catalog: Catalog) -> list[int]:
    """Catalog rows of a sample's history (its liked items, or else the titles it names)."""
    if sample.history_item_ids:
        return [catalog.row[i] for i in sample.history_item_ids if i in catalog.row]
    rows = []
    for t in sample.seen_titles:
        parsed = parse_title_line(t)  # seen titles are written "Title (Year)"
        m = catalog.match(*parsed) if parsed else None
        if m is not None and m.index >= 0:
            rows.append(m.index)
    return rows


def interaction_matrix(samples: Sequence[SafeRecSample], catalog: Catalog) -> np.ndarray:
    """users × items 0/1 matrix of everything the training samples show (history and ground truth).

    Training samples of one user overlap; their union is that user's liked items before the
    validation cut, so nothing from validation or test leaks in.
    """
    per_user: dict[str, set[int]] = {}
    for s in samples:
        key = s.user_id or s.sample_id
        items = per_user.setdefault(key, set())
        items.update(history_rows(s, catalog))
        items.update(catalog.row[i] for i in s.groundtruth_item_ids if i in catalog.row)
    x = np.zeros((len(per_user), len(catalog)), dtype=np.float32)
    for u, items in enumerate(per_user.values()):
        x[u, list(items)] = 1.0
    return x
