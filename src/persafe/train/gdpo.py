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
    from persafe.train.data import sft_rows
    from persafe.train.rewards import safe_rec_rewards
    from persafe.train.sft import evaluate_at_end, load_trainable, peft_for, save_trained, train_samples

    ml, taxonomy, oracle = builtin_oracle()
    samples = train_samples(cfg)
    rows = [{k: v for k, v in r.items() if k != "completion"} for r in sft_rows(samples, ml.catalog, taxonomy)]
    model, tok, base = load_trainable(cfg.model)
    peft_config = peft_for(cfg, model)
    rewards = safe_rec_rewards(oracle, k=cfg.k, target=cfg.target_count, discounted=cfg.discounted_relevance)
    trainer = GRPOTrainer(model=model, reward_funcs=rewards, args=cfg, train_dataset=Dataset.from_list(rows),
                          processing_class=tok, peft_config=peft_config)  # fmt: skip
    if cfg.constrained_decoding:  # group samples are real catalog lists (the hook wraps model.generate)
        from persafe.llm.constrained import CatalogTrie, ListConstraint
        from persafe.recsys.llm import writable_lines
        from persafe.train.constrained import constrain_generation

        trie = CatalogTrie(writable_lines(ml.catalog), tok)
        by_request = {
            (s.request or s.user_turn): ListConstraint(
                trie, cfg.target_count, frozenset(ml.catalog.rows(s.seen_item_ids))
            )
            for s in samples
            if (s.request or s.user_turn)
        }
        constrain_generation(trainer.model, tok, by_request)
    trainer.train()
    out = save_trained(trainer, tok, base, cfg.output_dir, merge=cfg.merge_lora)
    evaluate_at_end(cfg, out)
    return out
