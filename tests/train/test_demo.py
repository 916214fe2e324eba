"""The CPU training run's orchestration, end to end on the tiny model (seconds, not the real run)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")


@pytest.mark.slow
def test_train_demo_trains_evaluates_and_resumes(tmp_path, saferec_dir):
    from persafe.llm.tiny import tiny_model, tiny_tokenizer
    from persafe.train.demo import TrainDemoConfig, run_train_demo

    tok = tiny_tokenizer()
    base = tmp_path / "base"
    tiny_model(tok).save_pretrained(base)
    tok.save_pretrained(base)
    cfg = TrainDemoConfig(out=str(tmp_path / "demo"), data=str(saferec_dir), model=f"hf:{base}", sft_samples=4,
                          gdpo_prompts=2, gdpo_generations=2, eval_limit=3, max_new_tokens=8, lora_r=4, lora_alpha=8,
                          lora_last_layers=1)  # fmt: skip
    res = run_train_demo(cfg, log=lambda s: None)
    out = tmp_path / "demo"
    assert (out / "plain-sft" / "adapter_config.json").exists()
    assert (out / "safe-sft" / "config.json").exists()  # merged, so GDPO can start from it
    assert (out / "safe-gdpo" / "adapter_config.json").exists()
    for name in ("base", "plain-sft", "safe-sft", "safe-gdpo"):
        results = json.loads((out / f"eval-{name}" / "results.json").read_text())
        assert results["n_samples"] == 3
    assert "SVR@10" in res["markdown"] and (out / "report.html").exists()
    assert set(res["timings"]) >= {"plain-sft", "safe-sft", "safe-gdpo", "eval-base"}
    again: list[str] = []
    run_train_demo(cfg, log=again.append)  # resumes: nothing is trained twice
    assert sum("skipped" in line for line in again) == 3
