"""Training configs: TRL config dataclasses extended with persafe's fields, so one object serves
Python, YAML (``--config file.yaml``) and the command line (``--key value`` overrides)."""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import SFTConfig


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
        import torch

        if not torch.cuda.is_available():  # a CPU-only machine: train on the CPU without asking for flags
            self.use_cpu = True
            self.bf16 = False
        super().__post_init__()
