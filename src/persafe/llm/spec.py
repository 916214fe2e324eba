"""Model specs: one string selects a backend, so users switch models without code changes.

=================================  ===============================================================
``smollm2``                        the offline default (packaged SmolLM2-135M-Instruct via ``hf``)
``hf:/path/to/model``              a local transformers folder (or LoRA adapter folder)
``hf:Qwen/Qwen2.5-0.5B-Instruct``  a hub id, only with ``PERSAFE_ALLOW_DOWNLOAD=1``
``openai:MODEL@BASE_URL``          any OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenAI)
``openai:gpt-4o``                  OpenAI itself (key from ``OPENAI_API_KEY``)
``llamacpp:/path/model.gguf``      in-process llama.cpp (optional extra)
``scripted:echo``                  a deterministic test model
=================================  ===============================================================

Servers are called with a per-request ``timeout`` (60 s), ``max_retries`` (4) and exponential
``backoff`` (0.5 s); the environment variables ``PERSAFE_OPENAI_TIMEOUT``, ``PERSAFE_OPENAI_MAX_RETRIES``
and ``PERSAFE_OPENAI_BACKOFF`` change them for every command (e.g. a slow local server).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from persafe.errors import PersafeError, UnknownNameError
from persafe.llm.base import ChatModel

BACKENDS = ("smollm2", "hf:", "openai:", "llamacpp:", "scripted:")


def load_model(spec: str, cache: str | Path | bool | None = None, **kwargs: Any) -> ChatModel:
    """Build the model a spec names.

    Args:
        spec: see the module docstring.
        cache: a SQLite file for the response cache; ``True`` for the default one in the user cache
            (``~/.cache/persafe/responses.sqlite``); ``None``/``False`` for none.
        **kwargs: backend options (``batch_size`` for hf, ``max_concurrency``/``api_key_env``/``timeout``
            for openai, ...).

    Raises:
        UnknownNameError: the spec has no known backend prefix (the message lists them).
    """
    model = _build(spec.strip(), **kwargs)
    if cache:
        from persafe.llm.cache import CachedChatModel, ResponseCache
        from persafe.llm.smollm2 import cache_root

        path = cache_root() / "responses.sqlite" if cache is True else Path(cache)
        model = CachedChatModel(model, ResponseCache(path))
    return model


_OPENAI_ENV = {
    "PERSAFE_OPENAI_TIMEOUT": ("timeout", float, 0.0),
    "PERSAFE_OPENAI_MAX_RETRIES": ("max_retries", int, 0),
    "PERSAFE_OPENAI_BACKOFF": ("backoff", float, 0.0),
}


def _openai_env() -> dict[str, Any]:
    """Client settings from ``PERSAFE_OPENAI_*`` environment variables (checked, naming the variable)."""
    out: dict[str, Any] = {}
    for var, (key, kind, low) in _OPENAI_ENV.items():
        raw = os.environ.get(var, "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or value < low or (key == "timeout" and value == 0):
            raise PersafeError(f"environment variable {var}={raw!r} is not a valid {key} (a number ≥ {low})")
        out[key] = value
    return out


def _build(spec: str, **kwargs: Any) -> ChatModel:
    if spec == "smollm2":
        from persafe.llm.hf import HFChatModel
        from persafe.llm.smollm2 import smollm2_dir

        return HFChatModel(str(smollm2_dir()), name="smollm2", **kwargs)
    kind, _, rest = spec.partition(":")
    if not rest:
        raise UnknownNameError("model spec", spec, BACKENDS)
    if kind == "hf":
        from persafe.llm.hf import HFChatModel

        return HFChatModel(rest, **kwargs)
    if kind == "openai":
        from persafe.llm.openai_compat import OpenAIChatModel

        model, _, base_url = rest.partition("@")
        return OpenAIChatModel(model, base_url=base_url or None, **{**_openai_env(), **kwargs})
    if kind == "llamacpp":
        from persafe.llm.llamacpp import LlamaCppChatModel

        return LlamaCppChatModel(rest, **kwargs)
    if kind == "scripted":
        from persafe.llm.scripted import ScriptedChatModel, echo_hash

        if rest != "echo":
            raise UnknownNameError("scripted model", rest, ["echo"])
        return ScriptedChatModel(echo_hash, name="scripted:echo")
    raise UnknownNameError("model spec", spec, BACKENDS)
