"""The RAISE offline planner: LLM-guided Monte-Carlo tree search over attribute-acquisition paths.

A state is the set ``U`` of attributes acquired so far, an action asks one more, and the reward is the
judge's safety score of the answer generated with ``U`` (RAISE). One iteration ("rollout"):

1. **selection** — from the root, take the action maximising
   ``Q̂(U∪{a}) + c·π0(a|q,U)·sqrt(Σ_b N_b)/(1+N_a)`` (PUCT; an action never tried scores the parent's
   ``Q̂``, so the prior decides which new action is tried first — as in AlphaZero), ties at random;
2. **expansion** — the first action never tried before on the way down becomes a new node;
3. **rollout** — continue to depth ``k``: at depth ``d`` pick the prior's most likely unasked attribute
   (greedy, ties at random) with probability ``1 − ε(d)``, a uniformly random one otherwise, with
   ``ε(d) = ε0 / (1 + exp(d − k/2))`` (more exploration near the root);
4. **backup** — add the value to every node on the path.

The value of a rollout is the mean reward of every prefix state (``reward_mode="prefix"``, the
default: it rewards asking the important attributes *early*, which an agent that may stop after any
question needs) or the reward of its final state only (``"leaf"``, the reference; order-blind).
``Q̂`` is ``Q`` min-max normalised over the values seen so far (as in MuZero) so that ``c`` means the
same for a 1–5 judge score and a 0–1 proxy.
A reward of ``None`` (an invalid verdict) is excluded from the backup: the visit counts (exploration
term) still grow so the search moves on, but the value sums and their counts do not.

The best path follows the highest-``Q`` child at each depth (continued greedily by the prior where
the tree is shallower than k). Every reward goes through a
``RewardCache``: no (query, attribute set) is judged twice. MCTS is written here by hand because no
maintained library offers PUCT with an external batched reward and per-node priors.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from persafe.agent.prior import Prior, UniformPrior
from persafe.agent.reward import RewardCache, RewardFn


class PlannerConfig(BaseModel):
    """Parameters of one planning run (stored with the plans)."""

    model_config = ConfigDict(frozen=True)

    rollouts: int = Field(300, ge=1)
    """T: iterations of selection–expansion–rollout–backup."""
    depth: int = Field(5, ge=1)
    """k: the longest path (questions asked)."""
    c: float = Field(0.75, ge=0.0)
    """Exploration constant of PUCT (the reference uses 0.5–1)."""
    eps0: float = Field(0.2, ge=0.0, le=1.0)
    """ε0 of the rollout policy ``ε(d) = ε0 / (1 + exp(d − k/2))``."""
    reward_mode: Literal["leaf", "prefix"] = "prefix"
    """Value of a rollout: mean reward of every prefix state (default: an agent may stop after any
    question, so every prefix must be good), or the reward of its final state (``leaf``, the reference)."""
    use_cache: bool = True
    """Memoise rewards per (query, attribute set); off only to measure what the cache saves."""
    seed: int = 0
    """Seed of tie-breaking and ε-exploration."""


@dataclass
class Node:
    """One node of the search tree: the path of attributes asked so far."""

    path: tuple[str, ...]
    parent: Node | None = None
    children: dict[str, Node] = field(default_factory=dict)
    visits: int = 0
    """N: rollouts through this node (including ones whose reward was invalid)."""
    valued: int = 0
    """Rollouts through this node that returned a valid reward."""
    value_sum: float = 0.0

    @property
    def q(self) -> float | None:
        """Mean value of the valid rollouts through this node (``None`` before the first one)."""
        return self.value_sum / self.valued if self.valued else None

    @property
    def state(self) -> frozenset[str]:
        return frozenset(self.path)


class PlanResult(BaseModel):
    """The outcome of planning for one query."""

    query_key: str
    path: list[str]
    """Best path: the highest-Q child at each depth."""
    q_values: list[float]
    """Q of each step of ``path``."""
    path_value: float | None
    """The objective (``reward_mode``) of ``path`` computed from cached rewards (``None`` if not all known)."""
    best_state: list[str]
    """The evaluated attribute set with the highest reward."""
    best_state_reward: float | None
    rollouts: int
    n_judged: int
    """Rewards computed (cache misses): judge calls."""
    n_cache_hits: int
    n_invalid: int
    """Rewards that came back ``None`` (invalid verdicts)."""
    seconds: float
    trace: list[list[str]] = Field(default_factory=list)
    """Best path after each rollout (to measure how soon the planner finds a path)."""

    def rollouts_to(self, path: Sequence[str], *, as_set: bool = False) -> int | None:
        """1-based rollout after which the best path first equals ``path`` (and stays so to the end)."""
        want = frozenset(path) if as_set else tuple(path)
        first = None
        for i, p in enumerate(self.trace):
            got = frozenset(p) if as_set else tuple(p)
            first = first or i + 1 if got == want else None
        return first


def epsilon(d: int, depth: int, eps0: float) -> float:
    """Exploration rate of the rollout policy at depth ``d`` (0-based): ``ε0 / (1 + exp(d − k/2))``."""
    return eps0 / (1.0 + math.exp(d - depth / 2))


class Planner:
    """MCTS for one query; ``plan`` is the one-call form.

    Args:
        query: the query text (given to the prior).
        reward: batched reward of attribute sets.
        prior: π0 over unasked attributes (``UniformPrior`` gives vanilla MCTS).
        attributes: the attributes that may be asked.
        config: planner parameters.
        cache: a shared reward cache (default: a new one); keyed by ``query_key``.
        query_key: identifies the query in the cache (default: ``query``).
    """

    def __init__(
        self,
        query: str,
        reward: RewardFn,
        prior: Prior,
        attributes: Sequence[str],
        config: PlannerConfig | None = None,
        cache: RewardCache | None = None,
        query_key: str | None = None,
    ) -> None:
        self.query, self.reward, self.prior = query, reward, prior
        self.attributes = list(attributes)
        self.config = config or PlannerConfig()
        self.depth = min(self.config.depth, len(self.attributes))
        self.cache = cache if cache is not None else RewardCache(enabled=self.config.use_cache)
        self.key = query_key or query
        self.rng = random.Random(self.config.seed)
        self.root = Node(())
        self._priors: dict[frozenset[str], dict[str, float]] = {}
        self._lo, self._hi = math.inf, -math.inf
        self.n_invalid = 0

    # --- pieces -----------------------------------------------------------------------------------

    def unasked(self, path: Sequence[str]) -> list[str]:
        return [a for a in self.attributes if a not in path]

    def pi(self, path: Sequence[str]) -> dict[str, float]:
        """π0 at a node, computed once per attribute set (the prior only sees which were asked)."""
        key = frozenset(path)
        if key not in self._priors:
            todo = self.unasked(path)
            raw = self.prior(self.query, tuple(path), todo)
            total = sum(max(0.0, raw.get(a, 0.0)) for a in todo)
            self._priors[key] = (
                {a: max(0.0, raw.get(a, 0.0)) / total for a in todo} if total > 0 else {a: 1 / len(todo) for a in todo}
            )
        return self._priors[key]

    def _norm(self, q: float) -> float:
        return (q - self._lo) / (self._hi - self._lo) if self._hi > self._lo else 0.5

    def _greedy(self, pi: dict[str, float], options: Sequence[str]) -> str:
        best = max(pi[a] for a in options)
        return self.rng.choice([a for a in options if pi[a] >= best - 1e-12])

    def select(self, node: Node) -> tuple[Node, bool]:
        """PUCT over every unasked action of ``node``; an action never tried is expanded (created).

        Unvisited and unvalued children score the parent's ``Q̂`` (first-play urgency), so the prior
        alone decides which new action is tried first. Returns the child and whether it is new.
        """
        pi = self.pi(node.path)
        total = math.sqrt(max(1, sum(ch.visits for ch in node.children.values())))
        parent_q = self._norm(node.q) if node.q is not None else 0.5
        best, best_score = [], -math.inf
        for a in self.unasked(node.path):
            ch = node.children.get(a)
            visits = ch.visits if ch else 0
            q = self._norm(ch.q) if ch is not None and ch.q is not None else parent_q
            score = q + self.config.c * pi[a] * total / (1 + visits)
            if score > best_score + 1e-12:
                best, best_score = [a], score
            elif abs(score - best_score) <= 1e-12:
                best.append(a)
        a = self.rng.choice(best)
        if a in node.children:
            return node.children[a], False
        child = Node((*node.path, a), parent=node)
        node.children[a] = child
        return child, True

    def rollout_path(self, path: tuple[str, ...]) -> tuple[str, ...]:
        """Extend ``path`` to depth k with the ε-greedy rollout policy."""
        while len(path) < self.depth:
            options = self.unasked(path)
            if self.rng.random() < epsilon(len(path), self.depth, self.config.eps0):
                a = self.rng.choice(options)
            else:
                a = self._greedy(self.pi(path), options)
            path = (*path, a)
        return path

    def value_states(self, path: Sequence[str]) -> list[frozenset[str]]:
        """The states whose rewards make up a path's value."""
        if self.config.reward_mode == "leaf":
            return [frozenset(path)]
        return [frozenset(path[: i + 1]) for i in range(len(path))]

    def path_value(self, path: Sequence[str], rewards: dict[frozenset[str], float | None]) -> float | None:
        vals = [rewards.get(s) for s in self.value_states(path)]
        vals = [v for v in vals if v is not None]
        return sum(vals) / len(vals) if vals else None

    # --- search -----------------------------------------------------------------------------------

    def iterate(self) -> tuple[str, ...]:
        """One selection–expansion–rollout–backup iteration; returns the rolled-out path."""
        node, new = self.root, False
        while len(node.path) < self.depth and not new:
            node, new = self.select(node)
        full = self.rollout_path(node.path)
        states = self.value_states(full)
        rewards = dict(zip(states, self.cache.evaluate(self.key, states, self.reward), strict=True))
        value = self.path_value(full, rewards)
        if value is None:
            self.n_invalid += 1
        else:
            self._lo, self._hi = min(self._lo, value), max(self._hi, value)
        while node is not None:
            node.visits += 1
            if value is not None:
                node.valued += 1
                node.value_sum += value
            node = node.parent
        return full

    def best_path(self) -> tuple[list[str], list[float]]:
        """Follow the highest-Q child (ties: more visits, then attribute order) down to depth k.

        Where the tree ends before depth k, the path continues with the prior's most likely attribute
        (ties in attribute order), as the rollouts would; those steps have no Q.
        """
        node: Node | None = self.root
        path: list[str] = []
        qs: list[float] = []
        order = {a: i for i, a in enumerate(self.attributes)}
        while node is not None and node.children:
            valued = [(a, ch) for a, ch in node.children.items() if ch.q is not None]
            if not valued:
                break
            a, node = max(valued, key=lambda x: (x[1].q, x[1].visits, -order[x[0]]))
            path.append(a)
            qs.append(float(node.q))  # type: ignore[arg-type]
        while len(path) < self.depth:
            pi = self.pi(path)
            path.append(max(self.unasked(path), key=lambda a: (pi[a], -order[a])))
        return path, qs

    def run(self, trace: bool = False) -> PlanResult:
        """Run ``config.rollouts`` iterations and return the best path."""
        start = time.perf_counter()
        judged0, hits0 = self.cache.misses, self.cache.hits
        traces = []
        for _ in range(self.config.rollouts):
            self.iterate()
            if trace:
                traces.append(self.best_path()[0])
        path, qs = self.best_path()
        known = self.cache.known(self.key)
        best_state = max(((s, r) for s, r in known.items() if r is not None), key=lambda x: x[1], default=(None, None))
        return PlanResult(
            query_key=self.key,
            path=path,
            q_values=qs,
            path_value=self.path_value(path, known) if len(path) == self.depth else None,
            best_state=sorted(best_state[0]) if best_state[0] is not None else [],
            best_state_reward=best_state[1],
            rollouts=self.config.rollouts,
            n_judged=self.cache.misses - judged0,
            n_cache_hits=self.cache.hits - hits0,
            n_invalid=self.n_invalid,
            seconds=time.perf_counter() - start,
            trace=traces,
        )


def plan(
    query: str,
    reward: RewardFn,
    prior: Prior | None,
    attributes: Sequence[str],
    config: PlannerConfig | None = None,
    *,
    cache: RewardCache | None = None,
    query_key: str | None = None,
    trace: bool = False,
) -> PlanResult:
    """Plan the attribute-acquisition path for one query.

    Args:
        query: the query text.
        reward: ``reward(states) -> [score or None]`` for a batch of attribute sets.
        prior: π0 (``None``: uniform, i.e. vanilla MCTS with random rollouts).
        attributes: the askable attributes.
        config: planner parameters.
        cache: a reward cache shared across calls (default: a new one).
        query_key: the cache key of the query (default: the text).
        trace: record the best path after every rollout.

    Example:
        >>> r = lambda states: [float(len(s & {"a", "b"})) for s in states]
        >>> plan("q", r, None, ["a", "b", "c"], PlannerConfig(rollouts=30, depth=2)).path in (["a", "b"], ["b", "a"])
        True
    """
    planner = Planner(query, reward, prior or UniformPrior(), attributes, config, cache, query_key)
    return planner.run(trace=trace)
