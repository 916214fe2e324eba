"""RosePO and S-DPO as ``DPOTrainer`` subclasses that change only the loss.

TRL's ``DPOTrainer`` keeps everything else: tokenisation, the reference model (the base model with the
adapter disabled under LoRA), the optimiser, distributed training and logging. The subclasses

* batch ``[chosen; rejected_1; …; rejected_m]`` (a collator that also carries each row's ``epsilon``),
* compute each sequence's log-ratio ``log πθ(y|x) − log π_ref(y|x)`` as TRL does, and
* apply :func:`persafe.train.losses.rosepo_loss` or :func:`persafe.train.losses.sdpo_loss`, the functions the
  formula tests check.

Data rows: ``prompt``, ``chosen``, ``rejected`` (TRL's conversational format), plus ``epsilon`` (RosePO) or
``more_rejected`` (a list of further rejected answers, S-DPO), as :class:`persafe.train.pairs.PairBuilder`
writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from transformers.data.data_collator import DataCollatorMixin
from trl import DPOTrainer
from trl.trainer.utils import pad

from persafe.train.losses import rosepo_loss, sdpo_loss


@dataclass
class MultiNegativeCollator(DataCollatorMixin):
    """Pad ``[chosen…; rejected_1…; …; rejected_m…]`` (right padding) with completion masks.

    Every example needs ``prompt_ids``, ``chosen_ids`` and ``rejected_ids``; optional ``more_rejected_ids``
    (the same number in every example) and ``epsilon``.
    """

    pad_token_id: int
    max_length: int | None = None
    truncation_mode: str = "keep_start"
    return_tensors: str = "pt"

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        negatives = [[ex["rejected_ids"], *(ex.get("more_rejected_ids") or [])] for ex in examples]
        m = len(negatives[0])
        if any(len(n) != m for n in negatives):
            raise ValueError("every preference row of a batch needs the same number of rejected answers")
        groups = [[ex["chosen_ids"] for ex in examples]] + [[n[j] for n in negatives] for j in range(m)]
        ids, masks = [], []
        for completions in groups:
            for ex, completion in zip(examples, completions, strict=True):
                seq = list(ex["prompt_ids"]) + list(completion)
                mask = [0] * len(ex["prompt_ids"]) + [1] * len(completion)
                if self.max_length is not None:
                    keep_start = self.truncation_mode == "keep_start"
                    cut = slice(None, self.max_length) if keep_start else slice(-self.max_length, None)
                    seq, mask = seq[cut], mask[cut]
                ids.append(torch.tensor(seq))
                masks.append(torch.tensor(mask, dtype=torch.long))
        out = {
            "input_ids": pad(ids, padding_value=self.pad_token_id, padding_side="right"),
            "attention_mask": pad([torch.ones_like(t) for t in ids], padding_value=0, padding_side="right"),
            "completion_mask": pad(masks, padding_value=0, padding_side="right"),
        }
        out["n_examples"] = torch.tensor(len(examples))
        if "epsilon" in examples[0]:
            out["epsilon"] = torch.tensor([float(ex["epsilon"]) for ex in examples])
        return out


class _MultiNegativeDPOTrainer(DPOTrainer):
    """Shared machinery: the collator, tokenising extra negatives, per-sequence log-ratios."""

    _extra_columns = ("epsilon", "more_rejected_ids")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        targs = kwargs.get("args")
        if targs is not None:
            if targs.precompute_ref_log_probs:
                raise ValueError(f"{type(self).__name__} computes reference log-probs on the fly; "
                                 "set precompute_ref_log_probs to false")  # fmt: skip
            if targs.ld_alpha is not None or targs.use_weighting:
                raise ValueError(f"{type(self).__name__} replaces the loss: ld_alpha and use_weighting do not apply")
        super().__init__(*args, **kwargs)
        self.data_collator = MultiNegativeCollator(
            pad_token_id=self._tokenizer.pad_token_id,
            max_length=self.args.max_length,
            truncation_mode=self.args.truncation_mode,
        )

    def _prepare_dataset(self, dataset: Any, processing_class: Any, args: Any, dataset_name: str) -> Any:
        dataset = super()._prepare_dataset(dataset, processing_class, args, dataset_name)
        if "more_rejected" not in dataset.column_names:
            return dataset
        tok = self._tokenizer

        def tokenize_more(example: dict[str, Any]) -> dict[str, Any]:
            n = len(example["prompt_ids"])
            more = []
            for rejected in example["more_rejected"]:
                full = tok.apply_chat_template(example["prompt"] + rejected, tokenize=True, return_dict=True)
                more.append(list(full["input_ids"])[n:])
            return {"more_rejected_ids": more}

        return dataset.map(tokenize_more, desc=f"Tokenizing further negatives of {dataset_name} dataset")

    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        self._signature_columns = list(self._signature_columns) + [
            c for c in self._extra_columns if c not in self._signature_columns
        ]

    def _logratios(self, model: Any, inputs: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor, Any]:
        """``(chosen (n,), rejected (n, m), outputs)`` log-ratios of the batch."""
        model_kwargs = {k: inputs[k] for k in ("input_ids", "attention_mask")}
        model_kwargs["use_cache"] = False
        cmask = inputs["completion_mask"]
        labels = inputs["input_ids"].masked_fill(cmask == 0, -100)
        outputs = model(**model_kwargs, labels=labels, fused_lm_head=True)
        seq_len = cmask.size(1) - 1
        logps = outputs.log_probs[:, -seq_len:].sum(dim=1)
        seqs = {k: inputs[k] for k in ("input_ids", "attention_mask", "completion_mask")}
        ref = torch.cat(self.compute_ref_log_probs(self.ref_model or self.model, seqs))  # TRL's reference pass
        ratios = logps - ref.to(logps.device)
        n = int(inputs["n_examples"])
        chosen, rejected = ratios[:n], ratios[n:].view(ratios.numel() // n - 1, n).T
        return chosen, rejected, outputs

    def _log_rewards(self, chosen: torch.Tensor, rejected: torch.Tensor) -> str:
        mode = "train" if self.model.training else "eval"
        rc, rr = self.beta * chosen.detach(), self.beta * rejected.detach()
        gather = self.accelerator.gather_for_metrics
        self._metrics[mode]["rewards/chosen"].append(gather(rc).mean().item())
        self._metrics[mode]["rewards/rejected"].append(gather(rr).mean().item())
        self._metrics[mode]["rewards/accuracies"].append(gather((rc[:, None] > rr).all(dim=1).float()).mean().item())
        self._metrics[mode]["rewards/margins"].append(gather(rc - rr.max(dim=1).values).mean().item())
        return mode

    def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:  # fmt: skip
        loss, outputs = self._loss(model, inputs)
        return (loss, outputs) if return_outputs else loss

    def _loss(self, model: Any, inputs: dict[str, Any]) -> tuple[torch.Tensor, Any]:
        raise NotImplementedError


class RosePOTrainer(_MultiNegativeDPOTrainer):
    """RosePO: ``L = −(1−ε_u)·log σ(β h) − ε_u·log σ(−β h)`` per pair, ``ε_u`` from the row's ``epsilon``
    (0 when absent: then it is DPO)."""

    def _loss(self, model: Any, inputs: dict[str, Any]) -> tuple[torch.Tensor, Any]:
        chosen, rejected, outputs = self._logratios(model, inputs)
        eps = inputs.get("epsilon")
        eps = torch.zeros_like(chosen) if eps is None else eps.to(chosen.device, chosen.dtype)
        loss = rosepo_loss(chosen, rejected[:, 0], eps, beta=self.beta).mean()
        mode = self._log_rewards(chosen, rejected[:, :1])
        self._metrics[mode]["epsilon"].append(self.accelerator.gather_for_metrics(eps).mean().item())
        return loss, outputs


class SDPOTrainer(_MultiNegativeDPOTrainer):
    """S-DPO: ``L = −log σ(−log Σ_j exp(β (h_l,j − h_w)))`` over the row's rejected answers."""

    def _loss(self, model: Any, inputs: dict[str, Any]) -> tuple[torch.Tensor, Any]:
        chosen, rejected, outputs = self._logratios(model, inputs)
        loss = sdpo_loss(chosen, rejected, beta=self.beta).mean()
        self._log_rewards(chosen, rejected)
        return loss, outputs


