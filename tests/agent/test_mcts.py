"""The planner: finds a known best path, a good prior speeds it up, the reward cache, exhaustive search."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from persafe.agent.exhaustive import exhaustive
from persafe.agent.mcts import Planner, PlannerConfig, epsilon, plan
from persafe.agent.prior import FunctionPrior, UniformPrior
from persafe.agent.reward import RewardCache
from persafe.penguin import ATTRIBUTES

ATTRS = ATTRIBUTES  # the planner's actions: PENGUIN's ten attributes
WEIGHTS = {a: 0.05 * i for i, a in enumerate(ATTRS)} | {
    "self_harm_history": 1.5,
    "mental_health_status": 1.0,
    "emotional_state": 0.4,
}
BEST = ["self_harm_history", "mental_health_status", "emotional_state"]


class ScriptedJudge:
    """A reward whose best path is known: self-harm history first, then mental health, then emotion."""

    def __init__(self) -> None:
        self.calls: Counter[frozenset[str]] = Counter()

    def __call__(self, states):
        for s in states:
            self.calls[frozenset(s)] += 1
        return [1 + sum(WEIGHTS[a] for a in s) for s in states]


GOOD_PRIOR = FunctionPrior(lambda q, asked, unasked: {a: 5.0 if a in BEST else 1.0 for a in unasked})


def test_exhaustive_knows_the_optimum() -> None:
    ex = exhaustive(ScriptedJudge(), ATTRS, 3, "prefix")
    assert ex.path == BEST
    assert ex.value == pytest.approx(((2.5) + (3.5) + (3.9)) / 3)
    assert ex.n_judged == 10 + 45 + 120
    leaf = exhaustive(ScriptedJudge(), ATTRS, 3, "leaf")
    assert set(leaf.path) == set(BEST) and leaf.n_judged == 120


@pytest.mark.parametrize("prior", [None, GOOD_PRIOR], ids=["vanilla", "guided"])
def test_planner_finds_the_best_path(prior) -> None:
    res = plan("q", ScriptedJudge(), prior, ATTRS, PlannerConfig(rollouts=200, depth=3, seed=1))
    assert res.path == BEST
    assert res.path_value == pytest.approx(exhaustive(ScriptedJudge(), ATTRS, 3, "prefix").value)
    assert len(res.q_values) == 3 and res.q_values[0] >= res.q_values[-1] - 2


def test_leaf_mode_finds_the_best_set() -> None:
    res = plan("q", ScriptedJudge(), None, ATTRS, PlannerConfig(rollouts=300, depth=3, seed=0, reward_mode="leaf"))
    assert set(res.path) == set(BEST)
    assert set(res.best_state) == set(BEST) and res.best_state_reward == pytest.approx(3.9)


def test_guided_planner_needs_fewer_rollouts_than_vanilla() -> None:
    def rollouts(prior) -> list[int]:
        out = []
        for seed in range(8):
            cfg = PlannerConfig(rollouts=150, depth=3, seed=seed)
            res = plan("q", ScriptedJudge(), prior, ATTRS, cfg, trace=True)
            n = res.rollouts_to(BEST)
            out.append(n if n is not None else cfg.rollouts + 1)
        return out

    vanilla, guided = rollouts(None), rollouts(GOOD_PRIOR)
    assert statistics.mean(guided) < 0.5 * statistics.mean(vanilla), (guided, vanilla)


def test_a_misleading_prior_slows_the_search() -> None:
    """The prior matters in both directions (so the guided test can fail)."""
    bad = FunctionPrior(lambda q, asked, unasked: {a: 0.01 if a in BEST else 1.0 for a in unasked})
    res_bad = [plan("q", ScriptedJudge(), bad, ATTRS, PlannerConfig(rollouts=60, depth=3, seed=s)) for s in range(4)]
    res_good = [
        plan("q", ScriptedJudge(), GOOD_PRIOR, ATTRS, PlannerConfig(rollouts=60, depth=3, seed=s)) for s in range(4)
    ]
    assert sum(r.path == BEST for r in res_good) > sum(r.path == BEST for r in res_bad)


def test_no_state_is_judged_twice() -> None:
    judge = ScriptedJudge()
    cache = RewardCache()
    res = plan("q", judge, None, ATTRS, PlannerConfig(rollouts=300, depth=3), cache=cache)
    assert max(judge.calls.values()) == 1
    assert res.n_judged == len(judge.calls) == cache.misses
    assert res.n_cache_hits > res.n_judged  # 300 rollouts x 3 prefix states, far fewer distinct sets
    assert set(cache.computed.values()) == {1}
    # a second planning of the same query with the shared cache judges only states never seen before
    before = len(judge.calls)
    again = plan("q", judge, None, ATTRS, PlannerConfig(rollouts=100, depth=3, seed=5), cache=cache)
    assert again.n_judged == len(judge.calls) - before and max(judge.calls.values()) == 1
    # another query is another key
    plan("other", judge, None, ATTRS, PlannerConfig(rollouts=5, depth=1), cache=cache)
    assert max(judge.calls.values()) == 2  # the same set, judged once per query


def test_without_cache_every_rollout_is_judged() -> None:
    judge = ScriptedJudge()
    res = plan("q", judge, None, ATTRS, PlannerConfig(rollouts=50, depth=3, use_cache=False))
    assert res.n_judged == 50 * 3 and sum(judge.calls.values()) == 150 and res.n_cache_hits == 0


def test_prior_is_computed_once_per_node() -> None:
    seen: Counter = Counter()

    def prior(q, asked, unasked):
        seen[frozenset(asked)] += 1
        return {a: 1.0 for a in unasked}

    plan("q", ScriptedJudge(), FunctionPrior(prior), ATTRS, PlannerConfig(rollouts=100, depth=3))
    assert max(seen.values()) == 1 and len(seen) > 10


def test_invalid_rewards_are_excluded_from_backup() -> None:
    def reward(states):  # any state with gender gets an invalid verdict
        return [None if "gender" in s else 1 + sum(WEIGHTS[a] for a in s) for s in states]

    planner = Planner("q", reward, UniformPrior(), ATTRS, PlannerConfig(rollouts=200, depth=2, seed=0))
    res = planner.run()
    assert res.n_invalid > 0
    g = planner.root.children["gender"]
    assert g.visits > 0 and g.valued < g.visits  # visited, but invalid rollouts add no value
    assert "gender" not in res.path


def test_epsilon_schedule() -> None:
    assert epsilon(0, 5, 0.2) > epsilon(2, 5, 0.2) > epsilon(4, 5, 0.2)
    assert epsilon(0, 5, 0.0) == 0.0
    assert epsilon(0, 4, 0.2) == pytest.approx(0.2 / (1 + 2.718281828**-2))


def test_depth_capped_by_attribute_count_and_config_validated() -> None:
    res = plan("q", ScriptedJudge(), None, ATTRS[:2], PlannerConfig(rollouts=10, depth=5))
    assert sorted(res.path) == sorted(ATTRS[:2])
    with pytest.raises(ValueError):
        PlannerConfig(rollouts=0)
