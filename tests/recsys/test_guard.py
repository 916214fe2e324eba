"""SafetyGuard, lexicon inference, title stripping and inference scores."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from persafe.catalog import Catalog
from persafe.metrics import PAD
from persafe.recsys import (
    ConstraintInference,
    LexiconInference,
    Recommendations,
    Recommender,
    SafetyGuard,
    inference_scores,
    strip_titles,
)
from persafe.saferec.schema import SafeRecSample

# Arachnophobia (spiders), Old Yeller (the dog dies), Usual Suspects, Saw (gore), Heat, Fargo, Mystery Film
RANKING = [2, 3, 0, 4, 1, 6, 5]
PLAIN_REQUEST = "I loved Heat (1995) and Fargo (1996). What should I watch next?"


class FixedRanking:
    """A base recommender that returns the same ranking for every sample (padded to k)."""

    name = "fixed"

    def __init__(self, ranking: Sequence[int] = RANKING) -> None:
        self.ranking = list(ranking)
        self.fitted_on: list[SafeRecSample] | None = None
        self.asked_k: list[int] = []

    def fit(self, samples: Sequence[SafeRecSample], catalog: Catalog) -> None:
        self.fitted_on = list(samples)

    def recommend(self, samples: Sequence[SafeRecSample], k: int) -> Recommendations:
        self.asked_k.append(k)
        row = (self.ranking + [PAD] * k)[:k]
        return Recommendations(rows=np.array([row] * len(samples), dtype=np.int64), raw=["raw"] * len(samples))


class FixedInference:
    name = "fixed-inference"

    def __init__(self, traits: list[str]) -> None:
        self.traits = traits
        self.seen: list[str] = []

    def infer(self, texts: Sequence[str]) -> list[list[str]]:
        self.seen.extend(texts)
        return [list(self.traits) for _ in texts]


def test_stubs_satisfy_the_protocols():
    assert isinstance(FixedRanking(), Recommender)
    assert isinstance(FixedInference([]), ConstraintInference)
    assert isinstance(LexiconInference(), ConstraintInference)


# --- SafetyGuard ---------------------------------------------------------------------------------


def test_guard_drops_unsafe_items_and_backfills(oracle, make_sample):
    base = FixedRanking()
    guard = SafetyGuard(base, oracle)
    samples = [
        make_sample("spiders", turn="Please, nothing with spiders."),
        make_sample("dog", turn="I can't handle it when the dog dies in a movie."),
        make_sample("plain", turn=PLAIN_REQUEST),
    ]
    out = guard.recommend(samples, k=3)
    assert base.asked_k == [100]  # default depth: fetch deep so filtered slots can be backfilled
    assert out.inferred_traits == [["arachnophobia"], ["animal_harm"], []]
    assert out.rows.tolist() == [
        [3, 0, 4],  # Arachnophobia dropped, Saw backfilled from rank 4
        [2, 0, 4],  # Old Yeller dropped
        [2, 3, 0],  # nothing inferred, the base ranking is untouched
    ]
    assert out.extra == [
        {"filtered": 1, "backfilled": 1},
        {"filtered": 1, "backfilled": 1},
        {"filtered": 0, "backfilled": 0},
    ]
    assert out.raw == ["raw", "raw", "raw"]
    assert guard.name == "fixed+guard[lexicon]"


def test_guard_output_never_violates_inferred_traits(oracle, make_sample):
    guard = SafetyGuard(FixedRanking(), oracle)
    samples = [make_sample("both", turn="No spiders please, and I can't watch a dog die.")]
    out = guard.recommend(samples, k=5)
    assert out.inferred_traits == [["animal_harm", "arachnophobia"]]
    assert out.rows.tolist() == [[0, 4, 1, 6, 5]]
    assert not oracle.violations(out.rows, oracle.trait_mask(out.inferred_traits)).any()
    assert out.extra[0]["filtered"] == 2


def test_guard_depth_limits_backfill(oracle, make_sample):
    base = FixedRanking()
    guard = SafetyGuard(base, oracle, depth=3)
    out = guard.recommend([make_sample("s", turn="Please, nothing with spiders.")], k=3)
    assert base.asked_k == [3]
    assert out.rows.tolist() == [[3, 0, PAD]]
    assert out.extra == [{"filtered": 1, "backfilled": 0}]


def test_guard_with_short_base_ranking_pads(oracle, make_sample):
    guard = SafetyGuard(FixedRanking([2, 1]), oracle)
    out = guard.recommend([make_sample("s", turn="Please, nothing with spiders.")], k=4)
    assert out.rows.tolist() == [[1, PAD, PAD, PAD]]


def test_guard_uses_assigned_traits(oracle, make_sample):
    inference = FixedInference(["gore"])
    guard = SafetyGuard(FixedRanking(), oracle, inference=inference, use_assigned_traits=True)
    sample = make_sample("s", turn=PLAIN_REQUEST, traits=["animal_harm"])
    out = guard.recommend([sample], k=3)
    assert out.inferred_traits == [["animal_harm"]]
    assert out.rows.tolist() == [[2, 0, 4]]
    assert inference.seen == []  # inference is bypassed
    assert guard.name == "fixed+guard[oracle-traits]"


def test_guard_with_custom_inference(oracle, make_sample):
    inference = FixedInference(["gore", "arachnophobia"])
    guard = SafetyGuard(FixedRanking(), oracle, inference=inference)
    out = guard.recommend([make_sample("s", turn=PLAIN_REQUEST)], k=4)
    assert out.rows.tolist() == [[3, 0, 1, 6]]
    assert guard.name == "fixed+guard[fixed-inference]"


def test_guard_strips_named_titles_before_inference(oracle, make_sample):
    request = "I watched Kiss of the Spider Woman (1985). What should I watch next?"
    # the lexicon alone would read the title as a statement about spiders
    assert LexiconInference().infer([request]) == [["arachnophobia"]]
    sample = make_sample("s", turn=request, seen_titles=["Kiss of the Spider Woman (1985)"])
    guard = SafetyGuard(FixedRanking(), oracle)
    assert guard.infer([sample]) == [[]]
    out = guard.recommend([sample], k=3)
    assert out.rows.tolist() == [[2, 3, 0]]


def test_guard_reads_user_turn_when_request_is_empty(oracle, make_sample):
    inference = FixedInference([])
    guard = SafetyGuard(FixedRanking(), oracle, inference=inference)
    sample = make_sample("s", turn="Please, nothing with spiders.")
    assert sample.request == ""
    guard.infer([sample])
    assert inference.seen == ["Please, nothing with spiders."]
    sample2 = make_sample("s2", turn="prompt text", request="the user's own words")
    guard.infer([sample2])
    assert inference.seen[-1] == "the user's own words"


def test_guard_fit_delegates_to_base(oracle, catalog, make_sample):
    base = FixedRanking()
    guard = SafetyGuard(base, oracle)
    train = [make_sample("a"), make_sample("b")]
    guard.fit(train, catalog)
    assert [s.sample_id for s in base.fitted_on] == ["a", "b"]


# --- strip_titles --------------------------------------------------------------------------------


def test_strip_titles():
    text = "I loved Kiss of the Spider Woman (1985) and kiss of the spider woman, plus Heat."
    out = strip_titles(text, ["Kiss of the Spider Woman (1985)"])
    assert "spider" not in out.lower()
    assert "1985" not in out
    assert out.startswith("I loved ")
    assert out.endswith("plus Heat.")
    assert strip_titles(text, []) == text


def test_strip_titles_longest_first():
    out = strip_titles("I liked Alien and Aliens (1986).", ["Alien (1979)", "Aliens (1986)"])
    assert "Alien" not in out
    assert "1986" not in out


def test_strip_titles_escapes_regex_characters():
    out = strip_titles("Loved Se7en (1995)? and What's Up, Doc? (1972)", ["What's Up, Doc? (1972)"])
    assert "Doc" not in out
    assert "Se7en (1995)?" in out


# --- LexiconInference ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "traits"),
    [
        ("Please, nothing with spiders.", ["arachnophobia"]),
        ("I'm terrified of SNAKES.", ["arachnophobia"]),
        ("No gore please, I'm squeamish.", ["gore"]),
        ("I've been sober for eight months, so no drinking movies.", ["substance_recovery"]),
        ("Something kid-friendly for my daughter.", ["kid_safety"]),
        ("I need a happy ending.", ["happy_ending"]),
        (PLAIN_REQUEST, []),
        ("", []),
        ("Recommend me some good movies.", []),
    ],
)
def test_lexicon_inference(text, traits):
    assert LexiconInference().infer([text]) == [traits]


def test_lexicon_inference_batch_and_custom_lexicon():
    inf = LexiconInference({"arachnophobia": [r"\bspiders?\b"], "horror": [r"\bscary\b"]})
    assert inf.infer(["Nothing scary, no spiders", "SPIDER", "plain"]) == [
        ["arachnophobia", "horror"],
        ["arachnophobia"],
        [],
    ]


# --- inference_scores ----------------------------------------------------------------------------


def test_inference_scores_hand_computed():
    predicted = [["gore"], ["gore", "horror"], [], ["torture"], []]
    truth = [["gore"], ["horror"], [], [], ["self_harm", "gore"]]
    s = inference_scores(predicted, truth)
    # tp: gore, horror = 2; fp: gore (2nd), torture = 2; fn: self_harm, gore (5th) = 2
    assert (s["tp"], s["fp"], s["fn"]) == (2, 2, 2)
    assert s["precision"] == pytest.approx(2 / 4)
    assert s["recall"] == pytest.approx(2 / 4)
    assert s["f1"] == pytest.approx(0.5)
    assert s["exact"] == pytest.approx(2 / 5)  # samples 1 and 3
    assert s["n"] == 5


def test_inference_scores_asymmetric():
    s = inference_scores([["a", "b"], ["c"]], [["a"], ["c", "d", "e"]])
    # tp 2 (a, c), fp 1 (b), fn 2 (d, e)
    assert s["precision"] == pytest.approx(2 / 3)
    assert s["recall"] == pytest.approx(2 / 4)
    assert s["f1"] == pytest.approx(2 * (2 / 3) * (1 / 2) / (2 / 3 + 1 / 2))
    assert s["exact"] == 0.0


def test_inference_scores_duplicates_count_once():
    s = inference_scores([["a", "a"]], [["a"]])
    assert (s["tp"], s["fp"], s["fn"]) == (1, 0, 0)
    assert s["exact"] == 1.0


def test_inference_scores_undefined_cases():
    s = inference_scores([[], []], [[], []])
    assert math.isnan(s["precision"])
    assert math.isnan(s["recall"])
    assert s["f1"] == 0.0
    assert s["exact"] == 1.0
    # only false positives (control samples): precision 0, recall undefined
    s = inference_scores([["gore"]], [[]])
    assert s["precision"] == 0.0
    assert math.isnan(s["recall"])
    assert s["f1"] == 0.0
    empty = inference_scores([], [])
    assert empty["n"] == 0
    assert empty["exact"] == 0.0


def test_inference_scores_length_mismatch_raises():
    with pytest.raises(ValueError):
        inference_scores([["a"]], [["a"], []])


def test_inference_breakdown_counts_false_alarms_by_kind_of_control():
    from persafe.recsys.inference import inference_breakdown

    samples = [
        {"traits": ["gore"], "constraint_mode": "explicit"},
        {"traits": ["horror"], "constraint_mode": "implicit"},
        {"traits": [], "constraint_mode": "none"},
        {"traits": [], "constraint_mode": "none", "distractor": "gore"},
        {"traits": [], "constraint_mode": "none", "distractor": "horror"},
    ]
    b = inference_breakdown([["gore"], [], [], ["gore"], []], samples)
    assert b["explicit"]["recall"] == 1.0 and b["implicit"]["recall"] == 0.0
    assert b["controls"]["plain"] == {"n": 1, "false_alarms": 0, "rate": 0.0}
    assert b["controls"]["distractor"]["false_alarms"] == 1 and b["controls"]["all"]["rate"] == pytest.approx(1 / 3)
    assert b["targets"] == {"explicit": True, "implicit": False, "false_alarms": False}
