"""Safe-SFT and the plain-SFT baseline on TRL's ``SFTTrainer`` (no vendored trainer code).

The result (a full model or a LoRA adapter) is saved to ``output_dir`` and is usable as
``hf:<output_dir>`` everywhere persafe takes a model, e.g. ``persafe eval --model hf:<output_dir>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from persafe.train.config import SafeSFTConfig


def load_trainable(spec: str) -> tuple[Any, Any, str]:
    """``(model, tokenizer, base folder)`` of a trainable model spec: ``smollm2``, ``hf:DIR`` or ``tiny``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if spec == "tiny":
        from persafe.llm.tiny import tiny_model, tiny_tokenizer

        tok = tiny_tokenizer()
        return tiny_model(tok), tok, ""
    if spec == "smollm2":
        from persafe.llm.smollm2 import smollm2_dir

        path = str(smollm2_dir())
    elif spec.startswith("hf:"):
        path = spec[3:]
    else:
        from persafe.errors import UnknownNameError

        raise UnknownNameError("trainable model", spec, ["smollm2", "hf:DIR", "tiny"])
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    return AutoModelForCausalLM.from_pretrained(path, local_files_only=True), tok, path


def lora_config(use_lora: bool, r: int, alpha: int, dropout: float = 0.05) -> Any:
    """A LoRA config over every linear layer, or ``None`` to train all weights."""
    if not use_lora:
        return None
    from peft import LoraConfig

    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules="all-linear", task_type="CAUSAL_LM")


def save_trained(trainer: Any, tokenizer: Any, base: str, output_dir: str) -> Path:
    """Save the trained model (or adapter, pointing at its base folder) and the tokenizer."""
    out = Path(output_dir)
    if getattr(trainer.model, "peft_config", None) and base:
        trainer.model.peft_config["default"].base_model_name_or_path = base
    trainer.save_model(str(out))
    tokenizer.save_pretrained(out)
    return out


def train_sft(cfg: SafeSFTConfig) -> Path:
    """Train, save the model (or adapter) and tokenizer to ``cfg.output_dir``, optionally evaluate on val."""
    from datasets import Dataset
    from trl import SFTTrainer

    from persafe.catalog import builtin_oracle
    from persafe.saferec import load_saferec
    from persafe.train.data import sft_rows

    ml, taxonomy, _ = builtin_oracle()
    samples = load_saferec(cfg.data, "train")[: cfg.limit]
    rows = sft_rows(samples, ml.catalog, taxonomy, target=cfg.target, reasoning=cfg.reasoning)
    model, tok, base = load_trainable(cfg.model)
    peft_config = lora_config(cfg.use_lora, cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout)
    trainer = SFTTrainer(model=model, args=cfg, train_dataset=Dataset.from_list(rows), processing_class=tok,
                         peft_config=peft_config)  # fmt: skip
    trainer.train()
    out = save_trained(trainer, tok, base, cfg.output_dir)
    if cfg.eval_at_end:
        from persafe.evaluation import EvalConfig, run_evaluation

        ev = EvalConfig(data=cfg.data, model=f"hf:{out}", split="val", limit=cfg.eval_limit, cache=False)
        run_evaluation(ev, out / "eval-val", overwrite=True)
    return out
