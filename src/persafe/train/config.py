"""Training configs: TRL config dataclasses extended with persafe's fields, so one object serves
Python, YAML (``--config file.yaml``) and the command line (``--key value`` overrides).

Every persafe config takes the fields of :class:`PersafeFields` (data, model, LoRA, evaluation) plus
those of the TRL config it extends (``SFTConfig``, ``GRPOConfig``, ``DPOConfig``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import DPOConfig, GRPOConfig, SFTConfig


@dataclass
class PersafeFields:
    """Fields shared by every persafe training config."""

    data: str = field(default="runs/saferec-ml100k", metadata={"help": "A built SafeRec folder."})
    model: str = field(default="smollm2", metadata={"help": "Model to train: smollm2, hf:DIR, or tiny (tests)."})
    limit: int | None = field(default=None, metadata={"help": "Train on the first N training samples."})
    constrained_only: bool = field(
        default=False, metadata={"help": "Train only on samples that carry at least one sensitivity trait."}
    )
    use_lora: bool = field(default=False, metadata={"help": "Train a LoRA adapter instead of all weights."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    lora_last_layers: int | None = field(
        default=None,
        metadata={
            "help": "Put LoRA on the last N transformer layers only (backward then stops there: much cheaper on "
            "a CPU). Default: every layer."
        },
    )
    merge_lora: bool = field(
        default=False,
        metadata={"help": "Save the LoRA-merged full model instead of the adapter (e.g. to train on top of it)."},
    )
    eval_at_end: bool = field(default=False, metadata={"help": "Evaluate the result on the validation split."})
    eval_limit: int | None = field(default=200, metadata={"help": "Validation samples for eval_at_end."})
    eval_max_new_tokens: int = field(default=256, metadata={"help": "Generation length of eval_at_end."})


def _cpu_defaults(cfg: object) -> None:
    import torch

    if not torch.cuda.is_available():  # a CPU-only machine: train on the CPU without asking for flags
        cfg.use_cpu = True  # type: ignore[attr-defined]
        cfg.bf16 = False  # type: ignore[attr-defined]


@dataclass
class SafeSFTConfig(PersafeFields, SFTConfig):
    """Safe-SFT (or the plain-SFT baseline) on SafeRec samples. Every ``SFTConfig`` field applies too."""

    target: str = field(default="safe", metadata={"help": "safe (filtered ground truth) or plain (unfiltered)."})
    task: str = field(
        default="list",
        metadata={
            "help": "list (the SafeRec prompt, answer: the ground-truth list) or choice (the candidate-choice prompt "
            "of RosePO / S-DPO, answer: the first safe ground-truth item; the start of preference training)."
        },
    )
    reasoning: bool = field(
        default=False, metadata={"help": "Answer as <reasoning>…</reasoning><solution>…</solution>."}
    )

    def __post_init__(self) -> None:
        if self.target not in ("safe", "plain"):
            raise ValueError(f"target must be 'safe' or 'plain', got {self.target!r}")
        if self.task not in ("list", "choice"):
            raise ValueError(f"task must be 'list' or 'choice', got {self.task!r}")
        _cpu_defaults(self)
        super().__post_init__()


@dataclass
class SafeGDPOConfig(PersafeFields, GRPOConfig):
    """Safe-GDPO: GRPO with the relevance, safety and count rewards, each normalised within its group
    (``multi_objective_aggregation="normalize_then_sum"``). Every ``GRPOConfig`` field applies too;
    ``reward_weights`` orders as ``[relevance, safety, count]``."""

    k: int = field(default=10, metadata={"help": "Cut-off of the relevance and safety rewards."})
    target_count: int = field(default=20, metadata={"help": "List length the count reward asks for."})
    discounted_relevance: bool = field(default=False, metadata={"help": "Relevance = NDCG@k instead of a hit."})
    constrained_decoding: bool = field(
        default=False,
        metadata={
            "help": "Sample the group's completions as target_count distinct catalog lines, none the user named "
            "(transformers generation; set max_completion_length to fit them)."
        },
    )

    multi_objective_aggregation: str = field(
        default="normalize_then_sum",
        metadata={"help": "normalize_then_sum (GDPO, the default here) or sum_then_normalize (plain GRPO)."},
    )

    def __post_init__(self) -> None:
        _cpu_defaults(self)
        super().__post_init__()


@dataclass
class _PreferenceFields:
    """Fields of the preference-pair data shared by RosePO and S-DPO."""

    strategies: list[str] = field(
        default_factory=lambda: ["popularity", "unsafe", "semantic"],
        metadata={
            "help": "Rejected-sample strategies, cycled over the samples: self_hard (needs sampler_model), "
            "semantic (hallucination: similar to the target), popularity, unsafe (violates a user trait)."
        },
    )
    sampler_model: str | None = field(
        default=None, metadata={"help": "Model spec whose own wrong answers are the self_hard rejections."}
    )
    pair_seed: int = field(default=0, metadata={"help": "Seed of the pair builder."})


@dataclass
class RosePOConfig(_PreferenceFields, PersafeFields, DPOConfig):
    """RosePO: DPO with rejected-sample strategies and personalised smoothing ε_u from a conventional
    recommender (the "user oracle"). Every ``DPOConfig`` field applies too (``beta``, ...)."""

    user_oracle: str = field(
        default="itemknn",
        metadata={"help": "Recommender whose scores set ε_u: itemknn, ease, popularity, or none (ε_u = 0: DPO)."},
    )
    epsilon_max: float = field(default=0.3, metadata={"help": "Upper clip of ε_u."})

    def __post_init__(self) -> None:
        _cpu_defaults(self)
        super().__post_init__()


@dataclass
class SDPOConfig(_PreferenceFields, PersafeFields, DPOConfig):
    """S-DPO: the multi-negative softmax DPO loss, ``n_negatives`` rejected answers per prompt.
    Every ``DPOConfig`` field applies too (``beta``; the reference setting is β = 1)."""

    n_negatives: int = field(default=3, metadata={"help": "Rejected answers per prompt."})

    def __post_init__(self) -> None:
        if self.n_negatives < 1:
            raise ValueError(f"n_negatives must be at least 1, got {self.n_negatives}")
        _cpu_defaults(self)
        super().__post_init__()
