"""Catalog-constrained decoding: only catalog lines, k of them, no repeats, nothing excluded."""

from __future__ import annotations

import pytest
import torch

from persafe.llm.base import GenerationParams, Message
from persafe.llm.constrained import CatalogLogitsProcessor, CatalogTrie, ListConstraint
from persafe.llm.tiny import tiny_chat_model

LINES = [
    "Heat (1995)",
    "Fargo (1996)",
    "Toy Story (1995)",
    "Babe (1995)",
    "The Usual Suspects (1995)",
    "Heat (1995)",  # the same text as row 0 (two catalog items can share a title and year)
    "Heat 2 (2001)",
]
CONVS = [
    [Message(role="user", content="I loved Heat (1995). What next?")],
    [Message(role="user", content="Something fun, please.")],
    [Message(role="user", content="1. Toy Story (1995)\n2. Babe")],
]


@pytest.fixture(scope="module")
def model():
    return tiny_chat_model(batch_size=2)


@pytest.fixture(scope="module")
def trie(model):
    return model.catalog_trie(LINES)


def test_trie_counts_rows_and_shares_equal_lines(trie: CatalogTrie) -> None:
    assert len(trie) == 7 and trie.count[0] == 7
    assert trie.paths[0][-1] == trie.paths[5][-1]  # equal lines end at the same leaf
    assert sorted(trie.ends[int(trie.paths[0][-1])]) == [0, 5]
    assert trie.max_tokens == max(len(p) - 1 for p in trie.paths)


@pytest.mark.parametrize("temperature", [0.0, 1.5])
def test_answers_are_k_catalog_lines_without_repeats_or_excluded_items(model, trie, temperature) -> None:
    cons = [ListConstraint(trie, 3, frozenset({0})), ListConstraint(trie, 4), ListConstraint(trie, 2, frozenset({2}))]
    params = GenerationParams(max_new_tokens=4, temperature=temperature, seed=7)  # the budget grows to fit k lines
    for g, c in zip(model.generate(CONVS, params, cons), cons, strict=True):
        lines = g.text.split("\n")
        assert len(lines) == c.k and g.constrained == {"lines": c.k, "complete": True, "fallbacks": 0}
        assert set(lines) <= set(LINES) and len(set(lines)) == len(lines)
        excluded = {LINES[r] for r in c.exclude}
        assert not excluded & set(lines)  # row 0 excluded takes row 5 (the same text) with it


def test_asking_for_more_lines_than_allowed_writes_every_allowed_line_then_stops(model, trie) -> None:
    [g] = model.generate(CONVS[:1], GenerationParams(max_new_tokens=8), [ListConstraint(trie, 20, frozenset({6}))])
    assert sorted(g.text.split("\n")) == sorted(set(LINES) - {"Heat 2 (2001)"})
    assert g.constrained["lines"] == 5 and g.finish_reason == "stop"


def test_free_rows_of_a_batch_stay_free(model, trie) -> None:
    free, constrained = model.generate(CONVS[:2], GenerationParams(max_new_tokens=12), [None, ListConstraint(trie, 2)])
    assert free.constrained is None
    assert free.text == model.generate(CONVS[:1], GenerationParams(max_new_tokens=12))[0].text
    assert set(constrained.text.split("\n")) <= set(LINES)


def test_all_minus_infinity_falls_back_to_the_first_allowed_branch(trie) -> None:
    """When another processor has removed every allowed token, the first allowed one is kept."""
    proc = CatalogLogitsProcessor([ListConstraint(trie, 1)], eos_token_id=3)
    scores = torch.full((1, 400), float("-inf"))
    out = proc(torch.zeros((1, 5), dtype=torch.long), scores)
    assert torch.isfinite(out).sum() == 1 and proc.fallbacks == 1
    first = next(iter(trie.children[0]))
    assert out[0, first] == 0.0


def test_a_forced_token_outside_the_trie_frees_that_answer(trie) -> None:
    proc = CatalogLogitsProcessor([ListConstraint(trie, 1)], eos_token_id=3)
    proc(torch.zeros((1, 5), dtype=torch.long), torch.zeros((1, 400)))
    out = proc(torch.tensor([[0, 0, 0, 0, 0, 399]]), torch.zeros((1, 400)))
    assert proc.off_trie == 1 and torch.isfinite(out).all()


