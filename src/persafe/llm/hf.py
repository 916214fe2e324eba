"""Hugging Face transformers backend: batched chat generation with left padding.

Loads a local model folder (or a LoRA adapter folder, whose base model is read from its
``adapter_config.json``), picks dtype and device automatically, and never downloads unless the user
allows it (``PERSAFE_ALLOW_DOWNLOAD=1``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from persafe.errors import PersafeError
from persafe.llm.base import Conversation, Generation, GenerationParams

if TYPE_CHECKING:
    from persafe.llm.constrained import CatalogTrie, ListConstraint

log = logging.getLogger("persafe.llm")


def downloads_allowed() -> bool:
    """Whether model weights may be fetched from a hub (off unless ``PERSAFE_ALLOW_DOWNLOAD=1``)."""
    return os.environ.get("PERSAFE_ALLOW_DOWNLOAD", "") == "1"


def _resolve(path_or_id: str) -> tuple[str, str | None]:
    """``(base model, adapter folder or None)`` for a model folder, adapter folder or hub id."""
    p = Path(path_or_id).expanduser()
    if p.is_dir():
        cfg = p / "adapter_config.json"
        if cfg.exists():
            base = json.loads(cfg.read_text(encoding="utf-8")).get("base_model_name_or_path")
            if not base:
                raise PersafeError(f"{cfg} names no base_model_name_or_path")
            return base, str(p)
        return str(p), None
    if not downloads_allowed():
        raise PersafeError(
            f"model folder {path_or_id!r} not found, and downloading is off (these machines are offline). "
            "Pass a local folder, use 'smollm2', or set PERSAFE_ALLOW_DOWNLOAD=1 on a machine with hub access."
        )
    return path_or_id, None


class HFChatModel:
    """Chat generation with a transformers causal LM.

    Args:
        path: model folder, LoRA adapter folder, or (with downloads allowed) a hub id.
        batch_size: conversations per forward pass.
        dtype: ``auto`` (bfloat16 on GPU, float32 on CPU) or a torch dtype name.
        device: ``auto`` (cuda, then mps, then cpu) or a torch device string.
        model: an already loaded model (tests, training hooks); ``tokenizer`` must come with it.
        tokenizer: the tokenizer of ``model``.
        name: identifier (default ``hf:<path>``).
    """

    def __init__(
        self,
        path: str | None = None,
        batch_size: int = 8,
        dtype: str = "auto",
        device: str = "auto",
        model: Any = None,
        tokenizer: Any = None,
        name: str | None = None,
    ) -> None:
        import torch

        self.batch_size = batch_size
        self._tries: dict[int, CatalogTrie] = {}
        self._folders: list[str] = []
        self._fingerprint: str | None = None
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
        self.device = device
        if model is None:
            if path is None:
                raise ValueError("give a model path or a loaded model")
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # persafe shows its own progress

            base, adapter = _resolve(path)
            self._folders = [f for f in (base, adapter) if f and Path(f).expanduser().is_dir()]
            torch_dtype = (
                (torch.bfloat16 if device == "cuda" else torch.float32) if dtype == "auto" else getattr(torch, dtype)
            )
            offline = {} if downloads_allowed() else {"local_files_only": True}
            tokenizer = AutoTokenizer.from_pretrained(adapter or base, **offline)
            model = AutoModelForCausalLM.from_pretrained(base, dtype=torch_dtype, **offline)
            if adapter:
                from peft import PeftModel

                model = PeftModel.from_pretrained(model, adapter)
            model.to(device)
        self.model, self.tokenizer = model.eval(), tokenizer
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.name = name or f"hf:{path}"

    @property
    def fingerprint(self) -> str:
        """What the answers depend on: the content of the model (and adapter) folder, so that a model
        retrained into the same folder is a different model; the name for a hub id or a model given in
        memory."""
        if self._fingerprint is None:
            from persafe.fingerprint import digest, folder_fingerprint

            parts = [folder_fingerprint(Path(f).expanduser()) for f in self._folders]
            self._fingerprint = f"{self.name}#{digest(parts)}" if parts else self.name
        return self._fingerprint

    def _prompt(self, conv: Conversation) -> str:
        msgs = [{"role": m.role, "content": m.content} for m in conv]
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        # A model without a chat template: plain "role: content" lines, then the assistant's turn.
        return "".join(f"{m['role']}: {m['content']}\n" for m in msgs) + "assistant:"

    supports_constraints = True
    """``generate`` accepts ``constraints`` (catalog-constrained lists, ``persafe.llm.constrained``)."""

    def catalog_trie(self, lines: Sequence[str]) -> CatalogTrie:
        """The token trie of catalog lines for this model's tokenizer (built once per list of lines)."""
        from persafe.llm.constrained import CatalogTrie

        key = hash(tuple(lines))
        if key not in self._tries:
            self._tries[key] = CatalogTrie(lines, self.tokenizer)
        return self._tries[key]

    def generate(
        self,
        conversations: Sequence[Conversation],
        params: GenerationParams,
        constraints: Sequence[ListConstraint | None] | None = None,
    ) -> list[Generation]:
        """Answer each conversation; with ``constraints``, answer ``i`` can only be ``constraints[i]``'s
        catalog lines (``k`` of them, no repeats, none excluded)."""
        import torch

        if constraints is not None and len(constraints) != len(conversations):
            raise ValueError("give one constraint (or None) per conversation")
        prompts = [self._prompt(c) for c in conversations]
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))  # similar lengths share a batch
        out: list[Generation | None] = [None] * len(prompts)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            try:
                batch_constraints = [constraints[i] for i in idx] if constraints is not None else None
                gens = self._generate_batch([prompts[i] for i in idx], params, batch_constraints)
                for i, g in zip(idx, gens, strict=True):
                    out[i] = g
            except (RuntimeError, ValueError) as e:  # e.g. out of memory: report per request, keep going
                log.warning("generation failed for a batch of %d: %s", len(idx), e)
                for i in idx:
                    out[i] = Generation(text="", error=f"{type(e).__name__}: {e}"[:300])
            if params.seed is not None:
                torch.manual_seed(params.seed + start)
        return [g for g in out if g is not None]

    def _generate_batch(
        self, prompts: list[str], params: GenerationParams, constraints: list[ListConstraint | None] | None = None
    ) -> list[Generation]:
        import torch

        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        sample = params.temperature > 0
        budget = params.max_new_tokens
        processor = None
        if constraints is not None and any(c is not None for c in constraints):
            from transformers import LogitsProcessorList

            from persafe.llm.constrained import CatalogLogitsProcessor

            processor = CatalogLogitsProcessor(constraints, self.tokenizer.eos_token_id, params.max_new_tokens)
            budget = max(budget, *(c.max_new_tokens() for c in constraints if c is not None))
        kwargs: dict[str, Any] = {
            "max_new_tokens": budget,
            "do_sample": sample,
            "pad_token_id": self.tokenizer.pad_token_id,
            "return_dict_in_generate": True,
            "output_scores": params.logprobs,
        }
        if params.repetition_penalty != 1.0:
            kwargs["repetition_penalty"] = params.repetition_penalty
        if sample:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if params.stop and processor is None:  # a constrained answer ends when its lines are written
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        if processor is not None:
            kwargs["logits_processor"] = LogitsProcessorList([processor])
        if sample and params.seed is not None:
            torch.manual_seed(params.seed)
        with torch.no_grad():
            res = self.model.generate(**enc, **kwargs)
        new = res.sequences[:, enc["input_ids"].shape[1] :]
        scores = None
        if params.logprobs:
            scores = self.model.compute_transition_scores(res.sequences, res.scores, normalize_logits=True)
        eos = self.tokenizer.eos_token_id
        gens = []
        for b in range(new.shape[0]):
            toks = new[b]
            keep = (
                toks != self.tokenizer.pad_token_id
                if self.tokenizer.pad_token_id != eos
                else torch.ones_like(toks, dtype=torch.bool)
            )
            n = int(keep.sum())
            text = self.tokenizer.decode(toks, skip_special_tokens=True)
            hit_stop = None
            for s in params.stop:
                pos = text.find(s)
                if pos >= 0 and (hit_stop is None or pos < hit_stop):
                    hit_stop = pos
            if hit_stop is not None:
                text = text[:hit_stop]
            ended = bool((toks == eos).any()) or hit_stop is not None
            lp = None
            if scores is not None:
                lp = [float(x) for x, k in zip(scores[b].tolist(), keep.tolist(), strict=True) if k]
            if processor is not None and processor.answers[b] is not None:
                info = processor.answers[b]
                constrained = {"lines": info.lines, "complete": info.done, "fallbacks": processor.fallbacks}
            else:
                constrained = None
            gens.append(
                Generation(
                    text=text.strip(),
                    constrained=constrained,
                    finish_reason="stop" if ended else "length",
                    token_logprobs=lp,
                    prompt_tokens=int(enc["attention_mask"][b].sum()),
                    completion_tokens=n,
                )
            )
        return gens
