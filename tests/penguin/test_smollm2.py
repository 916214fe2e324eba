"""The real packaged SmolLM2 answers two scenarios free and rich; the rubric judge scores the answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from persafe.llm import GenerationParams
from persafe.penguin import RubricJudge, run_judge, run_responses


@pytest.mark.slow
def test_smollm2_responder_and_rubric_judge(tmp_path: Path, fourteen) -> None:
    from persafe.llm import load_model

    model = load_model("smollm2")
    params = GenerationParams(max_new_tokens=32)
    res = run_responses(model, fourteen[:2], ["free", "rich"], tmp_path / "resp", params=params, batch_size=4)
    assert res["contexts"]["free"]["answers"] == 2 and res["contexts"]["rich"]["answers"] == 2
    assert all(row["errors"] == 0 and row["mean_words"] > 3 for row in res["contexts"].values())
    judged = run_judge(tmp_path / "resp", RubricJudge(), tmp_path / "judged", n_boot=50)
    assert judged["invalid"]["total"] == 0 and judged["n_records"] == 4
    assert 1.0 <= judged["gain"]["free"] <= 5.0 and 1.0 <= judged["gain"]["rich"] <= 5.0
