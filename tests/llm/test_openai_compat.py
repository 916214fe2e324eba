"""OpenAIChatModel against a real local HTTP server: parameters, retries, errors, secrecy, concurrency."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from openai_server import FakeOpenAIServer
from persafe.llm import openai_compat
from persafe.llm.base import ChatModel, GenerationParams, Message
from persafe.llm.openai_compat import OpenAIChatModel

FAST = {"timeout": 0.5, "backoff": 0.01}


def conv(text: str) -> list[Message]:
    """A one-turn conversation with a system prompt."""
    return [Message(role="system", content="be brief"), Message(role="user", content=text)]


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a real key or base URL from the developer's environment."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_CUSTOM_HEADERS"):
        monkeypatch.delenv(var, raising=False)


def test_batch_in_order_and_parameters_arrive_as_sent(openai_server: FakeOpenAIServer) -> None:
    model = OpenAIChatModel("fake-model", base_url=openai_server.url, **FAST)
    assert isinstance(model, ChatModel)
    params = GenerationParams(max_new_tokens=17, temperature=0.7, top_p=0.9, stop=("\n\n", "END"), seed=123)
    out = model.generate([conv("one"), conv("two"), [{"role": "user", "content": "three"}]], params)

    assert [g.text for g in out] == ["echo: one", "echo: two", "echo: three"]
    assert all(g.error is None and g.finish_reason == "stop" for g in out)
    assert out[0].prompt_tokens == 3 and out[0].completion_tokens == 2
    assert out[0].token_logprobs is None
    assert len(openai_server.requests) == 3
    for request in openai_server.requests:
        assert request.path == "/v1/chat/completions"
        assert request.headers["authorization"] == "Bearer EMPTY"  # no key configured: placeholder
        body = request.body
        assert body["model"] == "fake-model"
        assert (body["max_tokens"], body["temperature"], body["top_p"], body["seed"]) == (17, 0.7, 0.9, 123)
        assert body["stop"] == ["\n\n", "END"]
        assert "logprobs" not in body
    first = next(r.body for r in openai_server.requests if r.body["messages"][-1]["content"] == "one")
    assert first["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "one"}]


def test_empty_stop_and_no_seed_are_omitted(openai_server: FakeOpenAIServer) -> None:
    model = OpenAIChatModel("m", base_url=openai_server.url, **FAST)
    model.generate([conv("x")], GenerationParams(seed=None))
    body = openai_server.requests[0].body
    assert "stop" not in body and "seed" not in body
    assert model.generate([], GenerationParams()) == []


def test_timeout_is_retried_then_succeeds(openai_server: FakeOpenAIServer) -> None:
    openai_server.plan(("sleep", 2.0))  # first attempt outlives the 0.5 s client timeout
    model = OpenAIChatModel("m", base_url=openai_server.url, max_retries=2, **FAST)
    [gen] = model.generate([conv("slow")], GenerationParams())
    assert gen.error is None and gen.text == "echo: slow"
    assert len(openai_server.requests) == 2


def test_every_attempt_times_out_yields_error_and_batch_returns(openai_server: FakeOpenAIServer) -> None:
    openai_server.plan(("sleep", 3.0), ("sleep", 3.0), ("sleep", 3.0))
    model = OpenAIChatModel("m", base_url=openai_server.url, max_retries=2, max_concurrency=1, **FAST)
    start = time.monotonic()
    first, second = model.generate([conv("doomed"), conv("fine")], GenerationParams())
    assert first.text == "" and first.error == "timeout after 3 attempts"
    assert second.error is None and second.text == "echo: fine"
    assert len(openai_server.requests) == 4
    assert time.monotonic() - start < 3.0  # bounded by the client timeout, not the server's sleep


def test_500_then_success(openai_server: FakeOpenAIServer) -> None:
    openai_server.plan(("status", 500))
    model = OpenAIChatModel("m", base_url=openai_server.url, **FAST)
    [gen] = model.generate([conv("retry me")], GenerationParams())
    assert gen.error is None and gen.text == "echo: retry me"
    assert len(openai_server.requests) == 2


def test_persistent_5xx_gives_up_after_max_retries(openai_server: FakeOpenAIServer) -> None:
    openai_server.plan(("status", 503), ("status", 500), ("status", 502))
    model = OpenAIChatModel("m", base_url=openai_server.url, max_retries=2, **FAST)
    [gen] = model.generate([conv("x")], GenerationParams())
    assert gen.text == "" and gen.error == "HTTP 502 after 3 attempts"
    assert len(openai_server.requests) == 3


def test_429_with_retry_after_then_success(openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    monkeypatch.setattr(openai_compat, "_sleep", delays.append)
    openai_server.plan(("status", 429, {"Retry-After": "0"}), ("status", 429, {"Retry-After": "120"}))
    model = OpenAIChatModel("m", base_url=openai_server.url, backoff=5.0, timeout=0.5)
    [gen] = model.generate([conv("busy")], GenerationParams())
    assert gen.error is None and gen.text == "echo: busy"
    assert len(openai_server.requests) == 3
    assert delays == [0.0, 30.0]  # Retry-After wins over backoff (5 s), and is capped at 30 s


def test_backoff_is_exponential_and_capped(openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    monkeypatch.setattr(openai_compat, "_sleep", delays.append)
    openai_server.plan(*[("status", 500)] * 5)
    model = OpenAIChatModel("m", base_url=openai_server.url, max_retries=4, backoff=1.5, timeout=0.5)
    [gen] = model.generate([conv("x")], GenerationParams())
    assert gen.error == "HTTP 500 after 5 attempts"
    assert delays == [1.5, 3.0, 6.0, 8.0]


def test_400_is_not_retried(openai_server: FakeOpenAIServer) -> None:
    openai_server.plan(("status", 400))
    model = OpenAIChatModel("m", base_url=openai_server.url, **FAST)
    [gen] = model.generate([conv("bad")], GenerationParams())
    assert gen.text == ""
    assert gen.error is not None and gen.error.startswith("HTTP 400") and "planned HTTP 400" in gen.error
    assert len(openai_server.requests) == 1


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as s:  # find a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = OpenAIChatModel("m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, **FAST)
    [gen] = model.generate([conv("x")], GenerationParams())
    assert gen.text == "" and gen.error == "connection error after 2 attempts"


def test_api_key_is_sent_but_never_shown(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-test-S3CRET-0123456789"
    monkeypatch.setenv("PERSAFE_TEST_KEY", secret)
    caplog.set_level(logging.DEBUG)
    for name in ("persafe.llm", "openai", "httpx", "httpcore", "httpx2", "httpcore2"):
        caplog.set_level(logging.DEBUG, logger=name)
    openai_server.plan(("status", 500), ("ok", "hello"), ("status", 401), ("status", 503), ("status", 503))
    model = OpenAIChatModel(
        "m", base_url=openai_server.url, api_key_env="PERSAFE_TEST_KEY", max_retries=1, max_concurrency=1, **FAST
    )
    out = model.generate([conv("a"), conv("b"), conv("c")], GenerationParams())

    assert [g.text for g in out] == ["hello", "", ""]
    assert out[1].error is not None and out[1].error.startswith("HTTP 401")
    assert out[2].error == "HTTP 503 after 2 attempts"
    assert {r.headers["authorization"] for r in openai_server.requests} == {f"Bearer {secret}"}
    assert caplog.records, "retries should have been logged"
    assert any(r.name == "persafe.llm" for r in caplog.records)
    assert any(r.name.startswith(("openai", "httpx")) for r in caplog.records), "client debug logs captured too"
    shown = [repr(model), str(model), model.name, caplog.text, *(r.getMessage() for r in caplog.records)]
    shown += [g.error or "" for g in out]
    assert not any(secret in s for s in shown)
    assert "PERSAFE_TEST_KEY" in repr(model)  # the variable's name is fine to show


def test_key_echoed_by_server_is_scrubbed_from_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSAFE_TEST_KEY", "sk-echo-me")
    model = OpenAIChatModel("m", base_url="http://127.0.0.1:9/v1", api_key_env="PERSAFE_TEST_KEY")
    assert model._scrub("Incorrect API key provided: sk-echo-me") == "Incorrect API key provided: ***"


def test_name_and_default_base_url() -> None:
    model = OpenAIChatModel("gpt-4o-mini")
    assert model.name == "openai:gpt-4o-mini@https://api.openai.com/v1"
    local = OpenAIChatModel("qwen", base_url="http://127.0.0.1:8000/v1")
    assert local.name == "openai:qwen@http://127.0.0.1:8000/v1"


def test_openai_base_url_env_is_ignored(monkeypatch: pytest.MonkeyPatch, openai_server: FakeOpenAIServer) -> None:
    """``name`` must say where requests go, so the client's OPENAI_BASE_URL fallback is not used."""
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.url)
    model = OpenAIChatModel("m")
    assert str(model._client.base_url).rstrip("/") == "https://api.openai.com/v1"


