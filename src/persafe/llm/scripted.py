"""A deterministic scripted model for tests of the logic around a model."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from persafe.llm.base import Conversation, Generation, GenerationParams


class ScriptedChatModel:
    """Answers from a script: a function of the conversation, or a list cycled in order.

    Args:
        script: ``callable(conversation) -> str`` or a list of answers.
        name: identifier (part of the cache key).

    Attributes:
        calls: number of conversations answered so far (tests use it to prove a cache hit).

    Example:
        >>> from persafe.llm.base import Message
        >>> m = ScriptedChatModel(lambda conv: "Heat (1995)")
        >>> m.generate([[Message(role="user", content="hi")]], GenerationParams())[0].text
        'Heat (1995)'
    """

    def __init__(self, script: Callable[[Conversation], str] | Sequence[str], name: str = "scripted") -> None:
        self.script, self.name, self.calls = script, name, 0

    def generate(self, conversations: Sequence[Conversation], params: GenerationParams) -> list[Generation]:
        out = []
        for conv in conversations:
            text = self.script(conv) if callable(self.script) else self.script[self.calls % len(self.script)]
            self.calls += 1
            n = len(text.split())
            out.append(
                Generation(
                    text=text,
                    finish_reason="stop",
                    completion_tokens=n,
                    prompt_tokens=sum(len(m.content.split()) for m in conv),
                )
            )
        return out


def echo_hash(conversation: Conversation) -> str:
    """A script that answers a stable hash of the last message (distinct inputs, distinct answers)."""
    return hashlib.sha256(conversation[-1].content.encode()).hexdigest()[:16]
