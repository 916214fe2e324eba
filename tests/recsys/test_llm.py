"""LLM recommenders (list and candidate choice) and LLM constraint inference, with a scripted model."""

from __future__ import annotations

import pytest

from persafe.llm import ScriptedChatModel
from persafe.metrics.lists import PAD, UNMATCHED
from persafe.recsys.llm import CandidateChoiceRecommender, LLMListRecommender, candidate_rows
from persafe.recsys.llm_inference import LLMInference, parse_trait_answer


def test_list_recommender_parses_matches_and_classifies(catalog, make_sample):
    answers = [
        "Sure! Here are some movies:\n1. **The Usual Suspects** (1995)\n2. Heat (1995)\n3. Made Up Film (2001)",
        "I cannot help with that.",
    ]
    rec = LLMListRecommender(ScriptedChatModel(answers))
    rec.fit([], catalog)
    out = rec.recommend([make_sample("a"), make_sample("b")], k=4)
    assert out.rows[0].tolist() == [0, 1, UNMATCHED, PAD]
    assert out.rows[1].tolist() == [PAD] * 4
    assert out.raw == answers
    assert [e["parse"] for e in out.extra] == ["parsed", "unparseable"]
    assert out.extra[0]["titles"] == 3


def test_list_recommender_chat_style_sends_the_request(catalog, make_sample):
    seen = []

    def script(conv):
        seen.append(conv)
        return "Fargo (1996)"

    rec = LLMListRecommender(ScriptedChatModel(script), prompt_style="chat", n=7)
    rec.fit([], catalog)
    rec.recommend([make_sample("a", request="No spiders, please.")], k=3)
    assert [m.role for m in seen[0]] == ["system", "user"]
    assert seen[0][1].content == "No spiders, please. Please list 7 movies."
    with pytest.raises(ValueError, match="prompt_style"):
        LLMListRecommender(ScriptedChatModel(["x"]), prompt_style="poem")


def test_recommend_before_fit_raises(make_sample):
    with pytest.raises(RuntimeError, match="fit"):
        LLMListRecommender(ScriptedChatModel(["x"])).recommend([make_sample("a")], 3)


def test_candidates_hold_the_target_and_no_history(catalog, make_sample):
    s = make_sample("a", history=["i0", "i1"], groundtruth=["i6"])
    cands = candidate_rows(s, catalog, n=5)
    assert 6 in cands and 0 not in cands and 1 not in cands
    assert len(cands) == len(set(cands)) == 5
    assert candidate_rows(s, catalog, n=5) == cands  # deterministic per sample


def test_candidate_choice_valid_and_hit(catalog, make_sample):
    s = make_sample("a", history=["i0"], groundtruth=["i6"])

    def pick(answer):
        rec = CandidateChoiceRecommender(ScriptedChatModel([answer]), n_candidates=5)
        rec.fit([], catalog)
        return rec.recommend([s], k=3)

    hit = pick("Fargo (1996)")
    assert hit.rows[0, 0] == 6 and hit.extra[0] == {"valid": True, "hit_at_1": True, "named": 1, "parse": "parsed"}
    assert hit.errors == [None]
    cands = candidate_rows(s, catalog, n=5)
    other = next(c for c in cands if c != 6)
    miss = pick(catalog.items[other].display)
    assert miss.extra[0]["valid"] and not miss.extra[0]["hit_at_1"]
    two = pick("Fargo (1996)\n" + catalog.items[other].display)  # names two candidates: invalid
    assert two.extra[0]["valid"] is False and two.extra[0]["named"] == 2 and two.extra[0]["parse"] == "ambiguous"
    none = pick("The Usual Suspects (1995)")  # in the history, not a candidate
    assert none.extra[0]["valid"] is False and none.extra[0]["named"] == 0 and none.extra[0]["parse"] == "unparseable"
    # an answer that names no candidate recommends nothing: it is not a "safe" slot in SVR's denominator
    assert (two.rows == PAD).all() and (none.rows == PAD).all()