def test_concurrency_is_bounded(openai_server: FakeOpenAIServer) -> None:
    openai_server.delay = 0.2
    model = OpenAIChatModel("m", base_url=openai_server.url, max_concurrency=2, **FAST)
    start = time.monotonic()
    out = model.generate([conv(str(i)) for i in range(6)], GenerationParams())
    elapsed = time.monotonic() - start
    assert [g.text for g in out] == [f"echo: {i}" for i in range(6)]
    assert openai_server.max_in_flight == 2  # parallel, but never more than the bound
    assert elapsed >= 0.55  # 6 requests x 0.2 s / 2 lanes


def test_logprobs_parsed_when_returned(openai_server: FakeOpenAIServer) -> None:
    openai_server.plan(("ok", "a b c", [-0.1, -0.2, -0.3]), ("ok", "no logprobs here"))
    model = OpenAIChatModel("m", base_url=openai_server.url, max_concurrency=1, **FAST)
    with_lp, without_lp = model.generate([conv("x"), conv("y")], GenerationParams(logprobs=True))
    assert openai_server.requests[0].body["logprobs"] is True
    assert with_lp.text == "a b c" and with_lp.token_logprobs == pytest.approx([-0.1, -0.2, -0.3])
    assert without_lp.error is None and without_lp.token_logprobs is None


