"""Optional in-process llama.cpp backend (``pip install 'persafe[llamacpp]'``, builds from source)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from persafe.errors import PersafeError
from persafe.llm.base import Conversation, Generation, GenerationParams


class LlamaCppChatModel:
    """Chat generation with llama-cpp-python on a GGUF file.

    Args:
        gguf: path of the model file (``smollm2`` for the packaged SmolLM2 GGUF).
        n_ctx: context window.
        n_threads: CPU threads (default: all).
    """

    def __init__(self, gguf: str, n_ctx: int = 4096, n_threads: int | None = None) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise PersafeError(
                "the llamacpp backend needs llama-cpp-python: pip install 'llama-cpp-python' "
                "(it builds from source, ~4 min)"
            ) from None
        if gguf == "smollm2":
            from persafe.llm.smollm2 import smollm2_gguf

            gguf = str(smollm2_gguf())
        if not Path(gguf).exists():
            raise PersafeError(f"GGUF file not found: {gguf}")
        self.llm = Llama(model_path=gguf, n_ctx=n_ctx, n_threads=n_threads, verbose=False, logits_all=False)
        self.name = f"llamacpp:{gguf}"
        self._gguf = gguf
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        """The name plus a hash of the GGUF file's content (a replaced file is another model)."""
        if self._fingerprint is None:
            from persafe.fingerprint import file_digest

            self._fingerprint = f"{self.name}#{file_digest(Path(self._gguf))[:16]}"
        return self._fingerprint

    def generate(self, conversations: Sequence[Conversation], params: GenerationParams) -> list[Generation]:
        out = []
        for conv in conversations:
            try:
                res = self.llm.create_chat_completion(
                    messages=[{"role": m.role, "content": m.content} for m in conv],
                    max_tokens=params.max_new_tokens,
                    temperature=params.temperature,
                    top_p=params.top_p,
                    repeat_penalty=params.repetition_penalty,
                    stop=list(params.stop) or None,
                    seed=params.seed,
                )
            except (RuntimeError, ValueError) as e:
                out.append(Generation(text="", error=f"{type(e).__name__}: {e}"[:300]))
                continue
            choice, usage = res["choices"][0], res.get("usage") or {}
            out.append(
                Generation(
                    text=(choice["message"]["content"] or "").strip(),
                    finish_reason=choice.get("finish_reason"),
                    prompt_tokens=usage.get("prompt_tokens"),
                    completion_tokens=usage.get("completion_tokens"),
                )
            )
        return out
