"""Ask before recommending on SafeRec: families, the simulated user, the guard, and the trade-off curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from persafe.agent.mcts import PlannerConfig, plan
from persafe.agent.recommend import (
    TRAIT_FAMILIES,
    AskRecConfig,
    GuardedListReward,
    RevealedTraitsGuard,
    TraitUser,
    plan_families,
    popular_order,
    request_text,
    retrieved_order,
    revealed_traits,
    run_ask_before_recommend,
    trait_families,
)
from persafe.agent.store import PathStore, PlannedPath
from persafe.catalog import builtin_traits
from persafe.llm import ScriptedChatModel
from persafe.recsys import PopularityRecommender


def cue_words(texts):
    """A deterministic embedder over a few cue words of the implicit phrase banks."""
    cues = ("sober", "daughter", "son", "spider", "elevator", "anxious", "therapy", "dog", "hospital", "nursery")
    return np.array([[t.lower().count(c) + 0.01 for c in cues] for t in texts])


def test_families_cover_every_builtin_trait_once() -> None:
    ids = builtin_traits().ids
    members = [t for ts in TRAIT_FAMILIES.values() for t in ts]
    assert sorted(members) == sorted(ids)
    assert "other" in trait_families([*ids, "my_custom_trait"])
    assert trait_families(ids) == TRAIT_FAMILIES


def test_trait_user_reveals_only_the_asked_families() -> None:
    u = TraitUser(["self_harm", "kid_safety"])
    assert u.answer("violence") == "No, that's fine for me."
    assert "self_harm" in u.answer("mental_health") and u.revealed == ["self_harm"]
    assert revealed_traits(["self_harm", "kid_safety"], ["children_pregnancy", "fears"], TRAIT_FAMILIES) == [
        "kid_safety"
    ]


@pytest.fixture(scope="module")
def small(saferec_build, oracle):
    train = saferec_build.samples["train"]
    test = [s for s in saferec_build.samples["test"] if s.constraint_mode in ("implicit", "none")][:60]
    base = PopularityRecommender()
    base.fit(train, oracle.catalog)
    return train, test, base


def test_guarded_list_reward_is_one_minus_svr(small, oracle) -> None:
    _, test, base = small
    rewards = []
    for s in [x for x in test if len(x.traits) == 1]:
        rows = base.recommend([s], 100).rows[0]
        fam = next(f for f, ts in TRAIT_FAMILIES.items() if s.traits[0] in ts)
        other = next(f for f in TRAIT_FAMILIES if f != fam)
        rewards.append(
            GuardedListReward(s, rows, oracle, TRAIT_FAMILIES)([frozenset(), frozenset({other}), frozenset({fam})])
        )
    assert all(r[2] == 1.0 and r[0] == r[1] for r in rewards)  # asking the right family removes every violation
    assert any(r[0] < 1.0 for r in rewards)


def test_svr_decreases_as_families_are_asked(small, oracle) -> None:
    train, test, base = small
    implicit = [s for s in test if s.constraint_mode == "implicit"]
    families = TRAIT_FAMILIES
    svr = []
    for budget in (0, 3, len(families)):
        order = popular_order(train, families)
        revealed = {s.sample_id: revealed_traits(s.traits, order[:budget], families) for s in implicit}
        guard = RevealedTraitsGuard(base, oracle, revealed)
        rows = guard.recommend(implicit, 10).rows
        viol = oracle.violations(rows, oracle.trait_mask([s.traits for s in implicit]))
        svr.append(viol.sum() / max(1, (rows >= 0).sum()))
    assert svr[0] > svr[1] > svr[2] == 0.0, svr


def test_planned_family_paths_ask_the_right_family_first(small, oracle) -> None:
    train, _, base = small
    samples = [s for s in train if s.traits and s.constraint_mode == "implicit"][:20]
    store = plan_families(samples, base, oracle, PlannerConfig(rollouts=30, depth=2), embed=cue_words)
    hits = 0
    for rec, s in zip(store.records, samples, strict=True):
        first = set(TRAIT_FAMILIES[rec.path[0]])
        rows = base.recommend([s], 100).rows[0]
        needed = GuardedListReward(s, rows, oracle, TRAIT_FAMILIES)([frozenset()])[0] < 1.0
        hits += bool(first & set(s.traits)) or not needed  # nothing to fix when the list is already safe
    assert hits == len(samples)


def test_retrieved_order_votes_by_similarity() -> None:
    store = PathStore(embed=cue_words)
    store.add(
        [
            PlannedPath(query="I've been sober a year", path=["substances", "mood"], query_id="a"),
            PlannedPath(query="my daughter is six", path=["children_pregnancy"], query_id="b"),
        ]
    )
    order = retrieved_order(store, "sober since May", list(TRAIT_FAMILIES), n_neighbours=2)
    assert order[0] == "substances" and sorted(order) == sorted(TRAIT_FAMILIES)


def test_trade_off_run_and_baselines(saferec_build, oracle, tmp_path: Path) -> None:
    splits = {"train": saferec_build.samples["train"], "test": saferec_build.samples["test"]}
    cfg = AskRecConfig(
        limit=40, recommender="popularity", max_questions=2, plan_samples=30, rollouts=16, depth=2,
        policies=["popular", "planned", "agent"],
    )  # fmt: skip

    def agent(conv):
        text = conv[-1].content
        return "2" if "Completeness" in text else "phobias"

    res = run_ask_before_recommend(
        cfg, tmp_path / "rec", loaded=(None, oracle), splits=splits, embed=cue_words, model=ScriptedChatModel(agent)
    )
    pts = {p["name"]: p for p in res["points"]}
    assert res["n_samples"] == 40 and set(res["modes"]) <= {"implicit", "none"}
    assert pts["popularity+guard[oracle-traits]"]["svr"] == 0.0
    for policy in ("popular", "planned", "agent"):
        curve = [pts[f"popularity+ask[{policy},{b}]"] for b in range(3)]
        assert [p["mean_questions"] for p in curve] == [0, 1, 2]
        assert curve[0]["svr"] == pytest.approx(pts["unguarded"]["svr"])
        assert curve[2]["svr"] <= curve[0]["svr"]
        none = [p["by_mode"].get("none", {}).get("recall") for p in curve]
        assert len(set(none)) == 1  # control users reveal nothing: no over-filtering
    assert (tmp_path / "rec" / "paths.jsonl").exists() and (tmp_path / "rec" / "transcripts.jsonl").exists()
    assert (tmp_path / "rec" / "ask-planned-1" / "results.json").exists()
    assert any(p["policy"] == "agent-abstain" for p in res["points"])
    # the request text the agent reads does not contain the titles
    s = splits["test"][0]
    assert all(t.split(" (")[0] not in request_text(s) for t in s.seen_titles)


def test_planner_reward_is_cached_per_sample(small, oracle) -> None:
    train, _, base = small
    s = next(x for x in train if x.traits)
    reward = GuardedListReward(s, base.recommend([s], 100).rows[0], oracle, TRAIT_FAMILIES)
    res = plan(s.request, reward, None, list(TRAIT_FAMILIES), PlannerConfig(rollouts=50, depth=2))
    assert reward.calls == res.n_judged <= 10 + 45
