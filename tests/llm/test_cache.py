"""The response cache: identical requests are served without a model call, also across processes."""

from __future__ import annotations

import multiprocessing as mp

from persafe.llm import CachedChatModel, Generation, GenerationParams, Message, ResponseCache, ScriptedChatModel
from persafe.llm.scripted import echo_hash


def convs(n: int, prefix: str = "q") -> list[list[Message]]:
    return [[Message(role="user", content=f"{prefix}{i}")] for i in range(n)]


def test_cache_returns_identical_results_without_a_model_call(tmp_path):
    inner = ScriptedChatModel(echo_hash)
    model = CachedChatModel(inner, ResponseCache(tmp_path / "c.sqlite"))
    params = GenerationParams(max_new_tokens=5)
    first = model.generate(convs(3), params)
    assert inner.calls == 3 and not any(g.cached for g in first)
    again = model.generate(convs(3), params)
    assert inner.calls == 3
    assert [g.text for g in again] == [g.text for g in first]
    assert all(g.cached for g in again)
    # a new process (a fresh cache object on the same file) also hits
    fresh = CachedChatModel(ScriptedChatModel(echo_hash), ResponseCache(tmp_path / "c.sqlite"))
    assert [g.text for g in fresh.generate(convs(3), params)] == [g.text for g in first]
    assert fresh.model.calls == 0


def test_key_covers_model_params_and_messages(tmp_path):
    inner = ScriptedChatModel(echo_hash)
    cache = ResponseCache(tmp_path / "c.sqlite")
    model = CachedChatModel(inner, cache)
    model.generate(convs(1), GenerationParams(max_new_tokens=5))
    model.generate(convs(1), GenerationParams(max_new_tokens=6))  # other params
    model.generate(convs(1, "x"), GenerationParams(max_new_tokens=5))  # other messages
    other = CachedChatModel(ScriptedChatModel(echo_hash, name="other"), cache)
    other.generate(convs(1), GenerationParams(max_new_tokens=5))  # other model
    assert inner.calls == 3 and other.model.calls == 1
    assert len(cache) == 4


def test_partial_hits_only_send_the_misses(tmp_path):
    inner = ScriptedChatModel(echo_hash)
    model = CachedChatModel(inner, ResponseCache(tmp_path / "c.sqlite"))
    p = GenerationParams()
    model.generate(convs(2), p)
    out = model.generate(convs(4), p)
    assert inner.calls == 4
    assert [g.cached for g in out] == [True, True, False, False]


class _Failing:
    name = "failing"

    def generate(self, conversations, params):
        return [Generation(text="", error="HTTP 500 after 3 attempts") for _ in conversations]


def test_failures_are_not_cached(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    CachedChatModel(_Failing(), cache).generate(convs(2), GenerationParams())
    assert len(cache) == 0


def _writer(path: str, prefix: str) -> None:
    model = CachedChatModel(ScriptedChatModel(echo_hash), ResponseCache(path))
    for i in range(20):
        model.generate(convs(5, f"{prefix}-{i}-"), GenerationParams())


def test_concurrent_writers_from_several_processes(tmp_path):
    path = str(tmp_path / "c.sqlite")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, f"p{k}")) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(ResponseCache(path)) == 3 * 20 * 5


def test_a_model_retrained_into_the_same_folder_is_not_served_the_old_answers(tmp_path, monkeypatch):
    from persafe.llm import load_model
    from persafe.llm.tiny import tiny_model, tiny_tokenizer

    monkeypatch.setenv("PERSAFE_CACHE", str(tmp_path / "cache"))  # the fingerprint memo lives there
    folder, params = tmp_path / "model", GenerationParams(max_new_tokens=12)
    tok = tiny_tokenizer()
    tok.save_pretrained(folder)
    tiny_model(tok, seed=1).save_pretrained(folder)
    cache = tmp_path / "c.sqlite"
    before = load_model(f"hf:{folder}", cache=cache)
    old = [g.text for g in before.generate(convs(2), params)]
    assert all(g.cached for g in load_model(f"hf:{folder}", cache=cache).generate(convs(2), params))

    tiny_model(tok, seed=2).save_pretrained(folder)  # "training" wrote new weights into the same folder
    after = load_model(f"hf:{folder}", cache=cache)
    assert after.name == before.name and after.fingerprint != before.fingerprint
    fresh = after.generate(convs(2), params)
    assert not any(g.cached for g in fresh) and [g.text for g in fresh] != old
    assert len(ResponseCache(cache)) == 4
