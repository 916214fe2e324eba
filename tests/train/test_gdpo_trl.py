"""The Safe-GDPO rewards plug into TRL's GRPOTrainer unchanged (GDPO aggregation, per-reward logging)."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")


def test_grpo_trainer_runs_two_steps_with_persafe_rewards(tmp_path, tiny_oracle):
    import torch
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from persafe.llm.tiny import tiny_model, tiny_tokenizer
    from persafe.train.rewards import safe_rec_rewards

    tok = tiny_tokenizer()
    model = tiny_model(tok)
    row = {
        "prompt": [{"role": "user", "content": "I loved Heat (1995). Recommend movies."}],
        "groundtruth_item_ids": ["f"],
        "traits": ["arachnophobia"],
        "seen_item_ids": ["h"],
    }
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    args = GRPOConfig(
        output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4, max_steps=2,
        max_completion_length=8, learning_rate=1e-2, multi_objective_aggregation="normalize_then_sum",
        reward_weights=[1.0, 1.0, 0.5], report_to="none", logging_steps=1, save_strategy="no", use_cpu=True,
        beta=0.0, temperature=1.0, seed=0,
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=model, reward_funcs=safe_rec_rewards(tiny_oracle, k=10, target=3), args=args,
        train_dataset=Dataset.from_list([row] * 8), processing_class=tok,
    )  # fmt: skip
    trainer.train()
    logs = [h for h in trainer.state.log_history if "reward" in h]
    assert len(logs) == 2
    for name in ("relevance", "safety", "count"):
        assert f"rewards/{name}/mean" in logs[0]
    # gibberish from a random model is unparseable: the count reward says so (-1) for every completion
    assert logs[0]["rewards/count/mean"] <= -0.5
    assert any(not torch.equal(before[n], p) for n, p in model.named_parameters())
