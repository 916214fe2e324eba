"""Preference-pair builders: each rejected strategy has its defining property; fallbacks are counted."""

from __future__ import annotations

import numpy as np
import pytest

from persafe.errors import UnknownNameError
from persafe.llm.scripted import ScriptedChatModel
from persafe.recsys.base import history_rows
from persafe.recsys.llm import candidate_rows
from persafe.train.pairs import PairBuilder, epsilon_sigmoid, recommender_scorer


@pytest.fixture(scope="module")
def setup(movielens, oracle, saferec_build):
    train = saferec_build.samples["train"]
    return movielens.catalog, oracle, train, PairBuilder(movielens.catalog, oracle, train)


def _rows_of(catalog, row):
    return catalog.row[row["chosen_item_id"]], [catalog.row[i] for i in row["rejected_item_ids"]]


def test_popularity_negative_is_the_most_popular_other_candidate(setup):
    catalog, _, train, b = setup
    rows, stats = b.build(train[:60], ["popularity"])
    assert stats.pairs == 60 and stats.negatives == {"popularity": 60}
    for s, r in zip(train[:60], rows, strict=True):
        target, (neg,) = _rows_of(catalog, r)
        cands = candidate_rows(s, catalog)
        others = [c for c in cands if c != target]
        assert neg in cands and neg != target
        assert b.popularity[neg] == max(b.popularity[c] for c in others)
        assert r["chosen"][0]["content"] == catalog.items[target].display
        assert r["rejected"][0]["content"] == catalog.items[neg].display


def test_semantic_negative_is_similar_to_the_target_and_outside_the_candidates(setup):
    catalog, _, train, b = setup
    rows, _ = b.build(train[:60], ["semantic"])
    sims = []
    for s, r in zip(train[:60], rows, strict=True):
        target, (neg,) = _rows_of(catalog, r)
        assert neg not in candidate_rows(s, catalog)  # naming it would be a hallucination
        assert neg not in history_rows(s, catalog) and neg not in catalog.rows(s.groundtruth_item_ids)
        sims.append(b.similarity[target, neg])
        finite = b.similarity[target][np.isfinite(b.similarity[target])]
        assert b.similarity[target, neg] >= np.percentile(finite, 99)
    assert np.mean(sims) > 0.2


def test_unsafe_negative_violates_a_user_trait_and_falls_back_without_traits(setup):
    catalog, oracle, train, b = setup
    with_traits = [s for s in train[:200] if s.traits][:40]
    without = [s for s in train[:200] if not s.traits][:10]
    rows, stats = b.build(with_traits, ["unsafe"])
    assert stats.negatives == {"unsafe": len(with_traits)}
    for s, r in zip(with_traits, rows, strict=True):
        _, (neg,) = _rows_of(catalog, r)
        assert oracle.violations(np.array([[neg]]), oracle.trait_mask([s.traits]))[0, 0]
        assert neg not in history_rows(s, catalog)
    rows, stats = b.build(without, ["unsafe", "popularity"])  # strategies cycle: even samples start with unsafe
    assert stats.fallbacks == {"unsafe->popularity": len(without[::2])}
    assert all(r["strategies"] == ["popularity"] for r in rows)
    rows, stats = b.build(without, ["unsafe"])
    assert rows == [] and stats.skipped == len(without)


def test_self_hard_negative_is_the_models_own_wrong_answer(setup):
    catalog, _, train, _ = setup
    samples = train[:6]
    cands = [candidate_rows(s, catalog) for s in samples]
    targets = [catalog.row[s.groundtruth_item_ids[0]] for s in samples]
    wrong = [next(c for c in cs if c != t) for cs, t in zip(cands, targets, strict=True)]
    # The "model" answers a wrong candidate for the first five prompts and the target for the last one.
    script = [catalog.items[w].display for w in wrong[:5]] + [catalog.items[targets[5]].display]
    b = PairBuilder(catalog, setup[1], train, sampler=ScriptedChatModel(script))
    rows, stats = b.build(samples, ["self_hard"])
    assert [_rows_of(catalog, r)[1][0] for r in rows] == wrong[:5]
    assert stats.negatives == {"self_hard": 5} and stats.skipped == 1  # answering the target is no negative
    right = PairBuilder(catalog, setup[1], train, sampler=ScriptedChatModel([catalog.items[targets[0]].display]))
    rows, stats = right.build(samples[:1], ["self_hard", "popularity"])
    assert stats.fallbacks == {"self_hard->popularity": 1} and rows[0]["strategies"] == ["popularity"]
    with pytest.raises(ValueError, match="sampler"):
        PairBuilder(catalog, setup[1], train).build(samples, ["self_hard"])


def test_multiple_negatives_are_distinct_and_cycle_strategies(setup):
    catalog, _, train, b = setup
    rows, stats = b.build(train[:30], ["popularity", "semantic", "unsafe"], n_negatives=3)
    for r in rows:
        _, negs = _rows_of(catalog, r)
        assert len(set(negs)) == 3 and len(r["more_rejected"]) == 2
    assert stats.pairs + stats.skipped == 30


def test_epsilon_from_the_user_oracle(setup):
    catalog, _, train, b = setup
    scorer = recommender_scorer("itemknn", train, catalog)
    rows, _ = b.build(train[:40], ["popularity", "semantic"], scorer=scorer, epsilon=epsilon_sigmoid(0.3))
    eps = np.array([r["epsilon"] for r in rows])
    assert ((eps >= 0) & (eps <= 0.3)).all() and eps.std() > 0
    s, r = train[0], rows[0]
    sc = scorer(s, [catalog.row[r["chosen_item_id"]], catalog.row[r["rejected_item_ids"][0]]])
    assert r["epsilon"] == pytest.approx(min(1 / (1 + np.exp(sc[0] - sc[1])), 0.3))
    assert epsilon_sigmoid(0.3)(5.0, 0.0) == pytest.approx(1 / (1 + np.exp(5.0)))  # confident: small ε
    assert epsilon_sigmoid(0.3)(0.0, 5.0) == 0.3  # the oracle prefers the rejected item: clipped


def test_unknown_strategy_lists_the_valid_ones(setup):
    with pytest.raises(UnknownNameError, match="popularity"):
        setup[3].build(setup[2][:2], ["popular"])


def test_random_negatives_are_seeded_non_target_candidates(setup):
    catalog, oracle, train, _ = setup
    samples = train[:30]
    rows, stats = PairBuilder(catalog, oracle, train, seed=1).build(samples, ["random"])
    again, _ = PairBuilder(catalog, oracle, train, seed=1).build(samples, ["random"])
    assert stats.pairs == len(rows) > 0 and rows == again
    for r in rows:
        chosen, (rejected,) = _rows_of(catalog, r)
        sample = next(s for s in samples if s.sample_id == r["sample_id"])
        assert rejected != chosen and rejected in candidate_rows(sample, catalog, 20, 1)
    assert len({r["rejected_item_ids"][0] for r in rows}) > 5
