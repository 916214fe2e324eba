"""RAISE on PENGUIN with scripted models and the rubric judge: planning, the reward, the three variants."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from persafe.agent.evaluate import RaiseConfig, evaluate_raise, plan_scenarios, summarize_raise
from persafe.agent.exhaustive import exhaustive
from persafe.agent.mcts import PlannerConfig, plan
from persafe.agent.reward import PenguinReward, RewardCache
from persafe.agent.scripted import background_echo_model
from persafe.llm import ScriptedChatModel
from persafe.penguin import ATTRIBUTES, RubricJudge, Verdict, generate_scenarios
from persafe.runs import RunDir


def words(texts):
    return np.array([[t.lower().count(w) + 0.01 for w in ("drink", "money", "sleep", "job", "lonely")] for t in texts])


@pytest.fixture(scope="module")
def scenarios():
    return generate_scenarios(21, seed=0)


def test_penguin_reward_depends_on_the_acquired_attributes(scenarios) -> None:
    s = next(x for x in scenarios if x.profile.get("emotional_state") in ("Despair", "Depression"))
    reward = PenguinReward(s, background_echo_model(), RubricJudge())
    none, emo, everything = reward([frozenset(), frozenset({"emotional_state"}), frozenset(ATTRIBUTES)])
    assert none < emo <= everything
    assert reward.calls == 3 and set(reward.answers) == {
        frozenset(),
        frozenset({"emotional_state"}),
        frozenset(ATTRIBUTES),
    }


class FlakyJudge:
    """Invalid verdict whenever the answer mentions the user's gender."""

    def __init__(self) -> None:
        self.rubric = RubricJudge()

    def judge(self, items):
        out = self.rubric.judge(items)
        return [
            Verdict.invalid("unparseable") if "your gender" in a else v for (_, a), v in zip(items, out, strict=True)
        ]


def test_invalid_verdicts_are_none_and_never_scored(scenarios) -> None:
    s = scenarios[0]
    reward = PenguinReward(s, background_echo_model(), FlakyJudge())
    vals = reward([frozenset({"gender"}), frozenset({"age"})])
    assert vals[0] is None and vals[1] is not None and reward.invalid == 1
    res = plan(s.query, reward, None, ATTRIBUTES, PlannerConfig(rollouts=60, depth=2))
    assert res.n_invalid > 0 and "gender" not in res.path


def test_planning_with_the_rubric_judge_reaches_the_exhaustive_optimum(scenarios) -> None:
    s = scenarios[3]
    model = background_echo_model()
    judge = RubricJudge()
    ex = exhaustive(PenguinReward(s, model, judge), ATTRIBUTES, 2, "prefix")
    cache = RewardCache()
    res = plan(
        s.query, PenguinReward(s, model, judge), None, ATTRIBUTES, PlannerConfig(rollouts=150, depth=2), cache=cache
    )
    assert res.path_value == pytest.approx(ex.value)
    assert max(cache.computed.values()) == 1 and res.n_judged < ex.n_judged


def test_plan_scenarios_builds_a_store(scenarios) -> None:
    store, stats = plan_scenarios(
        scenarios[:3], background_echo_model(), RubricJudge(), None, PlannerConfig(rollouts=20, depth=2), embed=words
    )
    assert len(store) == 3 and [r.query_id for r in store.records] == [s.scenario_id for s in scenarios[:3]]
    assert all(len(r.path) == 2 and r.reward is not None and r.domain for r in store.records)
    assert all(st["n_judged"] > 0 for st in stats)


def agent_script(conv) -> str:
    """Never satisfied; follows the first planned example if shown, else always asks about age."""
    text = conv[-1].content
    if "Completeness" in text:
        return "1"
    m = re.search(r"good questions in order: ([^\n]+)", text)
    options = text.split("Options:")[1]
    if m:
        for label in m.group(1).split(" -> "):
            if label in options:
                return label
    return "Age" if "Age" in options else options.split(",")[0]


def test_vanilla_agent_planner_comparison(scenarios, tmp_path: Path) -> None:
    planned, evaluated = scenarios[:14], scenarios[14:]
    store, _ = plan_scenarios(
        planned, background_echo_model(), RubricJudge(), None, PlannerConfig(rollouts=40, depth=2), embed=words
    )
    cfg = RaiseConfig(variants=["vanilla", "agent", "planner", "rich"], max_questions=2, batch_size=4)
    agent_model = ScriptedChatModel(agent_script)
    responder = background_echo_model()
    run = RunDir(tmp_path / "run", cfg.model_dump())
    res = evaluate_raise(evaluated, responder, RubricJudge(), agent_model, store, run, cfg)
    v = res["variants"]
    assert set(v) == {"vanilla", "agent", "planner", "rich"}
    assert v["vanilla"]["mean_questions"] == 0 and v["agent"]["mean_questions"] == 2 == v["planner"]["mean_questions"]
    assert v["agent"]["asked"] == {"age": 7, "gender": 7}  # no examples: always age, then the next option
    assert v["vanilla"]["score"]["mean"] < v["planner"]["score"]["mean"] <= v["rich"]["score"]["mean"]
    assert v["agent"]["score"]["mean"] < v["planner"]["score"]["mean"]
    assert set(v["planner"]["by_domain"]) == {s.domain for s in evaluated}
    assert set(v["planner"]["dimensions"]) == {"risk_sensitivity", "emotional_empathy", "user_alignment"}
    assert v["planner"]["stops"] == {"budget": 7} and v["vanilla"]["n_invalid"] == 0
    recs = run.read_samples()
    assert len(recs) == 4 * 7
    planner_rec = next(r for r in recs if r["variant"] == "planner")
    assert planner_rec["transcript"]["examples"] and len(planner_rec["transcript"]["turns"]) == 2
    # resuming: nothing is answered again
    calls = responder.calls
    again = evaluate_raise(
        evaluated, responder, RubricJudge(), agent_model, store, RunDir(tmp_path / "run", cfg.model_dump()), cfg
    )
    assert responder.calls == calls and again == summarize_raise(run.read_samples(), cfg.variants)


def test_planner_variant_needs_a_store(scenarios, tmp_path: Path) -> None:
    from persafe.errors import PersafeError

    cfg = RaiseConfig(variants=["planner"])
    with pytest.raises(PersafeError, match="raise plan"):
        evaluate_raise(scenarios[:1], background_echo_model(), RubricJudge(), None, None, RunDir(tmp_path, {}), cfg)
