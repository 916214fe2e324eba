"""Constrained sampling inside TRL's ``GRPOTrainer``: group samples that are real catalog lists.

``GRPOTrainer`` (transformers generation) samples completions with ``model.generate``. ``constrain_generation``
wraps that method on the model instance (TRL is not changed): for every prompt of a generation batch
it finds the sample whose request the prompt holds, and adds a ``CatalogLogitsProcessor`` so that each
completion is ``k`` distinct catalog lines, none the user named. The rewards are then computed on real
catalog items instead of hallucinated titles. A prompt that matches no sample is generated freely.

Set ``max_completion_length`` to at least ``k`` times the longest line (``CatalogTrie.max_tokens``) or the
last line may be cut. With ``use_vllm`` the generation happens in vLLM, not here: this hook then has no
effect (constrain the vLLM server instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from persafe.llm.constrained import CatalogLogitsProcessor, ListConstraint


def constrain_generation(model: Any, tokenizer: Any, constraints: Mapping[str, ListConstraint]) -> dict[str, int]:
    """Make ``model.generate`` keep each completion on the constraint of its prompt's sample.

    Args:
        model: the policy (the instance whose ``generate`` TRL calls; a PEFT model's base is patched too).
        tokenizer: decodes the prompts.
        constraints: per sample, a text that occurs in its prompt (its request) → its constraint.

    Returns:
        Counters, updated as training runs: ``constrained`` and ``free`` completions generated,
        ``fallbacks`` (see ``CatalogLogitsProcessor``).
    """
    # Requests are compared as the tokenizer reads them back (a word-level tokenizer lower-cases; a BPE one may
    # space differently), whitespace collapsed.
    by_key = {_read_back(tokenizer, k): c for k, c in constraints.items()}
    keys = sorted(by_key, key=len, reverse=True)  # the longest request a prompt holds wins
    stats = {"constrained": 0, "free": 0, "fallbacks": 0}
    targets = [model]
    base = getattr(model, "get_base_model", None)
    if callable(base) and base() is not model:
        targets.append(base())
    for target in targets:
        original = target.generate

        def generate(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            from transformers import LogitsProcessorList

            ids = kwargs.get("input_ids", args[0] if args else None)
            if ids is None:
                return _original(*args, **kwargs)
            mask = kwargs.get("attention_mask")
            rows = list(ids) if mask is None else [r[m.bool()] for r, m in zip(ids, mask, strict=True)]
            prompts = [" ".join(p.split()) for p in tokenizer.batch_decode(rows, skip_special_tokens=True)]
            chosen = [next((by_key[k] for k in keys if k in p), None) for p in prompts]
            if not any(c is not None for c in chosen):
                stats["free"] += len(prompts)
                return _original(*args, **kwargs)
            eos = tokenizer.eos_token_id
            processor = CatalogLogitsProcessor(chosen, eos)
            extra = kwargs.pop("logits_processor", None) or []
            kwargs["logits_processor"] = LogitsProcessorList([*extra, processor])
            out = _original(*args, **kwargs)
            stats["constrained"] += sum(c is not None for c in chosen)
            stats["free"] += sum(c is None for c in chosen)
            stats["fallbacks"] += processor.fallbacks
            return out

        target.generate = generate
    return stats


def _read_back(tokenizer: Any, text: str) -> str:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return " ".join(tokenizer.decode(ids, skip_special_tokens=True).split())
