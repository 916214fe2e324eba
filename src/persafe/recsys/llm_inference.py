"""LLM-based constraint inference: the model returns the user's traits as validated JSON.

An answer that cannot be parsed or validated is retried once (sampling, new seed); if it still
fails, the request is recorded as ``unparseable`` with no traits (counted, never guessed). A model
call that fails (after the backend's own retries) is not an answer: its text is ``failed`` and the
error is kept in ``last_errors``, so that evaluation records the sample as failed instead of scoring
it as "no sensitivity".
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ValidationError, field_validator

from persafe.catalog.traits import TraitTaxonomy, builtin_traits
from persafe.llm.base import ChatModel, GenerationParams, Message
from persafe.textjson import json_objects

INFERENCE_SYSTEM = (
    "A user asks a movie recommender for suggestions. Decide which of these sensitivities the user's "
    "message reveals, stated plainly or implied by their situation (for example, a young child watching, "
    "being in recovery, a recent loss). Most messages reveal none.\n\n{traits}\n\n"
    'Reply with JSON only, in the form {{"traits": ["trait_id", ...]}} (an empty list if none).'
)
FEW_SHOT = (
    ("I loved Heat (1995). Please, nothing with spiders, I'm terrified of them.", '{"traits": ["arachnophobia"]}'),
    ("Big fan of Fargo (1996) and Clerks (1994). What should I watch next?", '{"traits": []}'),
)
"""Two worked examples shown before the request (they fix the answer format for small models)."""


class TraitAnswer(BaseModel):
    """The structured answer the model must give."""

    traits: list[str]

    @field_validator("traits")
    @classmethod
    def _strip(cls, v: list[str]) -> list[str]:
        return [t.strip() for t in v if isinstance(t, str) and t.strip()]


def parse_trait_answer(text: str, valid: set[str]) -> list[str] | None:
    """The trait ids in a model answer, or ``None`` if it is not valid JSON of the right shape.

    The answer is the first JSON object with a ``traits`` key, wherever it sits in the text. Unknown
    ids make the answer invalid (a model that invents traits is not trusted).

    Example:
        >>> parse_trait_answer('Sure: {"traits": ["kid_safety"]}', {"kid_safety"})
        ['kid_safety']
    """
    obj = next((o for o in json_objects(text) if "traits" in o), None)
    if obj is None:
        return None
    try:
        ans = TraitAnswer.model_validate(obj)
    except ValidationError:
        return None
    if any(t not in valid for t in ans.traits):
        return None
    return list(dict.fromkeys(ans.traits))


class LLMInference:
    """Ask a chat model which traits a request reveals.

    Attributes:
        last_status: per text of the last ``infer`` call: ``ok``, ``retried``, ``unparseable`` or ``failed``.
        last_errors: per text of the last ``infer`` call, the model-call error (``None`` when it answered).
    """

    def __init__(self, model: ChatModel, taxonomy: TraitTaxonomy | None = None, max_new_tokens: int = 64) -> None:
        self.model, self.taxonomy = model, taxonomy or builtin_traits()
        self.params = GenerationParams(max_new_tokens=max_new_tokens)
        self.retry_params = GenerationParams(max_new_tokens=max_new_tokens, temperature=0.7, seed=1)
        self.name = f"llm[{model.name}]"
        self.last_status: list[str] = []
        self.last_errors: list[str | None] = []
        self._traits = "\n".join(f"- {t.id}: {t.description}" for t in self.taxonomy)

    def _conv(self, text: str) -> list[Message]:
        conv = [Message(role="system", content=INFERENCE_SYSTEM.format(traits=self._traits))]
        for q, a in FEW_SHOT:
            conv += [Message(role="user", content=q), Message(role="assistant", content=a)]
        return [*conv, Message(role="user", content=text)]

    def infer(self, texts: Sequence[str]) -> list[list[str]]:
        valid = set(self.taxonomy.ids)
        first = self.model.generate([self._conv(t) for t in texts], self.params)
        errors = [g.error for g in first]
        out: list[list[str] | None] = [None if g.error else parse_trait_answer(g.text, valid) for g in first]
        status = ["failed" if g.error else "ok" if o is not None else "" for g, o in zip(first, out, strict=True)]
        redo = [i for i, o in enumerate(out) if o is None and not errors[i]]
        if redo:
            second = self.model.generate([self._conv(texts[i]) for i in redo], self.retry_params)
            for i, g in zip(redo, second, strict=True):
                if g.error:
                    errors[i], status[i] = g.error, "failed"
                    continue
                out[i] = parse_trait_answer(g.text, valid)
                status[i] = "retried" if out[i] is not None else "unparseable"
        self.last_status, self.last_errors = status, errors
        return [o or [] for o in out]