def test_parse_trait_answer():
    valid = {"arachnophobia", "kid_safety"}
    assert parse_trait_answer('{"traits": ["arachnophobia"]}', valid) == ["arachnophobia"]
    assert parse_trait_answer('Sure: {"traits": ["kid_safety", "kid_safety"]} done', valid) == ["kid_safety"]
    assert parse_trait_answer('{"traits": []}', valid) == []
    assert parse_trait_answer('{"traits": ["vampires"]}', valid) is None  # invented trait: not trusted
    assert parse_trait_answer('{"traits": "arachnophobia"}', valid) is None
    assert parse_trait_answer("arachnophobia", valid) is None
    assert parse_trait_answer("{not json}", valid) is None


def test_llm_inference_retries_then_counts_unparseable():
    # per text: first answer, then the retry's answer
    script = iter(['{"traits": ["arachnophobia"]}', "garbage", "more garbage", '{"traits": []}', "still garbage"])
    model = ScriptedChatModel(lambda conv: next(script))
    inf = LLMInference(model)
    out = inf.infer(["No spiders!", "Hmm", "Hello"])
    # first pass: ok, garbage, more garbage; retry pass: [] (ok), still garbage
    assert out == [["arachnophobia"], [], []]
    assert inf.last_status == ["ok", "retried", "unparseable"]
    assert model.calls == 5
    conv = model.script  # the prompt shows the trait list and two worked examples
    assert callable(conv)


def test_read_lists_equals_the_plain_reading(catalog, make_sample):
    """``read_lists`` reads pairs in bulk and matches the first k at once: the rows and counts are
    those of parsing every answer into objects, dropping seen titles and matching every title."""
    import random

    import numpy as np

    from persafe.catalog.titles import normalize_title
    from persafe.recsys.llm import read_lists, seen_keys
    from persafe.recsys.parser import classify_output, match_titles

    rng = random.Random(5)
    names = [it.display for it in catalog.items] + [it.title for it in catalog.items]
    names += ["the usual suspects (1995)", "Heat (1993)", "Heat (1990)", "Fargo 2 (1998)", "Made Up (2001)"]
    names += ["Usual Suspect (1995)", "Arachnophobia", "Saw II (2005)", "Mystery Film", "Nothing Here (1980)"]
    styles = ["{n}. {t}", "- **{t}**", "{t}", '{n}) "{t}"', "{n}. {t} - a note"]
    answers: list[object] = []
    samples = []
    for i in range(400):
        style = rng.choice(styles)
        lines = [style.format(n=j + 1, t=rng.choice(names)) for j in range(rng.randint(0, 14))]
        text = "\n".join(lines)
        if rng.random() < 0.2:
            text = f"Sure! Here you go:\n<solution>\n{text}\n</solution>"
        answers.append(text)
        named = ["Heat", "Fargo (1996)", "The Usual Suspects", "Made Up", "1. Saw", "Nope"]
        samples.append(make_sample(f"s{i}", seen_titles=rng.sample(named, rng.randint(0, 2))))
    answers[:3] = [None, "", '{"movies": [{"title": "Heat", "year": 1995}, {"title": "Fargo"}]}']
    for k in (1, 3, 10):
        rows, extra = read_lists(answers, samples, catalog, k)  # type: ignore[arg-type]
        for i, (text, sample) in enumerate(zip(answers, samples, strict=True)):
            outcome = classify_output(text)
            seen = seen_keys(sample) if sample.seen_titles else set()
            kept = [t for t in outcome.titles if normalize_title(t.title) not in seen] if seen else list(outcome.titles)
            assert np.array_equal(rows[i], match_titles(kept, catalog, width=k)), (k, text)
            removed = len(outcome.titles) - len(kept)
            assert extra[i] == {"parse": outcome.status, "titles": len(outcome.titles), "seen_removed": removed}
    assert read_lists([], [], catalog, 4)[0].shape == (0, 4)
