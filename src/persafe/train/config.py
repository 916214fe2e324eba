"""Training configs: TRL config dataclasses extended with persafe's fields, so one object serves
Python, YAML (``--config file.yaml``) and the command line (``--key value`` overrides)."""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import GRPOConfig, SFTConfig


@dataclass
class SafeSFTConfig(SFTConfig):
    """Safe-SFT (or the plain-SFT baseline) on SafeRec samples. Every ``SFTConfig`` field applies too."""

    data: str = field(default="runs/saferec-ml100k", metadata={"help": "A built SafeRec folder."})
    model: str = field(default="smollm2", metadata={"help": "Model to train: smollm2, hf:DIR, or tiny (tests)."})
    target: str = field(default="safe", metadata={"help": "safe (filtered ground truth) or plain (unfiltered)."})
    reasoning: bool = field(
        default=False, metadata={"help": "Answer as <reasoning>…</reasoning><solution>…</solution>."}
    )
    limit: int | None = field(default=None, metadata={"help": "Train on the first N training samples."})
    use_lora: bool = field(default=False, metadata={"help": "Train a LoRA adapter instead of all weights."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    eval_at_end: bool = field(default=False, metadata={"help": "Evaluate the result on the validation split."})
    eval_limit: int | None = field(default=200, metadata={"help": "Validation samples for eval_at_end."})

    def __post_init__(self) -> None:
        if self.target not in ("safe", "plain"):
            raise ValueError(f"target must be 'safe' or 'plain', got {self.target!r}")
        _cpu_defaults(self)
        super().__post_init__()


def _cpu_defaults(cfg: object) -> None:
    import torch

    if not torch.cuda.is_available():  # a CPU-only machine: train on the CPU without asking for flags
        cfg.use_cpu = True  # type: ignore[attr-defined]
        cfg.bf16 = False  # type: ignore[attr-defined]


@dataclass
class SafeGDPOConfig(GRPOConfig):
    """Safe-GDPO: GRPO with the relevance, safety and count rewards, each normalised within its group
    (``multi_objective_aggregation="normalize_then_sum"``). Every ``GRPOConfig`` field applies too;
    ``reward_weights`` orders as ``[relevance, safety, count]``."""

    data: str = field(default="runs/saferec-ml100k", metadata={"help": "A built SafeRec folder."})
    model: str = field(
        default="smollm2", metadata={"help": "Policy to train: smollm2, hf:DIR (e.g. a Safe-SFT output), tiny."}
    )
    limit: int | None = field(default=None, metadata={"help": "Train on the first N training samples."})
    k: int = field(default=10, metadata={"help": "Cut-off of the relevance and safety rewards."})
    target_count: int = field(default=20, metadata={"help": "List length the count reward asks for."})
    discounted_relevance: bool = field(default=False, metadata={"help": "Relevance = NDCG@k instead of a hit."})
    use_lora: bool = field(default=False, metadata={"help": "Train a LoRA adapter instead of all weights."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha."})

    multi_objective_aggregation: str = field(
        default="normalize_then_sum",
        metadata={"help": "normalize_then_sum (GDPO, the default here) or sum_then_normalize (plain GRPO)."},
    )

    def __post_init__(self) -> None:
        _cpu_defaults(self)
        super().__post_init__()
