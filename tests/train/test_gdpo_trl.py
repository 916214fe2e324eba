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


def test_grpo_group_samples_are_catalog_lists_with_constrained_generation(tmp_path, tiny_oracle):
    """``constrain_generation`` hooks ``model.generate``: GRPOTrainer's completions are k distinct catalog
    lines without the user's seen item, and the rewards see real items (the count reward is met)."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from persafe.llm.constrained import CatalogTrie, ListConstraint
    from persafe.llm.tiny import tiny_model, tiny_tokenizer
    from persafe.recsys.llm import writable_lines
    from persafe.train.constrained import constrain_generation
    from persafe.train.rewards import safe_rec_rewards

    tok = tiny_tokenizer()
    model = tiny_model(tok)
    request = "I loved Heat (1995). Recommend movies."
    row = {"prompt": [{"role": "user", "content": request}], "groundtruth_item_ids": ["f"], "traits": [],
           "seen_item_ids": ["h"]}  # fmt: skip
    catalog = tiny_oracle.catalog
    trie = CatalogTrie(writable_lines(catalog), tok)
    stats = constrain_generation(model, tok, {request: ListConstraint(trie, 2, frozenset({catalog.row["h"]}))})
    seen: list[str] = []

    def record(completions, **kw):
        seen.extend(c[0]["content"] if isinstance(c, list) else c for c in completions)
        return [0.0] * len(completions)

    args = GRPOConfig(
        output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4, max_steps=1,
        max_completion_length=2 * trie.max_tokens + 1, learning_rate=1e-3, report_to="none", logging_steps=1,
        save_strategy="no", use_cpu=True, beta=0.0, temperature=1.0, seed=0,
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=model, reward_funcs=[record, *safe_rec_rewards(tiny_oracle, k=10, target=2)], args=args,
        train_dataset=Dataset.from_list([row] * 4), processing_class=tok,
    )  # fmt: skip
    trainer.train()
    assert seen and stats["constrained"] == len(seen) and stats["free"] == 0
    allowed = {"Arachnophobia (1990)", "Old Yeller (1957)", "Fargo (1996)"}
    for text in seen:
        lines = text.strip().split("\n")
        assert len(lines) == 2 == len(set(lines)) and set(lines) <= allowed, text
    log = next(h for h in trainer.state.log_history if "rewards/count/mean" in h)
    assert log["rewards/count/mean"] == 1.0  # every completion is a list of exactly the 2 titles asked for
