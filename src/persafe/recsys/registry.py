"""Recommenders by name, for the command line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from persafe.errors import UnknownNameError
from persafe.recsys.base import Recommender
from persafe.recsys.classic import (
    EASERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    RandomRecommender,
)

RECOMMENDERS: dict[str, Callable[[], Recommender]] = {
    "random": RandomRecommender,
    "popularity": PopularityRecommender,
    "itemknn": ItemKNNRecommender,
    "ease": EASERecommender,
}
"""Factories of the built-in recommenders."""


def make_recommender(name: str) -> Recommender:
    """A new recommender by name (lists the valid names when unknown)."""
    if name not in RECOMMENDERS:
        raise UnknownNameError("recommender", name, RECOMMENDERS)
    return RECOMMENDERS[name]()


INFERENCES = ("lexicon", "learned", "lexicon+learned", "embedding", "lexicon+embedding", "llm")
"""Constraint-inference methods for ``SafetyGuard`` (``llm`` needs a model spec)."""

DEFAULT_INFERENCE = "lexicon+learned"
"""The inferer the guard and ``persafe infer`` use unless told otherwise (the best on the held-out
SafeRec-ML100k test phrasings: see the README's inference table)."""

LEARNING_INFERENCES = ("learned", "lexicon+learned", "embedding", "lexicon+embedding")
"""Inferers fitted on training samples (``fit``) before they infer."""


def make_inference(
    name: str,
    model_spec: str | None = None,
    cache: bool = True,
    traits: Sequence[str] | None = None,
    calibration: Sequence[Any] | None = None,
    fit_cache: bool = True,
):
    """A constraint inferer by name.

    Args:
        name: one of ``INFERENCES``; ``a+b`` unions the traits two inferers find.
        model_spec: the chat model of ``llm`` (default ``smollm2``).
        cache: reuse cached model answers (``llm``).
        traits: the trait ids ``learned`` predicts (default: the built-in taxonomy).
        calibration: validation samples that set ``learned``'s per-trait thresholds (default: a held-out
            fifth of the training users).
        fit_cache: reuse a fitted ``learned`` model from the user cache (it is keyed by what it was
            fitted on; off retrains).
    """
    from persafe.recsys.inference import LexiconInference, UnionInference

    if name not in INFERENCES:
        raise UnknownNameError("constraint inference", name, INFERENCES)
    if name == "lexicon":
        return LexiconInference()
    if name in ("learned", "lexicon+learned"):
        from persafe.recsys.learned import LearnedInference

        if traits is None:
            from persafe.catalog import builtin_traits

            traits = builtin_traits().ids
        learned = LearnedInference(traits, calibration=calibration, cache=fit_cache)
        return learned if name == "learned" else UnionInference([LexiconInference(), learned])
    if name in ("embedding", "lexicon+embedding"):
        from persafe.recsys.embedding import EmbeddingInference

        emb = EmbeddingInference()
        return emb if name == "embedding" else UnionInference([LexiconInference(), emb])
    from persafe.llm import load_model
    from persafe.recsys.llm_inference import LLMInference

    return LLMInference(load_model(model_spec or "smollm2", cache=cache))
