"""Ranking and personalized-safety metrics (vectorised), with bootstrap confidence intervals."""

from persafe.metrics.bootstrap import aggregate, breakdown, mean_ci
from persafe.metrics.lists import (
    PAD,
    UNMATCHED,
    ListMetrics,
    discounts,
    evaluate_lists,
    pad_lists,
    remove_seen,
)

__all__ = [
    "PAD",
    "UNMATCHED",
    "ListMetrics",
    "aggregate",
    "breakdown",
    "discounts",
    "evaluate_lists",
    "mean_ci",
    "pad_lists",
    "remove_seen",
]
