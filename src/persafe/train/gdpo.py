"""Safe-GDPO on TRL's ``GRPOTrainer``: the policy samples lists, the three rewards (computed by the
evaluation metrics) are normalised per reward within each group, weighted and summed (GDPO)."""

from __future__ import annotations

from pathlib import Path

from persafe.train.config import SafeGDPOConfig


def train_gdpo(cfg: SafeGDPOConfig) -> Path:
    """Train, save the policy (or adapter) and tokenizer to ``cfg.output_dir``."""
    from datasets import Dataset
    from trl import GRPOTrainer

    from persafe.catalog import builtin_oracle
    from persafe.saferec import load_saferec
    from persafe.train.data import sft_rows
    from persafe.train.rewards import safe_rec_rewards
    from persafe.train.sft import load_trainable, lora_config, save_trained

    ml, taxonomy, oracle = builtin_oracle()
    samples = load_saferec(cfg.data, "train")[: cfg.limit]
    rows = [{k: v for k, v in r.items() if k != "completion"} for r in sft_rows(samples, ml.catalog, taxonomy)]
    model, tok, base = load_trainable(cfg.model)
    peft_config = lora_config(cfg.use_lora, cfg.lora_r, cfg.lora_alpha)
    rewards = safe_rec_rewards(oracle, k=cfg.k, target=cfg.target_count, discounted=cfg.discounted_relevance)
    trainer = GRPOTrainer(model=model, reward_funcs=rewards, args=cfg, train_dataset=Dataset.from_list(rows),
                          processing_class=tok, peft_config=peft_config)  # fmt: skip
    trainer.train()
    return save_trained(trainer, tok, base, cfg.output_dir)
