"""The miniature recommender LM: item tokens, word tokens, chat template, and a real transformers model."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")


def test_titles_are_single_tokens_and_read_back(tmp_path):
    from persafe.catalog import builtin_oracle
    from persafe.train.miniature import MiniatureConfig, build_miniature

    ml, _, _ = builtin_oracle()
    texts = [f"Day {i}: I loved Toy Story (1995) and Heat (1995). Please no spiders." for i in range(40)]
    out = build_miniature(texts, ml.catalog, tmp_path / "mini", MiniatureConfig(hidden_size=16, intermediate_size=32))
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(out)
    ids = tok("I loved Toy Story (1995) and Heat (1995).", add_special_tokens=False)["input_ids"]
    tokens = tok.convert_ids_to_tokens(ids)
    assert "Toy Story (1995)" in tokens and "Heat (1995)" in tokens
    assert "loved" in tokens and tok.unk_token not in tokens
    assert tok.convert_ids_to_tokens(tok("xylophone", add_special_tokens=False)["input_ids"]) == [tok.unk_token]
    answer = tok("Toy Story (1995)\nHeat (1995)", add_special_tokens=False)["input_ids"]
    assert len(answer) == 3  # two items and the newline
    from persafe.recsys.parser import classify_output

    titles = [t.title for t in classify_output(tok.decode(answer, skip_special_tokens=True)).titles]
    assert titles == ["Toy Story", "Heat"]
    prompt = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    full = tok.apply_chat_template(
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Heat (1995)"}], tokenize=False
    )
    assert full.startswith(prompt)
    model = AutoModelForCausalLM.from_pretrained(out)
    assert model.config.vocab_size == len(tok)


def test_frequent_template_text_becomes_one_token():
    from persafe.train.miniature import frequent_spans

    texts = [f"Pretend you are a recommender.\nHere is the conversation: USER: request {i}" for i in range(20)]
    spans = frequent_spans(texts)
    assert "Pretend you are a recommender.\nHere is the conversation: USER: request " in spans
