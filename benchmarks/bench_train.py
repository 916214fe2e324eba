"""Training costs on SmolLM2-135M, side by side in one run. Run: ``.venv/bin/python benchmarks/bench_train.py``.

1. The reward functions' share of a Safe-GDPO step: TRL's ``GRPOTrainer`` with persafe's three reward
   callables, each wrapped in a timer; share = time inside the rewards / wall time of the training steps
   (generation, log-probs, backward and optimiser included). Target: ≤ 5%.
2. SFT steps/s: full fine-tuning vs LoRA on every layer vs LoRA on the last 8 blocks (``lora_last_layers``),
   same data, batch and sequence lengths.

Every variant runs ``--steps`` optimiser steps after one warm-up step that is not counted.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


class StepTimer(TrainerCallback):
    """Wall time of each optimiser step (``on_step_begin`` → ``on_step_end``)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._t0 = 0.0

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._t0 = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.times.append(time.perf_counter() - self._t0)


def _timed(fn: Any, spent: list[float]) -> Any:
    def wrapper(completions: Any, **columns: Any) -> list[float]:
        t0 = time.perf_counter()
        try:
            return fn(completions, **columns)
        finally:
            spent.append(time.perf_counter() - t0)

    wrapper.__name__ = fn.__name__
    return wrapper


def _saferec(out: Path) -> str:
    from persafe.train.demo import _ensure_saferec

    return str(_ensure_saferec(out / "saferec-ml100k"))


def gdpo_share(data: str, steps: int, tmp: Path) -> dict[str, float]:
    from datasets import Dataset
    from trl import GRPOTrainer

    from persafe.catalog import builtin_oracle
    from persafe.saferec import load_saferec
    from persafe.train.config import SafeGDPOConfig
    from persafe.train.data import sft_rows
    from persafe.train.rewards import safe_rec_rewards
    from persafe.train.sft import load_trainable, peft_for

    ml, taxonomy, oracle = builtin_oracle()
    samples = [s for s in load_saferec(data, "train") if s.traits][: steps + 1]
    rows = [{k: v for k, v in r.items() if k != "completion"} for r in sft_rows(samples, ml.catalog, taxonomy)]
    cfg = SafeGDPOConfig(output_dir=str(tmp / "gdpo"), data=data, num_generations=4, per_device_train_batch_size=4,
                         max_completion_length=64, max_steps=steps + 1, learning_rate=1e-5, beta=0.0,
                         report_to="none", save_strategy="no", use_lora=True, lora_last_layers=8,
                         gradient_checkpointing=False, logging_steps=1, target_count=10)  # fmt: skip
    model, tok, _ = load_trainable("smollm2")
    spent: list[float] = []
    rewards = [_timed(f, spent) for f in safe_rec_rewards(oracle, k=10, target=10)]
    timer = StepTimer()
    trainer = GRPOTrainer(model=model, reward_funcs=rewards, args=cfg, train_dataset=Dataset.from_list(rows),
                          processing_class=tok, peft_config=peft_for(cfg, model), callbacks=[timer])  # fmt: skip
    n_calls_warm = 0

    class _Mark(TrainerCallback):
        def on_step_end(self, *a: Any, **k: Any) -> None:
            nonlocal n_calls_warm
            if not n_calls_warm:
                n_calls_warm = len(spent)

    trainer.add_callback(_Mark())
    trainer.train()
    step_s = sum(timer.times[1:])
    reward_s = sum(spent[n_calls_warm:])
    return {"steps": len(timer.times) - 1, "step_s": step_s, "reward_s": reward_s, "share": reward_s / step_s}


def sft_speed(data: str, steps: int, tmp: Path) -> list[tuple[str, float, int]]:
    from datasets import Dataset
    from trl import SFTTrainer

    from persafe.catalog import builtin_oracle
    from persafe.saferec import load_saferec
    from persafe.train.config import SafeSFTConfig
    from persafe.train.data import sft_rows
    from persafe.train.sft import load_trainable, peft_for

    ml, taxonomy, _ = builtin_oracle()
    batch = 4
    samples = [s for s in load_saferec(data, "train") if s.traits][: batch * (steps + 1)]
    rows = sft_rows(samples, ml.catalog, taxonomy)
    out = []
    variants = [("full fine-tuning", {}), ("LoRA r16, every layer", {"use_lora": True}),
                ("LoRA r16, last 8 of 30 blocks", {"use_lora": True, "lora_last_layers": 8})]  # fmt: skip
    for name, extra in variants:
        cfg = SafeSFTConfig(output_dir=str(tmp / "sft"), data=data, per_device_train_batch_size=batch,
                            max_steps=steps + 1, learning_rate=5e-5, max_length=512, report_to="none",
                            save_strategy="no", gradient_checkpointing=False, logging_steps=100, **extra)  # fmt: skip
        model, tok, _ = load_trainable("smollm2")
        timer = StepTimer()
        trainer = SFTTrainer(model=model, args=cfg, train_dataset=Dataset.from_list(rows), processing_class=tok,
                             peft_config=peft_for(cfg, model), callbacks=[timer])  # fmt: skip
        trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
        trainer.train()
        out.append((name, (len(timer.times) - 1) / sum(timer.times[1:]), trainable))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=2, help="Timed optimiser steps per variant (after 1 warm-up).")
    ap.add_argument("--data", default=None, help="A built SafeRec folder (default: build one in a temp dir).")
    args = ap.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        data = args.data or _saferec(tmp)
        g = gdpo_share(data, args.steps, tmp)
        sft = sft_speed(data, args.steps, tmp)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"command: .venv/bin/python benchmarks/bench_train.py --steps {args.steps}\n")  # fmt: skip
    print("| Safe-GDPO step (SmolLM2 + LoRA, 1 prompt x 4 generations, 64 tokens) | value |\n|---|---|")
    print(f"| timed steps | {g['steps']} |\n| wall time of the steps (s) | {g['step_s']:.1f} |")
    print(f"| time in the three reward functions (s) | {g['reward_s']:.3f} |")
    print(f"| reward share of a step | {g['share']:.2%} (target ≤ 5%) |\n")
    base = sft[0][1]
    print("| SFT variant (batch 4, SafeRec prompts) | trainable parameters | steps/s | vs full |\n|---|---|---|---|")
    for name, sps, trainable in sft:
        print(f"| {name} | {trainable:,} | {sps:.3f} | {sps / base:.2f}x |")


if __name__ == "__main__":
    main()
