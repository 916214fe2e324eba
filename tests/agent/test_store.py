"""Path store retrieval (injected and real MiniLM embeddings), save/load; the LLM prior."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from persafe.agent.prior import LLMPrior
from persafe.agent.store import PathStore, PlannedPath
from persafe.errors import DataError
from persafe.llm import CachedChatModel, ResponseCache, ScriptedChatModel

VOCAB = ["drink", "money", "sleep", "job", "lonely"]


def bag_of_words(texts):
    return np.array([[t.lower().count(w) + 0.01 for w in VOCAB] for t in texts], dtype=float)


def _store() -> PathStore:
    store = PathStore(embed=bag_of_words)
    store.add(
        [
            PlannedPath(query="Is a drink every night fine?", path=["mental_health_status"], query_id="a"),
            PlannedPath(query="How do I save money on rent?", path=["economic_status"], query_id="b"),
            PlannedPath(query="I can't sleep, what pill helps?", path=["health_status"], query_id="c"),
        ]
    )
    return store


def test_retrieval_returns_the_nearest_query() -> None:
    store = _store()
    near = store.nearest("one more drink tonight?", k=2)
    assert near[0][0].query_id == "a" and near[0][1] > near[1][1]
    assert store.nearest("money money", k=1)[0][0].path == ["economic_status"]
    assert "a" not in [p.query_id for p, _ in store.nearest("drink", k=3, exclude_ids=["a"])]
    assert PathStore(embed=bag_of_words).nearest("anything") == []


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    store = _store()
    written = store.save(tmp_path / "plans" / "paths")
    assert written.name == "paths.jsonl" and (tmp_path / "plans" / "paths.npy").exists()
    back = PathStore.load(tmp_path / "plans" / "paths.jsonl", embed=bag_of_words)
    assert [r.model_dump() for r in back.records] == [r.model_dump() for r in store.records]
    np.testing.assert_allclose(back.vectors, store.vectors)
    assert back.nearest("sleep pill", k=1)[0][0].query_id == "c"


def test_load_reports_mismatched_or_missing_files(tmp_path: Path) -> None:
    store = _store()
    store.save(tmp_path / "paths")
    np.save(tmp_path / "paths.npy", store.vectors[:2])
    with pytest.raises(DataError, match="2 embeddings for 3 paths"):
        PathStore.load(tmp_path / "paths")
    (tmp_path / "paths.npy").unlink()
    with pytest.raises(DataError, match="embeddings file not found"):
        PathStore.load(tmp_path / "paths")


@pytest.mark.slow
def test_retrieval_with_the_packaged_minilm() -> None:
    store = PathStore()  # the real all-MiniLM-L6-v2, offline
    store.add(
        [
            PlannedPath(
                query="Is it okay to have a few beers every evening to unwind?", path=["x"], query_id="alcohol"
            ),
            PlannedPath(query="How can I pay off my credit card debt faster?", path=["y"], query_id="debt"),
            PlannedPath(query="What should I say at my job interview tomorrow?", path=["z"], query_id="job"),
        ]
    )
    assert store.vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(store.vectors, axis=1), 1.0, atol=1e-5)
    assert store.nearest("Would drinking wine each night help me relax?", k=1)[0][0].query_id == "alcohol"
    assert store.nearest("I owe a lot of money on loans", k=1)[0][0].query_id == "debt"


OPTIONS = ["age", "mental_health_status", "self_harm_history"]


def test_llm_prior_reads_json_rankings_and_falls_back() -> None:
    answers = iter(
        [
            'Sure: {"self_harm_history": 0.7, "Mental Health Status": 0.3}',
            "Ask about past self-harm history, then age.",
            "no idea",
        ]
    )
    prior = LLMPrior(ScriptedChatModel(lambda conv: next(answers)), smoothing=0.0)
    p1 = prior("q1", (), OPTIONS)
    assert p1["self_harm_history"] == pytest.approx(0.7) and p1["age"] == 0.0
    p2 = prior("q2", (), OPTIONS)
    assert p2["self_harm_history"] > p2["age"] > p2["mental_health_status"] == 0.0
    p3 = prior("q3", (), OPTIONS)
    assert p3 == {a: pytest.approx(1 / 3) for a in OPTIONS}
    assert prior.stats() == {"calls": 3, "parsed_json": 1, "parsed_ranking": 1, "fallbacks": 1, "failed": 0}


def test_llm_prior_calls_the_model_once_per_node(tmp_path: Path) -> None:
    model = ScriptedChatModel(lambda conv: '{"age": 1}')
    cached = CachedChatModel(model, ResponseCache(tmp_path / "r.sqlite"))
    prior = LLMPrior(cached)
    for asked in [(), ("age",), (), ("age",)]:
        unasked = [a for a in OPTIONS if a not in asked]
        p = prior("q", asked, unasked)
        assert sum(p.values()) == pytest.approx(1.0) and min(p.values()) > 0  # smoothing keeps every option
    assert model.calls == 2 and prior.calls == 2
    LLMPrior(cached)("q", (), OPTIONS)  # a new prior (e.g. a rerun) is served by the response cache
    assert model.calls == 2
