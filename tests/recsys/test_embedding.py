"""Embedding constraint inference with the packaged all-MiniLM-L6-v2 (a real model, loaded offline)."""

from __future__ import annotations

import pytest

from persafe.recsys.embedding import EmbeddingInference, minilm_dir


@pytest.fixture(scope="module")
def inference():
    return EmbeddingInference(threshold=0.45)


def test_model_ships_in_a_package():
    assert (minilm_dir() / "config.json").exists()


def test_explicit_and_implicit_statements(inference):
    texts = [
        "Please nothing with spiders, I'm terrified of them.",
        "I've been sober for eight months and want to keep it that way.",
        "I loved these movies. What should I watch next?",
    ]
    out = inference.infer(texts)
    assert "arachnophobia" in out[0]
    assert "substance_recovery" in out[1]
    assert out[2] == []  # ordinary request sentences are closer to the neutral prototypes


def test_scores_shape_and_max_traits(inference):
    scores = inference.scores(["No gore please.", ""])
    assert scores.shape == (2, len(inference.traits))
    assert (scores[1] == -1).all()  # no sentence: nothing revealed
    assert all(len(t) <= inference.max_traits for t in inference.infer(["No gore, no spiders, no ghosts."]))


def test_fit_calibrates_the_threshold_on_training_samples(inference, make_sample):
    samples = [
        make_sample("a", request="Please, nothing with spiders.", traits=["arachnophobia"]),
        make_sample("b", request="I loved Heat. What should I watch next?", traits=[]),
        make_sample("c", request="I'm in recovery from alcoholism.", traits=["substance_recovery"]),
    ]
    t = inference.fit(samples)
    assert 0.25 <= t < 0.8 and inference.threshold == t
