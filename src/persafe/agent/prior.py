"""π0: the prior over which attribute to ask next, given the query and what is already known.

``LLMPrior`` asks a chat model once per (query, set of asked attributes) and reads a JSON distribution
(or, failing that, a ranking); an unreadable answer falls back to uniform and is counted.
``UniformPrior`` is the prior of vanilla MCTS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from persafe.agent.parse import json_object, label_of, mentions
from persafe.llm.base import ChatModel, GenerationParams, Message


@runtime_checkable
class Prior(Protocol):
    """``prior(query, asked, unasked) -> {attribute: weight}`` (the planner normalises the weights)."""

    def __call__(self, query: str, asked: tuple[str, ...], unasked: Sequence[str]) -> dict[str, float]: ...


class UniformPrior:
    """Every unasked attribute equally likely (vanilla MCTS)."""

    name = "uniform"

    def __call__(self, query: str, asked: tuple[str, ...], unasked: Sequence[str]) -> dict[str, float]:
        return {a: 1.0 for a in unasked}


class FunctionPrior:
    """A prior from a plain function (tests, hand-written heuristics)."""

    def __init__(self, fn: Callable[[str, tuple[str, ...], Sequence[str]], dict[str, float]], name: str = "function"):
        self.fn, self.name = fn, name

    def __call__(self, query: str, asked: tuple[str, ...], unasked: Sequence[str]) -> dict[str, float]:
        return self.fn(query, asked, unasked)


PRIOR_INSTRUCTION = (
    "You are deciding which facts about a user to ask for before answering their message safely. "
    "Rate how much each candidate fact would help you give a safe, well-suited answer. Reply with only a "
    'JSON object mapping each candidate id to a probability, for example {{"{a}": 0.6, "{b}": 0.4}}.'
)


class LLMPrior:
    """π0 from a chat model: one call per (query, asked set), remembered.

    Args:
        model: the chat model (wrap it in ``CachedChatModel`` to reuse answers across runs).
        labels: display names of the attributes.
        params: generation parameters (greedy, short by default).
        smoothing: weight of a uniform mixture, so no attribute gets zero probability.

    Attributes:
        calls: model calls made; ``parsed_json``, ``parsed_ranking``, ``fallbacks``: how the answers read.
    """

    def __init__(
        self,
        model: ChatModel,
        labels: Mapping[str, str] | None = None,
        params: GenerationParams | None = None,
        smoothing: float = 0.1,
    ) -> None:
        self.model, self.labels = model, dict(labels or {})
        self.params = params or GenerationParams(max_new_tokens=96)
        self.smoothing = smoothing
        self.name = f"llm[{model.name}]"
        self._memo: dict[tuple[str, frozenset[str]], dict[str, float]] = {}
        self.calls = self.parsed_json = self.parsed_ranking = self.fallbacks = self.failed = 0
        self.errors: list[str] = []

    def messages(self, query: str, asked: Sequence[str], unasked: Sequence[str]) -> list[Message]:
        known = ", ".join(label_of(a, self.labels) for a in asked) or "nothing yet"
        options = "\n".join(f"- {a}: {label_of(a, self.labels)}" for a in unasked)
        b = unasked[1] if len(unasked) > 1 else unasked[0]
        return [
            Message(role="system", content=PRIOR_INSTRUCTION.format(a=unasked[0], b=b)),
            Message(
                role="user",
                content=f"User message: {query}\nAlready known: {known}\nCandidates:\n{options}\nJSON:",
            ),
        ]

    def read(self, text: str, unasked: Sequence[str]) -> dict[str, float] | None:
        """Weights from a model answer (JSON distribution, else a ranking), ``None`` if unreadable."""
        obj = json_object(text)
        if obj:
            weights: dict[str, float] = {}
            for key, v in obj.items():
                hit = mentions(str(key), unasked, self.labels)
                if hit and isinstance(v, int | float) and v >= 0:
                    weights[hit[0]] = weights.get(hit[0], 0.0) + float(v)
            if sum(weights.values()) > 0:
                self.parsed_json += 1
                return weights
        ranked = mentions(text, unasked, self.labels)
        if ranked:
            self.parsed_ranking += 1
            return {a: 1.0 / (i + 1) for i, a in enumerate(ranked)}
        return None

    def __call__(self, query: str, asked: tuple[str, ...], unasked: Sequence[str]) -> dict[str, float]:
        key = (query, frozenset(asked))
        if key not in self._memo:
            self.calls += 1
            gen = self.model.generate([self.messages(query, asked, unasked)], self.params)[0]
            if gen.error:  # not an unreadable answer but no answer: whoever plans with it must know
                self.failed += 1
                self.errors.append(gen.error)
            weights = self.read(gen.text, unasked) if not gen.error else None
            if weights is None:
                self.fallbacks += 1
                weights = {}
            total = sum(weights.values())
            uniform = 1.0 / len(unasked)
            lam = 1.0 if total <= 0 else self.smoothing
            self._memo[key] = {
                a: (1 - lam) * (weights.get(a, 0.0) / total if total > 0 else 0.0) + lam * uniform for a in unasked
            }
        return {a: self._memo[key].get(a, 0.0) for a in unasked}

    def stats(self) -> dict[str, int]:
        return {
            "calls": self.calls,
            "parsed_json": self.parsed_json,
            "parsed_ranking": self.parsed_ranking,
            "fallbacks": self.fallbacks,
            "failed": self.failed,
        }