def test_invalid_arguments_rejected() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        OpenAIChatModel("m", max_concurrency=0)
    with pytest.raises(ValueError, match="max_retries"):
        OpenAIChatModel("m", max_retries=-1)


# --- catalog constraints through the server ------------------------------------------------------


def test_a_constraint_is_sent_as_a_json_schema_and_checked(openai_server: FakeOpenAIServer) -> None:
    """The allowed lines go out as the OpenAI ``response_format`` schema; the answer is checked."""
    import json

    from persafe.llm.constrained import ListConstraint

    lines = ["Heat (1995)", "Fargo (1996)", None, "Babe (1995)", "Heat (1995)"]

    def respond(body: dict) -> str:  # a server that keeps to the schema: the first k allowed lines
        items = body["response_format"]["json_schema"]["schema"]["properties"]["titles"]
        return json.dumps({"titles": items["items"]["enum"][: items["maxItems"]]})

    openai_server.respond = respond
    model = OpenAIChatModel("m", base_url=openai_server.url, **FAST)
    trie = model.catalog_trie(lines)
    convs = [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}], [{"role": "user", "content": "c"}]]
    gens = model.generate(
        convs,
        GenerationParams(max_new_tokens=16),
        [ListConstraint(trie, 2, frozenset({0})), ListConstraint(trie, 5), None],
    )
    bodies = {r.body["messages"][-1]["content"]: r.body for r in openai_server.requests}
    schema = bodies["a"]["response_format"]["json_schema"]["schema"]["properties"]["titles"]
    assert schema["items"]["enum"] == ["Fargo (1996)", "Babe (1995)"]  # row 0 excluded takes row 4 with it
    assert schema["minItems"] == schema["maxItems"] == 2 and schema["uniqueItems"]
    assert bodies["a"]["max_tokens"] >= 32 * 2 and "response_format" not in bodies["c"]
    assert gens[0].constrained == {"lines": 2, "complete": True, "honoured": True}
    assert gens[1].constrained["lines"] == 3 and gens[1].constrained["honoured"]  # only 3 distinct lines exist
    assert gens[2].constrained is None


def test_a_server_that_ignores_the_constraint_is_reported(openai_server: FakeOpenAIServer) -> None:
    from persafe.llm.constrained import ListConstraint

    openai_server.respond = lambda body: "1. Heat (1995)\n2. Some Film That Does Not Exist (2001)"
    model = OpenAIChatModel("m", base_url=openai_server.url, **FAST)
    [gen] = model.generate(
        [[{"role": "user", "content": "x"}]],
        GenerationParams(),
        [ListConstraint(model.catalog_trie(["Heat (1995)"]), 1)],
    )
    assert gen.text.startswith("1. Heat") and gen.constrained == {"lines": 0, "complete": False, "honoured": False}


@pytest.mark.slow
def test_a_real_llama_cpp_server_keeps_to_the_catalog_schema(tmp_path) -> None:
    """The packaged SmolLM2 GGUF behind llama.cpp's OpenAI-compatible server, constrained by the schema.

    Needs ``llama-cpp-python[server]`` (build it with ``CMAKE_ARGS="-DGGML_NATIVE=OFF"`` on CPUs that
    advertise AMX: the native build crashed there); skipped otherwise.
    """
    import subprocess
    import sys

    pytest.importorskip("llama_cpp.server", reason='optional: pip install "llama-cpp-python[server]"')
    from persafe.llm.constrained import ListConstraint
    from persafe.llm.smollm2 import smollm2_gguf

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf()), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "2048", "--model_alias", "smollm2"]  # fmt: skip
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        model = OpenAIChatModel("smollm2", base_url=f"http://127.0.0.1:{port}/v1", timeout=120, max_retries=30)
        lines = ["Heat (1995)", "Fargo (1996)", "Toy Story (1995)", "Babe (1995)", "Casablanca (1942)"]
        constraint = ListConstraint(model.catalog_trie(lines), 3, frozenset({0}))
        [gen] = model.generate([conv("I loved Heat (1995). Recommend 3 movies.")], GenerationParams(), [constraint])
        assert gen.error is None, gen.error
        assert gen.constrained == {"lines": 3, "complete": True, "honoured": True}, gen.text
    finally:
        server.terminate()
        server.wait(timeout=30)
