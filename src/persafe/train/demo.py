"""The CPU training run (``make train-demo``): SmolLM2-135M + LoRA on SafeRec-ML100k.

Steps (each skipped when its output already exists, so an interrupted run resumes):

1. plain SFT (unfiltered ground truth: the baseline without safety awareness);
2. Safe-SFT (safety-filtered ground truth), saved merged so that Safe-GDPO can start from it;
3. Safe-GDPO from Safe-SFT (relevance, safety and count rewards, GDPO aggregation);
4. evaluation of base, plain SFT, Safe-SFT and Safe-GDPO on the first ``eval_limit`` test samples with the
   benchmark's own prompt, then a comparison table and an HTML report.

The sizes are chosen to fit a 2-core CPU in under an hour; ``scale`` multiplies every sample count.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from persafe.io import atomic_write_json


class TrainDemoConfig(BaseModel):
    """Sizes and hyper-parameters of the CPU run (recorded in ``train-demo.json``)."""

    model_config = ConfigDict(extra="forbid")

    out: str = "runs/train-demo"
    data: str | None = None
    """A built SafeRec folder (default: build the reference one into ``out``)."""
    model: str = "smollm2"
    sft_samples: int = 160
    """Training samples of each SFT run (samples with a sensitivity only: where safe and plain targets differ)."""
    sft_lr: float = 1e-3
    gdpo_prompts: int = 8
    gdpo_lr: float = 5e-5
    gdpo_generations: int = 4
    eval_limit: int = 32
    max_new_tokens: int = 128
    lora_r: int = 16
    lora_alpha: int = 32
    lora_last_layers: int = 8
    """LoRA on the last N of SmolLM2's 30 blocks: the backward pass stops there (see BENCHMARKS.md)."""
    seed: int = 0


def _common(cfg: TrainDemoConfig, data: str) -> dict[str, Any]:
    return {
        "data": data, "constrained_only": True, "use_lora": True, "lora_r": cfg.lora_r,
        "lora_alpha": cfg.lora_alpha, "lora_last_layers": cfg.lora_last_layers, "gradient_checkpointing": False,
        "save_strategy": "no", "report_to": "none", "logging_steps": 2, "seed": cfg.seed, "eval_at_end": False,
    }  # fmt: skip


def _done(path: Path) -> bool:
    return (path / "adapter_config.json").exists() or (path / "config.json").exists()


def run_train_demo(cfg: TrainDemoConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run (or resume) the CPU training run; writes the comparison table and the report.

    Returns:
        ``{"markdown": str, "report": path, "timings": {step: seconds}}``.
    """
    from persafe.train.config import SafeGDPOConfig, SafeSFTConfig
    from persafe.train.gdpo import train_gdpo
    from persafe.train.sft import train_sft

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "train-demo.json").write_text(cfg.model_dump_json(indent=2), encoding="utf-8")
    data = cfg.data or str(_ensure_saferec(out / "saferec-ml100k"))
    timings_path = out / "timings.json"
    timings: dict[str, float] = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    common = _common(cfg, data)
    sft_args = {
        **common, "model": cfg.model, "limit": cfg.sft_samples, "num_train_epochs": 1,
        "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1, "learning_rate": cfg.sft_lr,
        "lr_scheduler_type": "cosine", "warmup_steps": 0.05, "max_length": 512,
    }  # fmt: skip
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("plain-sft", lambda: train_sft(SafeSFTConfig(output_dir=str(out / "plain-sft"), target="plain", **sft_args))),
        ("safe-sft", lambda: train_sft(
            SafeSFTConfig(output_dir=str(out / "safe-sft"), target="safe", merge_lora=True, **sft_args))),
        ("safe-gdpo", lambda: train_gdpo(SafeGDPOConfig(
            output_dir=str(out / "safe-gdpo"), model=f"hf:{out / 'safe-sft'}", limit=cfg.gdpo_prompts,
            num_generations=cfg.gdpo_generations, per_device_train_batch_size=2 * cfg.gdpo_generations,
            max_completion_length=cfg.max_new_tokens, learning_rate=cfg.gdpo_lr, beta=0.0, epsilon=0.2,
            target_count=10, reward_weights=[1.0, 1.0, 0.5], num_train_epochs=1, **common))),
    ]  # fmt: skip
    for name, step in steps:
        if _done(out / name):
            log(f"{name}: already trained, skipped")
            continue
        log(f"{name}: training …")
        t0 = time.perf_counter()
        step()
        timings[name] = time.perf_counter() - t0
        atomic_write_json(timings_path, timings)  # kept across interruptions
        log(f"{name}: {timings[name]:.0f} s")
    runs = _evaluate(cfg, out, data, timings, log)
    return _report(out, runs, timings, log)


def _ensure_saferec(path: Path) -> Path:
    if (path / "build.json").exists():
        return path
    from persafe.catalog import builtin_oracle
    from persafe.saferec import SafeRecConfig, build_saferec, write_saferec

    ml, _, oracle = builtin_oracle()
    return write_saferec(build_saferec(ml, oracle, SafeRecConfig()), path, SafeRecConfig())


def _evaluate(
    cfg: TrainDemoConfig, out: Path, data: str, timings: dict[str, float], log: Callable[[str], None]
) -> list[Path]:
    from persafe.evaluation import EvalConfig, run_evaluation

    models = {
        "base": cfg.model,
        "plain-sft": f"hf:{out / 'plain-sft'}",
        "safe-sft": f"hf:{out / 'safe-sft'}",
        "safe-gdpo": f"hf:{out / 'safe-gdpo'}",
    }
    runs = []
    for name, spec in models.items():
        ev = EvalConfig(data=data, model=spec, split="test", limit=cfg.eval_limit, max_new_tokens=cfg.max_new_tokens,
                        ks=[10], cache=False, batch_size=8)  # fmt: skip
        run = out / f"eval-{name}"
        if not (run / "results.json").exists():
            log(f"eval {name}: {cfg.eval_limit} test samples …")
            t0 = time.perf_counter()
            run_evaluation(ev, run)
            timings[f"eval-{name}"] = time.perf_counter() - t0
            atomic_write_json(out / "timings.json", timings)
        runs.append(run)
    return runs


def _report(out: Path, runs: list[Path], timings: dict[str, float], log: Callable[[str], None]) -> dict[str, Any]:
    from persafe.io import atomic_write_text
    from persafe.report import build_report

    html_path, md = build_report(runs, out / "report.html", k=10, title="persafe CPU training run")
    atomic_write_text(out / "results.md", md)
    log(md)
    return {"markdown": md, "report": str(html_path), "timings": timings}
