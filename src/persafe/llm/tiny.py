"""A tiny random GPT-2 with a tokenizer trained in memory, for fast tests of model mechanics.

Builds in well under a second, needs no download, and has a chat template, so it runs through the
same ``HFChatModel`` code path (and, later, the same trainers) as a real model.
"""

from __future__ import annotations

from typing import Any

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_CORPUS = [
    "I loved Heat (1995) and Fargo (1996). What should I watch next?",
    "1. Toy Story (1995)\n2. Babe (1995)\n3. The Usual Suspects (1995)",
    "Please, nothing with spiders. My daughter is six and she'll be watching with me.",
    '{"traits": ["arachnophobia"]} {"traits": []}',
]


def tiny_tokenizer(vocab_size: int = 400) -> Any:
    """A byte-level BPE tokenizer trained on a few sentences, with chat special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 4, trainer)
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>")
    hf.chat_template = CHAT_TEMPLATE
    return hf


def tiny_model(tokenizer: Any, seed: int = 1, n_layer: int = 2, n_embd: int = 64) -> Any:
    """A random GPT-2 language model sized for ``tokenizer``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    cfg = GPT2Config(
        vocab_size=len(tokenizer), n_layer=n_layer, n_embd=n_embd, n_head=2, n_positions=2048,
        initializer_range=0.2,  # peakier random logits: varied (gibberish) text instead of one repeated token
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    return GPT2LMHeadModel(cfg).eval()


def tiny_chat_model(seed: int = 1, batch_size: int = 4) -> Any:
    """``HFChatModel`` over a tiny random GPT-2 (outputs are gibberish, deterministically)."""
    from persafe.llm.hf import HFChatModel

    tok = tiny_tokenizer()
    return HFChatModel(model=tiny_model(tok, seed), tokenizer=tok, batch_size=batch_size, device="cpu", name="tiny")
