"""LearnedInference: weak sentence labels, calibration, caching, and a real SetFit fit on MiniLM."""

from __future__ import annotations

import numpy as np
import pytest

from persafe.recsys.inference import inference_scores
from persafe.recsys.learned import LearnedInference, request_texts, sentence_examples, sentences
from persafe.saferec.schema import ChatMessage, SafeRecSample

TRAITS = ["arachnophobia", "gore"]


def _sample(i: int, request: str, traits: list[str], mode: str = "explicit", seen: list[str] | None = None):
    return SafeRecSample(
        sample_id=f"s{i}",
        prompt=[ChatMessage(role="user", content=request)],
        request=request,
        traits=traits,
        constraint_mode=mode if traits else "none",
        seen_titles=seen or [],
        user_id=f"u{i}",
    )


def test_sentences_split_on_sentence_ends_and_keep_short_texts():
    text = "I loved Heat. No spiders please! What next?"
    assert sentences(text) == ["I loved Heat.", "No spiders please!", "What next?"]
    assert sentences("spiders") == ["spiders"]
    assert sentences("  ") == []


def test_weak_labels_come_from_the_requests():
    """Sentences of control requests are neutral; others take the traits of most requests they occur in."""
    samples = [
        _sample(0, "I loved Heat (1995). No spiders please. What next?", ["arachnophobia"], seen=["Heat (1995)"]),
        _sample(1, "I loved Fargo (1996). No spiders please. Any ideas?", ["arachnophobia"], seen=["Fargo (1996)"]),
        _sample(2, "No spiders please. Blood makes me faint. What next?", ["arachnophobia", "gore"]),
        _sample(3, "I loved Heat (1995). What next?", [], seen=["Heat (1995)"]),
        _sample(4, "Any ideas? I love a good splatter film, the gorier the better.", []),
    ]
    texts, labels = sentence_examples(samples, TRAITS)
    by_text = dict(zip(texts, labels.tolist(), strict=True))
    assert by_text["No spiders please."] == [1, 0]  # arachnophobia in 3/3, gore in 1/3
    assert by_text["Blood makes me faint."] == [1, 1]
    assert by_text["What next?"] == [0, 0]  # seen in a control request
    assert by_text["I love a good splatter film, the gorier the better."] == [0, 0]
    assert all(s.split()[0] != "Heat" for s in texts)  # named titles are removed before reading


def test_calibration_takes_the_lowest_threshold_reaching_the_precision():
    inf = LearnedInference(TRAITS, target_precision=0.75)
    y = np.array([[1, 0], [1, 0], [0, 0], [0, 1], [0, 0]])
    probs = np.array([[0.9, 0.1], [0.6, 0.1], [0.5, 0.2], [0.3, 0.2], [0.05, 0.3]])
    th, report = inf._calibrate(probs, y)
    # arachnophobia: at 0.51..0.6 precision 2/2 and recall 1 (0.50 would admit the control at 0.5)
    assert th[0] == pytest.approx(0.51)
    # gore: the positive (0.2) is below a negative (0.3) - no threshold reaches 0.75 precision: F1-best
    assert th[1] - 1e-9 <= 0.2 or th[1] > 0.3
    assert report["arachnophobia"]["positives"] == 2


def test_infer_before_fit_is_an_error():
    with pytest.raises(RuntimeError, match="fit"):
        LearnedInference(TRAITS).infer(["hello"])


@pytest.fixture(scope="module")
def small_build(movielens):
    """The first 600 training and 300 validation samples of the reference build, and its test split.

    Built here: this folder's ``oracle`` fixture is a tiny test catalog, not the built-in oracle."""
    from persafe.catalog import builtin_oracle
    from persafe.saferec import SafeRecConfig, build_saferec

    built = build_saferec(movielens, builtin_oracle(movielens)[2], SafeRecConfig())
    return built.samples["train"][:600], built.samples["val"][:300], built.samples["test"]


@pytest.mark.slow
def test_frozen_encoder_learns_and_caches(small_build, tmp_path, monkeypatch):
    """A real fit (MiniLM encoder frozen, head only) reads held-out phrasings, and a refit loads the cache."""
    from persafe.catalog import builtin_traits

    monkeypatch.setenv("PERSAFE_CACHE", str(tmp_path))
    train, val, test = small_build
    traits = builtin_traits().ids
    inf = LearnedInference(traits, calibration=val, body_steps=0)
    report = inf.fit(train)
    assert not report["cached"] and report["train_sentences"] > 100 and report["calibration_samples"] == 300
    assert len(list((tmp_path / "inference").iterdir())) == 1
    explicit = [s for s in test if s.constraint_mode == "explicit"][:200]
    scores = inference_scores(inf.infer(request_texts(explicit)), [s.traits for s in explicit])
    assert scores["recall"] > 0.4 and scores["precision"] > 0.6, scores  # test phrasings never seen in training

    again = LearnedInference(traits, calibration=val, body_steps=0)
    assert again.fit(train)["cached"]
    assert again.thresholds.tolist() == inf.thresholds.tolist()
    texts = request_texts(explicit[:20])
    assert np.allclose(again.probabilities(texts), inf.probabilities(texts))
    # different calibration samples: a different model folder
    assert not LearnedInference(traits, calibration=val[:200], body_steps=0).fit(train)["cached"]
    assert len(list((tmp_path / "inference").iterdir())) == 2


@pytest.mark.slow
def test_setfit_fine_tunes_the_encoder_with_progress(small_build, tmp_path, monkeypatch):
    """The SetFit contrastive steps run through TRL-style callbacks that report progress."""
    monkeypatch.setenv("PERSAFE_CACHE", str(tmp_path))
    train, val, _ = small_build
    seen: list[tuple[int, int]] = []
    inf = LearnedInference(["arachnophobia", "gore", "horror"], calibration=val[:60], body_steps=3, cache=False)
    report = inf.fit(train[:200], progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (3, 3) and report["body_steps"] == 3
    assert not (tmp_path / "inference").exists()  # cache=False writes nothing
    out = inf.infer(["Please, no spiders.", "What should I watch next?"])
    assert len(out) == 2 and all(set(o) <= {"arachnophobia", "gore", "horror"} for o in out)


def test_polarity_gate_ignores_sentences_said_with_liking(monkeypatch):
    """With ``polarity``, a sentence read as liking contributes nothing, whatever the model says."""

    class Always:
        def predict_proba(self, sents, **kw):
            return np.full((len(sents), 2), 0.99)

    inf = LearnedInference(TRAITS)
    inf.model = Always()
    liked, avoided = "The gorier the better, honestly.", "No gore please."
    assert inf.probabilities([liked]).max() == 0.0
    assert inf.probabilities([avoided]).max() == pytest.approx(0.99)
    inf.polarity = False
    assert inf.probabilities([liked]).max() == pytest.approx(0.99)
