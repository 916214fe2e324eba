"""The transformers backend: batched generation with left padding, on the tiny model and on SmolLM2."""

from __future__ import annotations

import time

import pytest

from persafe.errors import PersafeError
from persafe.llm import GenerationParams, Message, load_model
from persafe.llm.hf import HFChatModel
from persafe.llm.tiny import tiny_chat_model, tiny_model, tiny_tokenizer


def conv(text: str) -> list[Message]:
    return [Message(role="system", content="You recommend movies."), Message(role="user", content=text)]


def test_tiny_model_builds_fast_and_generates_a_batch():
    from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast  # noqa: F401 - time the build, not imports

    tiny_chat_model()  # warm up lazy imports

    t0 = time.perf_counter()
    model = tiny_chat_model()
    assert time.perf_counter() - t0 < 2
    convs = [conv("I loved Heat (1995)."), conv("Please, nothing with spiders. My daughter is six.")]
    gens = model.generate(convs, GenerationParams(max_new_tokens=8, logprobs=True))
    assert len(gens) == 2
    for g in gens:
        assert g.error is None
        assert 1 <= g.completion_tokens <= 8
        assert g.finish_reason in {"stop", "length"}
        assert len(g.token_logprobs) == g.completion_tokens
        assert all(lp <= 0 for lp in g.token_logprobs)


def test_batched_generation_equals_one_at_a_time():
    """Left padding must not change greedy outputs: a batch gives what each prompt gives alone."""
    model = tiny_chat_model(batch_size=4)
    convs = [conv("Heat"), conv("I loved Heat (1995) and Fargo (1996). What should I watch next?"), conv("Babe")]
    params = GenerationParams(max_new_tokens=6)
    batched = [g.text for g in model.generate(convs, params)]
    model.batch_size = 1
    single = [g.text for g in model.generate(convs, params)]
    assert batched == single
    assert all(t.strip() for t in batched)  # real text, so the comparison means something
    assert model.tokenizer.padding_side == "left"


def test_stop_strings_cut_the_text():
    tok = tiny_tokenizer()
    model = HFChatModel(model=tiny_model(tok), tokenizer=tok, name="tiny")
    full = model.generate([conv("Heat")], GenerationParams(max_new_tokens=12))[0].text
    assert full
    stop = full[len(full) // 2 : len(full) // 2 + 1]
    cut = model.generate([conv("Heat")], GenerationParams(max_new_tokens=12, stop=(stop,)))[0]
    assert stop not in cut.text and full.startswith(cut.text)


def test_sampling_is_seeded():
    model = tiny_chat_model()
    p = GenerationParams(max_new_tokens=8, temperature=1.0, seed=3)
    assert model.generate([conv("Heat")], p)[0].text == model.generate([conv("Heat")], p)[0].text


def test_missing_folder_fails_offline_with_a_hint(tmp_path, monkeypatch):
    monkeypatch.delenv("PERSAFE_ALLOW_DOWNLOAD", raising=False)
    with pytest.raises(PersafeError, match="downloading is off"):
        load_model("hf:Qwen/Qwen2.5-0.5B-Instruct")


def test_saved_tiny_model_loads_from_a_folder(tmp_path):
    tok = tiny_tokenizer()
    tiny_model(tok).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    model = load_model(f"hf:{tmp_path}", batch_size=2)
    assert model.name == f"hf:{tmp_path}"
    assert model.generate([conv("Heat")], GenerationParams(max_new_tokens=4))[0].error is None


@pytest.mark.slow
def test_smollm2_answers_with_movie_titles():
    """The packaged SmolLM2 (converted once into the user cache) follows a simple list instruction."""
    from persafe.recsys import classify_output

    model = load_model("smollm2", batch_size=4)
    convs = [
        [Message(role="system", content="You are a movie recommender. Answer with a numbered list of movie titles "
                 "with their release year, one per line, and nothing else."),
         Message(role="user", content=f"I loved {t}. Please list 5 movies.")]
        for t in ("Toy Story (1995)", "Heat (1995)")
    ]  # fmt: skip
    gens = model.generate(convs, GenerationParams(max_new_tokens=60, repetition_penalty=1.3))
    assert all(g.error is None and g.completion_tokens > 0 for g in gens)
    assert any(classify_output(g.text).status == "parsed" for g in gens)


def test_lora_adapter_folder_loads_with_its_base(tmp_path):
    """``hf:<adapter dir>`` reads the base model from adapter_config.json and applies the adapter."""
    pytest.importorskip("peft")
    from peft import LoraConfig, get_peft_model

    tok = tiny_tokenizer()
    base_dir, adapter_dir = tmp_path / "base", tmp_path / "adapter"
    base = tiny_model(tok)
    base.save_pretrained(base_dir)
    tok.save_pretrained(base_dir)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["c_attn"], init_lora_weights=False))
    peft_model.peft_config["default"].base_model_name_or_path = str(base_dir)
    peft_model.save_pretrained(adapter_dir)
    tok.save_pretrained(adapter_dir)

    plain = load_model(f"hf:{base_dir}")
    adapted = load_model(f"hf:{adapter_dir}")
    from peft import PeftModel

    assert isinstance(adapted.model, PeftModel)
    p = GenerationParams(max_new_tokens=6, logprobs=True)
    a, b = plain.generate([conv("Heat")], p)[0], adapted.generate([conv("Heat")], p)[0]
    assert a.token_logprobs != b.token_logprobs  # the (non-zero) adapter changes the model


def test_llamacpp_backend_when_installed():
    pytest.importorskip("llama_cpp", reason="optional extra: pip install llama-cpp-python")
    model = load_model("llamacpp:smollm2")
    g = model.generate([conv("I loved Heat (1995). Please list 3 movies.")], GenerationParams(max_new_tokens=30))
    assert g[0].error is None and g[0].text
