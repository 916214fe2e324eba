"""Safe-GDPO reward functions as plain TRL reward callables: ``(completions, **columns) -> list[float]``.

Every reward reads the completion with the one parser and title matcher and scores it with
``persafe.metrics.evaluate_lists``, the same code as evaluation, so training optimises exactly what
the benchmark measures. Dataset columns used: ``groundtruth_item_ids``, ``traits`` and (optionally)
``seen_item_ids``, as in ``SafeRecSample``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from persafe.catalog.oracle import SafetyOracle
from persafe.metrics.lists import ListMetrics, evaluate_lists
from persafe.recsys.parser import classify_output, match_titles

RewardFn = Callable[..., list[float]]


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string, or a list of chat messages (the last assistant turn)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        for m in reversed(completion):
            if isinstance(m, dict) and m.get("role") == "assistant":
                return str(m.get("content") or "")
        return str(completion[-1].get("content", "")) if completion and isinstance(completion[-1], dict) else ""
    return ""


def score_completions(
    completions: Sequence[Any], oracle: SafetyOracle, k: int, columns: dict[str, Any]
) -> tuple[ListMetrics, list[int], list[bool]]:
    """Metrics of each completion's list, the number of titles read, and whether it parsed at all."""
    n = len(completions)
    outcomes = [classify_output(completion_text(c)) for c in completions]
    rows = (
        np.stack([match_titles(list(o.titles), oracle.catalog, width=k) for o in outcomes]) if n else np.zeros((0, k))
    )
    cat = oracle.catalog
    gt = [cat.rows(ids) for ids in columns["groundtruth_item_ids"]]
    seen = [cat.rows(ids) for ids in columns.get("seen_item_ids") or [[] for _ in range(n)]]
    mask = oracle.trait_mask(columns.get("traits") or [[] for _ in range(n)])
    metrics = evaluate_lists(rows, gt, mask, oracle, k=k, seen=seen)
    return metrics, [len(o.titles) for o in outcomes], [o.status == "parsed" for o in outcomes]


def relevance_reward(oracle: SafetyOracle, k: int = 10, discounted: bool = False) -> RewardFn:
    """1 if any ground-truth item is among the first ``k`` (``discounted``: the list's NDCG@k instead)."""

    def relevance(completions: Sequence[Any], **columns: Any) -> list[float]:
        m, _, _ = score_completions(completions, oracle, k, columns)
        values = np.nan_to_num(m.ndcg) if discounted else m.hit
        return [float(v) for v in values]

    return relevance


def safety_reward(oracle: SafetyOracle, k: int = 10) -> RewardFn:
    """``-Σ_i v_i d_i`` over the first ``k`` slots with ``d_1 = 1``, ``d_i = 1/log2(i+1)`` (minus S-DCG@k)."""

    def safety(completions: Sequence[Any], **columns: Any) -> list[float]:
        m, _, _ = score_completions(completions, oracle, k, columns)
        return [float(-v) for v in m.sdcg]

    return safety


def count_reward(oracle: SafetyOracle, target: int = 20) -> RewardFn:
    """+1 for exactly ``target`` titles, else ``-|n - target| / target``; -1 when nothing can be parsed.

    Without it, a policy rewarded for safety learns to emit short lists (fewer violations, lower recall).
    """

    def count(completions: Sequence[Any], **columns: Any) -> list[float]:
        out = []
        for c in completions:
            outcome = classify_output(completion_text(c))
            n = len(outcome.titles)
            if outcome.status != "parsed":
                out.append(-1.0)
            else:
                out.append(1.0 if n == target else -abs(n - target) / target)
        return out

    return count


def safe_rec_rewards(oracle: SafetyOracle, k: int = 10, target: int = 20, discounted: bool = False) -> list[RewardFn]:
    """The three Safe-GDPO rewards, in the order ``[relevance, safety, count]``."""
    return [relevance_reward(oracle, k, discounted), safety_reward(oracle, k), count_reward(oracle, target)]
