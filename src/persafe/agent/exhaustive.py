"""Exhaustive search: the exact best path for small depths, the yardstick of the planners.

With ``reward_mode="leaf"`` the value of a path is the reward of its final set, so the optimum is
the best set of size k (any order). With ``"prefix"`` it is the mean reward of the prefix sets,
maximised by dynamic programming over sets: ``best(S) = r(S) + max_{a∈S} best(S∖{a})``; both judge
every set up to size k once (through the reward cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Literal

from pydantic import BaseModel

from persafe.agent.reward import RewardCache, RewardFn


class ExhaustiveResult(BaseModel):
    """The optimum over every path of length k."""

    path: list[str]
    value: float | None
    """The objective of ``path`` (``None`` if every candidate was invalid)."""
    n_judged: int
    """Attribute sets evaluated."""


def exhaustive(
    reward: RewardFn,
    attributes: Sequence[str],
    depth: int,
    reward_mode: Literal["leaf", "prefix"] = "leaf",
    *,
    query_key: str = "",
    cache: RewardCache | None = None,
    batch_size: int = 64,
) -> ExhaustiveResult:
    """The best path of length ``min(depth, len(attributes))`` under the planner's objective.

    Example:
        >>> r = lambda states: [float(len(s & {"a"})) + 0.5 * len(s & {"b"}) for s in states]
        >>> exhaustive(r, ["a", "b", "c"], 2, "prefix").path
        ['a', 'b']
    """
    cache = cache if cache is not None else RewardCache()
    attrs = list(attributes)
    depth = min(depth, len(attrs))
    sizes = [depth] if reward_mode == "leaf" else range(1, depth + 1)
    states = [frozenset(c) for n in sizes for c in combinations(attrs, n)]
    before = cache.misses
    rewards: dict[frozenset[str], float | None] = {}
    for start in range(0, len(states), batch_size):
        chunk = states[start : start + batch_size]
        rewards.update(zip(chunk, cache.evaluate(query_key, chunk, reward), strict=True))
    order = {a: i for i, a in enumerate(attrs)}
    if reward_mode == "leaf":
        valid = [(s, r) for s, r in rewards.items() if r is not None]
        if not valid:
            return ExhaustiveResult(path=[], value=None, n_judged=cache.misses - before)
        best, value = max(valid, key=lambda x: (x[1], [-order[a] for a in sorted(x[0], key=order.get)]))
        return ExhaustiveResult(path=sorted(best, key=order.get), value=value, n_judged=cache.misses - before)
    # prefix mode: total[S] = max over orderings of S of the summed prefix rewards (invalid count as missing)
    total: dict[frozenset[str], tuple[float, int, tuple[str, ...]]] = {frozenset(): (0.0, 0, ())}
    for n in range(1, depth + 1):
        for c in combinations(attrs, n):
            s = frozenset(c)
            r = rewards[s]
            best = None
            for a in c:
                sub_sum, sub_n, sub_path = total[s - {a}]
                cand = (sub_sum + (r or 0.0), sub_n + (r is not None), (*sub_path, a))
                if best is None or _mean(cand) > _mean(best):
                    best = cand
            total[s] = best  # type: ignore[assignment]
    finals = [total[frozenset(c)] for c in combinations(attrs, depth)]
    best = max(finals, key=_mean)
    value = best[0] / best[1] if best[1] else None
    return ExhaustiveResult(path=list(best[2]), value=value, n_judged=cache.misses - before)


def _mean(entry: tuple[float, int, tuple[str, ...]]) -> float:
    return entry[0] / entry[1] if entry[1] else float("-inf")
