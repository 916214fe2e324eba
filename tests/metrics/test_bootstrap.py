"""Bootstrap means, confidence intervals and per-group breakdowns."""

from __future__ import annotations

import numpy as np
import pytest

from persafe.metrics import aggregate, breakdown, mean_ci


def test_mean_equals_numpy_mean_and_ci_contains_it():
    v = np.random.default_rng(0).normal(3.0, 1.0, size=200)
    out = mean_ci(v, n_boot=300, seed=1)
    assert out["mean"] == pytest.approx(float(np.mean(v)))
    assert out["n"] == 200
    assert out["ci_low"] <= out["mean"] <= out["ci_high"]
    assert out["ci_low"] < out["ci_high"]
    # a 95% interval of the mean of 200 N(3, 1) draws is about ±0.14 wide
    assert out["ci_high"] - out["ci_low"] == pytest.approx(2 * 1.96 / np.sqrt(200), rel=0.35)


def test_nans_are_ignored():
    out = mean_ci(np.array([1.0, np.nan, 2.0, 3.0, np.nan, 4.0]), n_boot=200)
    assert out["mean"] == pytest.approx(2.5)
    assert out["n"] == 4
    assert 1.0 <= out["ci_low"] <= 2.5 <= out["ci_high"] <= 4.0


def test_all_nan_gives_none_and_zero_count():
    assert mean_ci(np.array([np.nan, np.nan])) == {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    assert mean_ci(np.array([])) == {"mean": None, "ci_low": None, "ci_high": None, "n": 0}


def test_constant_values_have_a_degenerate_interval():
    out = mean_ci([0.25] * 10, n_boot=100)
    assert out == {"mean": 0.25, "ci_low": pytest.approx(0.25), "ci_high": pytest.approx(0.25), "n": 10}


def test_single_value():
    out = mean_ci([7.0], n_boot=50)
    assert out["mean"] == 7.0
    assert out["ci_low"] == pytest.approx(7.0)
    assert out["ci_high"] == pytest.approx(7.0)
    assert out["n"] == 1


def test_deterministic_by_seed():
    v = np.random.default_rng(5).random(60)
    a = mean_ci(v, n_boot=200, seed=3)
    b = mean_ci(v, n_boot=200, seed=3)
    c = mean_ci(v, n_boot=200, seed=4)
    assert a == b
    assert a["mean"] == c["mean"]
    assert (a["ci_low"], a["ci_high"]) != (c["ci_low"], c["ci_high"])


def test_results_are_plain_python_numbers():
    out = mean_ci(np.array([0.0, 1.0, 1.0]), n_boot=50)
    assert type(out["mean"]) is float
    assert type(out["ci_low"]) is float
    assert type(out["n"]) is int


def test_aggregate_with_mask():
    metrics = {"recall": np.array([1.0, 0.0, 0.5, np.nan]), "svr": np.array([0.0, 0.2, 0.4, 0.6])}
    out = aggregate(metrics, mask=np.array([True, False, True, True]), n_boot=100)
    assert out["recall"]["mean"] == pytest.approx(0.75)
    assert out["recall"]["n"] == 2
    assert out["svr"]["mean"] == pytest.approx((0.0 + 0.4 + 0.6) / 3)
    assert out["svr"]["n"] == 3
    full = aggregate(metrics, n_boot=100)
    assert full["svr"]["mean"] == pytest.approx(0.3)
    assert full["svr"]["n"] == 4


def test_breakdown_counts_a_multi_label_sample_in_every_group():
    metrics = {"svr": np.array([1.0, 0.0, 0.5, 0.25])}
    labels = [["arachnophobia", "animal_harm"], "arachnophobia", "animal_harm", []]
    out = breakdown(metrics, labels, n_boot=100)
    assert list(out) == ["animal_harm", "arachnophobia"]  # sorted; the unlabeled sample is in no group
    assert out["arachnophobia"]["svr"]["n"] == 2
    assert out["arachnophobia"]["svr"]["mean"] == pytest.approx(0.5)
    assert out["animal_harm"]["svr"]["n"] == 2
    assert out["animal_harm"]["svr"]["mean"] == pytest.approx(0.75)


def test_breakdown_with_string_labels():
    metrics = {"recall": np.array([0.2, 0.4, 0.6, np.nan])}
    out = breakdown(metrics, ["explicit", "implicit", "explicit", "none"], n_boot=100)
    assert sorted(out) == ["explicit", "implicit", "none"]
    assert out["explicit"]["recall"]["mean"] == pytest.approx(0.4)
    assert out["implicit"]["recall"]["n"] == 1
    # "none" holds one sample whose value is undefined
    assert out["none"]["recall"] == {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
