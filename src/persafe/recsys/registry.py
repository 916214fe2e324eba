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