def test_the_response_cache_keys_on_the_constraint(model, trie, tmp_path) -> None:
    from persafe.llm.cache import CachedChatModel, ResponseCache

    cached = CachedChatModel(model, ResponseCache(tmp_path / "r.sqlite"))
    assert cached.supports_constraints
    params = GenerationParams(max_new_tokens=4)
    a = cached.generate(CONVS[:1], params, [ListConstraint(trie, 2)])
    b = cached.generate(CONVS[:1], params, [ListConstraint(trie, 2)])
    c = cached.generate(CONVS[:1], params, [ListConstraint(trie, 2, frozenset({1}))])
    assert not a[0].cached and b[0].cached and b[0].text == a[0].text
    assert not c[0].cached and "Fargo (1996)" not in c[0].text.split("\n")


def test_a_model_that_cannot_be_constrained_is_refused() -> None:
    from persafe.errors import PersafeError
    from persafe.llm.scripted import ScriptedChatModel
    from persafe.recsys.llm import LLMListRecommender

    with pytest.raises(PersafeError, match="constrained needs a backend that can be constrained"):
        LLMListRecommender(ScriptedChatModel(lambda c: "x"), decoding="constrained")


@pytest.mark.slow
def test_smollm2_constrained_lists_are_valid_and_skip_seen_items(movielens, saferec_dir, tmp_path, monkeypatch) -> None:
    """The packaged model through the evaluation: every title is a catalog item, none repeated or seen."""
    from persafe.evaluation import EvalConfig, run_evaluation

    monkeypatch.setenv("PERSAFE_CACHE", str(tmp_path / "cache"))
    catalog = movielens.catalog
    # every catalog line the constraint may write reads back to an item of that text
    from persafe.recsys.llm import writable_lines
    from persafe.recsys.parser import classify_titles

    lines = writable_lines(catalog)
    kept = [i for i, line in enumerate(lines) if line is not None]
    assert len(kept) >= len(lines) - 2  # "unknown" (no year) and a title another row also claims
    back = catalog.title_index.match_rows([classify_titles(lines[i])[1][0] for i in kept], missing=-1)
    assert all(lines[int(r)] == lines[i] for i, r in zip(kept, back, strict=True))

    data = saferec_dir
    cfg = EvalConfig(
        data=str(data), model="smollm2", prompt_style="chat", n_titles=10, decoding="constrained", limit=4, ks=[10]
    )
    assert cfg.name == "llm-list-constrained[smollm2]"
    res = run_evaluation(cfg, tmp_path / "run")
    assert res["parse"] == {"parsed": 4}
    assert res["by_k"]["10"]["overall"]["validity"]["mean"] == 1.0
    import json

    from persafe.saferec import load_saferec

    seen = {s.sample_id: set(s.seen_item_ids) for s in load_saferec(data, "test")[:4]}
    for line in (tmp_path / "run" / "samples.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        assert len(rec["recommended"]) == 10 == len(set(rec["recommended"]))
        assert not seen[rec["sample_id"]] & set(rec["recommended"])
        assert rec["extra"]["constrained"]["complete"]


def test_constrained_decoding_is_for_llm_lists() -> None:
    from pydantic import ValidationError

    from persafe.evaluation import EvalConfig

    with pytest.raises(ValidationError, match="applies to an LLM recommender"):
        EvalConfig(recommender="itemknn", decoding="constrained")
    with pytest.raises(ValidationError, match="unknown decoding 'greedy'"):
        EvalConfig(model="smollm2", decoding="greedy")


@pytest.mark.slow
def test_constrained_choice_answers_name_exactly_one_candidate(saferec_dir, tmp_path, monkeypatch) -> None:
    """Candidate choice: a random tiny model, constrained, always names exactly one of the 20 candidates."""
    from persafe.evaluation import EvalConfig, run_evaluation
    from persafe.llm.tiny import tiny_model, tiny_tokenizer

    monkeypatch.setenv("PERSAFE_CACHE", str(tmp_path / "cache"))
    tok = tiny_tokenizer()
    tiny_model(tok).save_pretrained(tmp_path / "tiny")
    tok.save_pretrained(tmp_path / "tiny")
    common = {"data": str(saferec_dir), "model": f"hf:{tmp_path / 'tiny'}", "task": "choice", "limit": 10, "ks": [10]}
    res = run_evaluation(EvalConfig(**common, decoding="constrained"), tmp_path / "c")
    assert res["candidate_choice"]["valid_ratio"]["mean"] == 1.0 and res["parse"] == {"parsed": 10}
    free = run_evaluation(EvalConfig(**common), tmp_path / "f")
    assert free["candidate_choice"]["valid_ratio"]["mean"] == 0.0  # gibberish names no candidate
