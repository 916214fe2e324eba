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


def lora_config(
    use_lora: bool, r: int, alpha: int, dropout: float = 0.05, last_layers: int | None = None, model: Any = None
) -> Any:
    """A LoRA config over every linear layer (of the last ``last_layers`` blocks), or ``None`` to train all
    weights.

    Args:
        use_lora: ``False`` returns ``None`` (full fine-tuning).
        r: rank.
        alpha: scaling numerator.
        dropout: LoRA dropout.
        last_layers: restrict the adapters to the last N transformer blocks; gradients then stop there, so a
            step costs a forward pass plus the backward of N blocks (needs ``model`` to count the blocks).
        model: the model the adapters go on.
    """
    if not use_lora:
        return None
    from peft import LoraConfig

    layers, targets = None, "all-linear"
    if last_layers:
        n = int(getattr(model.config, "num_hidden_layers", 0) or getattr(model.config, "n_layer", 0))
        if n <= 0:
            raise ValueError("lora_last_layers needs a model whose config states its number of layers")
        layers, targets = list(range(max(0, n - last_layers), n)), _linear_names(model)
    return LoraConfig(
        r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets, task_type="CAUSAL_LM",
        layers_to_transform=layers,
    )  # fmt: skip


def _linear_names(model: Any) -> list[str]:
    """Names of the linear layers inside the transformer blocks (what ``all-linear`` selects)."""
    import torch

    kinds: tuple[type, ...] = (torch.nn.Linear,)
    try:
        from transformers.pytorch_utils import Conv1D

        kinds += (Conv1D,)
    except ImportError:  # pragma: no cover
        pass
    out = getattr(model, "get_output_embeddings", lambda: None)()
    names = {n.rsplit(".", 1)[-1] for n, mod in model.named_modules() if isinstance(mod, kinds) and mod is not out}
    return sorted(names)


def peft_for(cfg: Any, model: Any) -> Any:
    """The LoRA config a persafe training config asks for (``None``: train all weights)."""
    return lora_config(cfg.use_lora, cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout, cfg.lora_last_layers, model)


def train_samples(cfg: Any) -> list[Any]:
    """The training samples a config selects (``constrained_only``, then the first ``limit``)."""
    from persafe.saferec import load_saferec

    samples = load_saferec(cfg.data, "train")
    if cfg.constrained_only:
        samples = [s for s in samples if s.traits]
    return samples[: cfg.limit]


def save_trained(trainer: Any, tokenizer: Any, base: str, output_dir: str, merge: bool = False) -> Path:
    """Save the trained model (or adapter, pointing at its base folder; or, with ``merge``, the model with the
    adapter merged in), the tokenizer, and the trainer's logged metrics (``log_history.json``: loss, and for
    GRPO ``rewards/<name>/mean`` per logging step)."""
    from persafe.io import atomic_write_json

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "log_history.json", list(trainer.state.log_history))
    model = trainer.model
    if getattr(model, "peft_config", None):
        if merge:
            model.merge_and_unload().save_pretrained(out)
            tokenizer.save_pretrained(out)
            return out
        if base:
            model.peft_config["default"].base_model_name_or_path = base
    trainer.save_model(str(out))
    tokenizer.save_pretrained(out)
    return out


def evaluate_at_end(cfg: Any, out: Path) -> None:
    """Evaluate a saved result on the validation split into ``out/eval-val`` (``cfg.eval_at_end``)."""
    if not cfg.eval_at_end:
        return
    from persafe.evaluation import EvalConfig, run_evaluation

    ev = EvalConfig(data=cfg.data, model=f"hf:{out}", split="val", limit=cfg.eval_limit, cache=False,
                    max_new_tokens=cfg.eval_max_new_tokens)  # fmt: skip
    run_evaluation(ev, out / "eval-val", overwrite=True)


def train_sft(cfg: SafeSFTConfig) -> Path:
    """Train, save the model (or adapter) and tokenizer to ``cfg.output_dir``, optionally evaluate on val."""
    from datasets import Dataset
    from trl import SFTTrainer

    from persafe.catalog import builtin_oracle
    from persafe.train.data import choice_rows, sft_rows

    ml, taxonomy, _ = builtin_oracle()
    if cfg.task == "choice":
        rows = choice_rows(train_samples(cfg), ml.catalog)
    else:
        rows = sft_rows(train_samples(cfg), ml.catalog, taxonomy, target=cfg.target, reasoning=cfg.reasoning)
    model, tok, base = load_trainable(cfg.model)
    trainer = SFTTrainer(model=model, args=cfg, train_dataset=Dataset.from_list(rows), processing_class=tok,
                         peft_config=peft_for(cfg, model))  # fmt: skip
    trainer.train()
    out = save_trained(trainer, tok, base, cfg.output_dir, merge=cfg.merge_lora)
    evaluate_at_end(cfg, out)
    return out
