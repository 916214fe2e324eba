"""The one interface every model backend implements: batched chat generation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    """One chat turn."""

    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


Conversation = Sequence[Message]
"""The messages of one request, oldest first."""


class GenerationParams(BaseModel):
    """Sampling parameters shared by every backend (a backend ignores what it cannot honour)."""

    model_config = ConfigDict(frozen=True)

    max_new_tokens: int = Field(256, ge=1)
    """Upper bound on generated tokens."""
    temperature: float = Field(0.0, ge=0.0)
    """0 means greedy decoding."""
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    """Nucleus sampling mass."""
    stop: tuple[str, ...] = ()
    """Strings that end generation (not included in the text)."""
    repetition_penalty: float = Field(1.0, gt=0.0)
    """Penalty on repeated tokens (transformers / llama.cpp; OpenAI-compatible servers ignore it)."""
    seed: int | None = 0
    """Sampling seed, where the backend supports one."""
    logprobs: bool = False
    """Return the log-probability of each generated token, where the backend has them."""


class Generation(BaseModel):
    """One model answer."""

    text: str
    """The generated text."""
    finish_reason: str | None = None
    """``stop``, ``length`` or a backend-specific reason."""
    token_logprobs: list[float] | None = None
    """Per-token log-probabilities (only when asked for and available)."""
    prompt_tokens: int | None = None
    """Tokens in the prompt, when the backend reports them."""
    completion_tokens: int | None = None
    """Tokens generated, when the backend reports them."""
    cached: bool = False
    """Served from the response cache."""
    error: str | None = None
    """Why generation failed for this request (the text is then empty); never raised mid-batch."""
    constrained: dict[str, Any] | None = None
    """For a catalog-constrained answer: ``lines`` written, whether all ``k`` were (``complete``), and
    ``fallbacks`` (steps where the constraint had to keep the first allowed branch)."""


@runtime_checkable
class ChatModel(Protocol):
    """Batched chat generation.

    ``generate`` answers every conversation of the batch, in order. A request that fails after the
    backend's retries comes back with ``error`` set instead of raising, so one bad request never
    loses the rest of a batch.
    """

    name: str
    """A stable identifier (used as the cache key), e.g. ``hf:/models/qwen`` or ``openai:gpt-4o@https://...``."""

    def generate(self, conversations: Sequence[Conversation], params: GenerationParams) -> list[Generation]:
        """Answer each conversation."""
        ...


def as_messages(conversation: Sequence[Message | dict]) -> list[Message]:
    """Accept messages as ``Message`` objects or ``{"role", "content"}`` dicts (e.g. ``ChatMessage``)."""
    out = []
    for m in conversation:
        if isinstance(m, Message):
            out.append(m)
        elif isinstance(m, dict):
            out.append(Message(role=m["role"], content=m["content"]))
        else:  # pydantic models with role/content (persafe.saferec.ChatMessage)
            out.append(Message(role=m.role, content=m.content))
    return out