def preference_rows(cfg: Any, n_negatives: int, with_epsilon: bool) -> tuple[list[dict[str, Any]], Any]:
    """Pair rows for a RosePO / S-DPO config (strategies, sampler, user oracle) and the builder's stats."""
    from persafe.catalog import builtin_oracle
    from persafe.saferec import load_saferec
    from persafe.train.pairs import PairBuilder, epsilon_sigmoid, recommender_scorer
    from persafe.train.sft import train_samples

    ml, _, oracle = builtin_oracle()
    train = load_saferec(cfg.data, "train")
    sampler = None
    if "self_hard" in cfg.strategies:
        from persafe.llm import load_model

        if not cfg.sampler_model:
            raise ValueError("the self_hard strategy needs sampler_model (e.g. hf:<your SFT output>)")
        sampler = load_model(cfg.sampler_model)
    builder = PairBuilder(ml.catalog, oracle, train, sampler=sampler, seed=cfg.pair_seed)
    scorer = epsilon = None
    if with_epsilon and cfg.user_oracle != "none":
        scorer = recommender_scorer(cfg.user_oracle, train, ml.catalog)
        epsilon = epsilon_sigmoid(cfg.epsilon_max)
    return builder.build(train_samples(cfg), cfg.strategies, n_negatives, scorer=scorer, epsilon=epsilon)


def _train_preference(cfg: Any, trainer_cls: type, n_negatives: int, with_epsilon: bool) -> Any:
    import copy

    from datasets import Dataset

    from persafe.io import atomic_write_json
    from persafe.train.sft import evaluate_at_end, load_trainable, peft_for, save_trained

    rows, stats = preference_rows(cfg, n_negatives, with_epsilon)
    if not rows:
        raise ValueError(f"no preference pairs could be built ({stats.model_dump()})")
    model, tok, base = load_trainable(cfg.model)
    peft_config = peft_for(cfg, model)
    ref = None if peft_config is not None else copy.deepcopy(model)  # LoRA: the reference is the adapter disabled
    keep = ("prompt", "chosen", "rejected", "more_rejected", "epsilon")
    data = Dataset.from_list([{k: r[k] for k in keep if k in r} for r in rows])
    trainer = trainer_cls(model=model, ref_model=ref, args=cfg, train_dataset=data, processing_class=tok,
                          peft_config=peft_config)  # fmt: skip
    trainer.train()
    out = save_trained(trainer, tok, base, cfg.output_dir, merge=cfg.merge_lora)
    atomic_write_json(out / "pairs.json", stats.model_dump())
    evaluate_at_end(cfg, out)
    return out


def train_rosepo(cfg: Any) -> Any:
    """RosePO (``RosePOConfig``): pairs by strategy, ε_u from the user oracle, :class:`RosePOTrainer`."""
    return _train_preference(cfg, RosePOTrainer, 1, with_epsilon=True)


def train_sdpo(cfg: Any) -> Any:
    """S-DPO (``SDPOConfig``): ``n_negatives`` rejected answers per prompt, :class:`SDPOTrainer`."""
    return _train_preference(cfg, SDPOTrainer, cfg.n_negatives, with_epsilon=False)
