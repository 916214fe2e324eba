"""Recommenders by name, for the command line."""

from __future__ import annotations

from collections.abc import Callable

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


INFERENCES = ("lexicon", "embedding", "lexicon+embedding", "llm")
"""Constraint-inference methods for ``SafetyGuard`` (``llm`` needs a model spec)."""


def make_inference(name: str, model_spec: str | None = None, cache: bool = True):
    """A constraint inferer by name (``llm`` uses the chat model ``model_spec``, default ``smollm2``)."""
    from persafe.recsys.inference import LexiconInference, UnionInference

    if name == "lexicon":
        return LexiconInference()
    if name in ("embedding", "lexicon+embedding"):
        from persafe.recsys.embedding import EmbeddingInference

        emb = EmbeddingInference()
        return emb if name == "embedding" else UnionInference([LexiconInference(), emb])
    if name == "llm":
        from persafe.llm import load_model
        from persafe.recsys.llm_inference import LLMInference

        return LLMInference(load_model(model_spec or "smollm2", cache=cache))
    raise UnknownNameError("constraint inference", name, INFERENCES)
