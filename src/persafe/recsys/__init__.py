"""Recommenders (classic and, later, LLM), the output parser and title matcher, and the SafetyGuard."""

from persafe.recsys.base import Recommendations, Recommender, history_rows, interaction_matrix
from persafe.recsys.classic import (
    EASERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    RandomRecommender,
)
from persafe.recsys.guard import SafetyGuard
from persafe.recsys.inference import (
    LEXICON,
    ConstraintInference,
    LexiconInference,
    inference_scores,
    strip_titles,
)
from persafe.recsys.parser import (
    ParsedTitle,
    ParseOutcome,
    classify_output,
    match_titles,
    parse_recommendations,
    parse_title_line,
)
from persafe.recsys.registry import RECOMMENDERS, make_recommender

__all__ = [
    "LEXICON",
    "RECOMMENDERS",
    "ConstraintInference",
    "EASERecommender",
    "ItemKNNRecommender",
    "LexiconInference",
    "ParseOutcome",
    "ParsedTitle",
    "PopularityRecommender",
    "RandomRecommender",
    "Recommendations",
    "Recommender",
    "SafetyGuard",
    "classify_output",
    "history_rows",
    "inference_scores",
    "interaction_matrix",
    "make_recommender",
    "match_titles",
    "parse_recommendations",
    "parse_title_line",
    "strip_titles",
]
