"""A tiny online RAISE run with the real packaged SmolLM2 (slow: CPU generation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from persafe.agent.evaluate import RaiseConfig, evaluate_raise
from persafe.agent.store import PathStore, PlannedPath
from persafe.penguin import RubricJudge, generate_scenarios
from persafe.runs import RunDir


@pytest.mark.slow
def test_tiny_agent_run_with_smollm2(tmp_path: Path) -> None:
    from persafe.llm import load_model

    model = load_model("smollm2")
    store = PathStore(embed=lambda texts: np.ones((len(texts), 2)))
    store.add([PlannedPath(query="q", path=["mental_health_status", "emotional_state"], query_id="p")])
    cfg = RaiseConfig(variants=["planner"], max_questions=2, max_new_tokens=12, batch_size=2)
    run = RunDir(tmp_path / "run", cfg.model_dump())
    res = evaluate_raise(generate_scenarios(2, seed=1), model, RubricJudge(), model, store, run, cfg)
    v = res["variants"]["planner"]
    assert v["n"] == 2 and 0 <= v["mean_questions"] <= 2
    for rec in run.read_samples():
        t = rec["transcript"]
        assert t["raw"] and all(isinstance(x, str) for x in t["raw"])  # the model's answers are kept
        assert set(t["fallbacks"]) <= {"rating_unreadable", "choice_unreadable", "default_order"}
        assert len(set(rec["asked"])) == len(rec["asked"])
        assert sum(t["fallbacks"].values()) >= 0 and t["stop"] in ("sufficient", "budget")
    assert set(v["fallbacks"]) == {k for r in run.read_samples() for k in r["transcript"]["fallbacks"]}
