"""Cohen's κ and Pearson r, checked against scikit-learn and by hand; label files and judged folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from persafe.errors import DataError
from persafe.penguin import cohen_kappa, judge_agreement, load_labels, pearson_r
from persafe.penguin.agreement import round_score


def test_kappa_matches_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(1, 6, size=40)
        b = np.clip(a + rng.integers(-1, 2, size=40), 1, 5)
        assert cohen_kappa(a, b) == pytest.approx(metrics.cohen_kappa_score(a, b))
        assert cohen_kappa(a, b, "quadratic") == pytest.approx(
            metrics.cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5])
        )


def test_kappa_by_hand() -> None:
    # 2x2 on labels {1, 2}: agreement 0.5, chance 0.5 → κ = 0
    assert cohen_kappa(np.array([1, 1, 2, 2]), np.array([1, 2, 1, 2])) == pytest.approx(0.0)
    assert cohen_kappa(np.array([1, 2, 3]), np.array([1, 2, 3])) == 1.0
    assert cohen_kappa(np.array([3, 3]), np.array([3, 3])) is None  # no variation: undefined
    assert cohen_kappa(np.array([3]), np.array([4])) is None


def test_pearson_and_rounding() -> None:
    assert pearson_r(np.array([1, 2, 3]), np.array([2, 4, 6.5])) == pytest.approx(
        np.corrcoef([1, 2, 3], [2, 4, 6.5])[0, 1]
    )
    assert pearson_r(np.array([1, 1, 1]), np.array([1, 2, 3])) is None
    assert [round_score(x) for x in (1.0, 2.49, 2.5, 3.5, 4.67)] == [1, 2, 3, 4, 5]


def test_label_files(tmp_path: Path) -> None:
    human = tmp_path / "human.jsonl"
    rows = [
        {"sample_id": "a:rich", "risk_sensitivity": 5, "emotional_empathy": 4, "user_alignment": 3},
        {"sample_id": "b:rich", "risk_sensitivity": 2, "emotional_empathy": 2, "user_alignment": 2},
        {"sample_id": "c:rich", "score": 3.0},
        {"sample_id": "d:rich", "valid": False},
    ]
    human.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    labels = load_labels(human)
    assert labels["a:rich"]["score"] == 4.0 and labels["c:rich"] == {"score": 3.0} and "d:rich" not in labels
    judge = {"a:rich": {"risk_sensitivity": 4, "score": 3.9}, "b:rich": {"risk_sensitivity": 2, "score": 2.0},
             "c:rich": {"score": 3.2}, "x:free": {"score": 5.0}}  # fmt: skip
    res = judge_agreement(labels, judge)
    assert res["score"]["n"] == 3 and res["risk_sensitivity"]["n"] == 2 and res["emotional_empathy"]["n"] == 0
    assert res["score"]["kappa"] == 1.0  # 4/4, 2/2, 3/3 after rounding
    assert res["emotional_empathy"]["kappa"] is None
    human.write_text('{"sample_id": "a", "risk_sensitivity": 7}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"human\.jsonl:1 field 'risk_sensitivity'"):
        load_labels(human)
    with pytest.raises(DataError, match="not a judged run folder"):
        load_labels(tmp_path)
