"""A miniature recommender LM sized to a 2-core CPU: one token per catalog item plus the words of the requests.

The methods' *effect* (Safe-SFT, Safe-GDPO, RosePO, S-DPO) needs many optimiser steps over the whole
SafeRec train split; a 135M-parameter model on two CPU cores takes tens of seconds per step and never
learns the catalog. The miniature is a small Llama-architecture causal LM trained from scratch whose
tokenizer has

* one token per catalog title line (``Toy Story (1995)``): a title in any text (the history in a prompt,
  an answer) is read as that single token, and every title the model writes is a real catalog item;
* one token per word of the training prompts (lower-cased; words never seen in training read as
  ``<unk>``: the model reads requests through the vocabulary of the training phrasings);
* a chat template (``<|user|> … <|end|> <|assistant|> … <|end|>``).

It is saved as an ordinary transformers folder (``config.json``, weights, ``tokenizer.json``), so it goes
through the same trainers, generation backend, parser and metrics as any ``hf:`` model: nothing downstream
knows it is special. It is written by hand because no library builds a word-and-item vocabulary; the
tokenizer itself is a ``tokenizers`` WordLevel model and the network is transformers' ``LlamaForCausalLM``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from persafe.catalog.items import Catalog

SPECIAL = ["<pad>", "<unk>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
_WORD = re.compile(r"\w+|[^\w\s]")


class MiniatureConfig(BaseModel):
    """Size of the miniature (recorded in the model folder's ``miniature.json``)."""

    model_config = ConfigDict(extra="forbid")

    hidden_size: int = Field(128, ge=8)
    layers: int = Field(2, ge=1)
    heads: int = Field(4, ge=1)
    intermediate_size: int = Field(512, ge=8)
    max_positions: int = Field(1024, ge=64)
    min_word_count: int = Field(2, ge=1)
    """Words seen fewer times in the training prompts read as ``<unk>``."""
    seed: int = 0


def words(text: str) -> list[str]:
    """The word tokens of a text as the miniature's tokenizer splits it (lower-cased)."""
    return _WORD.findall(text.lower())


def miniature_tokenizer(catalog: Catalog, texts: Iterable[str], min_word_count: int = 2) -> Any:
    """A ``PreTrainedTokenizerFast`` with one token per catalog line and per frequent word of ``texts``.

    Title lines are added tokens matched in the raw text before word splitting, so ``Heat (1995)`` in a
    prompt is one token and never the words ``heat ( 1995 )``.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    texts = list(texts)
    lines = _title_lines(catalog)
    title_set = set(lines)
    spans = [s for s in frequent_spans(texts) if s not in title_set]

    def make(vocab: dict[str, int]) -> Any:
        tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
        tok.normalizer = normalizers.Lowercase()
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(_WORD.pattern), behavior="isolated")]
        )
        tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIAL])
        fixed = [*lines, *spans, "\n"]
        tok.add_tokens([AddedToken(t, normalized=False) for t in fixed])
        return tok

    vocab = {tok: i for i, tok in enumerate(SPECIAL)}
    counts: Counter[str] = Counter()
    unk = vocab["<unk>"]
    for text, enc in zip(texts, make(vocab).encode_batch(texts), strict=True):  # words: what titles leave
        counts.update(text[a:b].lower() for (a, b), i in zip(enc.offsets, enc.ids, strict=True) if i == unk)
    for w, c in sorted(counts.items(), key=lambda x: (-x[1], x[0])):
        if c >= min_word_count and w not in vocab:
            vocab[w] = len(vocab)
    tok = make(vocab)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|end|>",
        clean_up_tokenization_spaces=False,
    )  # fmt: skip
    hf.chat_template = CHAT_TEMPLATE
    return hf


def frequent_spans(texts: Sequence[str], share: float = 0.05, min_chars: int = 12) -> list[str]:
    """Template text the prompts share, each span to become one token (as a BPE vocabulary would merge it).

    Lines in at least ``share`` of the texts, and, per group of texts with the same first line (one
    prompt template), the group's longest common prefix cut at a word boundary. Without them a fixed
    instruction costs ~70 tokens per prompt; with them, one.
    """
    n = len(texts)
    if not n:
        return []
    line_counts: Counter[str] = Counter()
    groups: dict[str, list[str]] = {}
    for t in texts:
        line_counts.update({ln for ln in t.split("\n") if len(ln.strip()) >= min_chars})
        groups.setdefault(t.split("\n", 1)[0], []).append(t)
    spans = {ln for ln, c in line_counts.items() if c >= share * n}
    for group in groups.values():
        if len(group) >= share * n:
            prefix = os.path.commonprefix(group)  # noqa: RUF071 (characters, not paths)
            cut = max(prefix.rfind(" "), prefix.rfind("\n"))
            prefix = prefix[: cut + 1] if cut >= 0 else ""
            if len(prefix.strip()) >= min_chars:
                spans.add(prefix)
    return sorted(spans)


def _title_lines(catalog: Catalog) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in catalog.items:
        if item.display not in seen:
            seen.add(item.display)
            out.append(item.display)
    return out


def miniature_model(tokenizer: Any, cfg: MiniatureConfig) -> Any:
    """A randomly initialised ``LlamaForCausalLM`` of ``cfg``'s size for ``tokenizer``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(cfg.seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=cfg.hidden_size, num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads, num_key_value_heads=cfg.heads, intermediate_size=cfg.intermediate_size,
        max_position_embeddings=cfg.max_positions, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|user|>"),
    )  # fmt: skip
    return LlamaForCausalLM(config)


def build_miniature(
    texts: Sequence[str], catalog: Catalog, out: str | Path, cfg: MiniatureConfig | None = None
) -> Path:
    """Write a randomly initialised miniature (model + tokenizer) to ``out``; use it as ``hf:<out>``.

    Args:
        texts: the training prompts (their words make the vocabulary).
        catalog: its title lines become item tokens.
        out: the model folder.
        cfg: the size.
    """
    cfg = cfg or MiniatureConfig()
    out = Path(out)
    tok = miniature_tokenizer(catalog, texts, cfg.min_word_count)
    model = miniature_model(tok, cfg)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    (out / "miniature.json").write_text(cfg.model_dump_json(indent=2), encoding="utf-8")
    return out


def training_texts(train: Sequence[Any], catalog: Catalog) -> list[str]:
    """The prompts the trainers show for the training samples: the SafeRec list prompt and the
    candidate-choice prompt (their words make the miniature's vocabulary; no test text is read)."""
    from persafe.recsys.llm import candidate_conversation, candidate_rows

    texts = [m.content for s in train for m in s.prompt]
    texts += [
        candidate_conversation(s, catalog, candidate_rows(s, catalog))[0].content
        for s in train
        if s.groundtruth_item_ids
    ]
    return texts
