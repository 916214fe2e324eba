"""Shared PENGUIN test helpers: a few generated scenarios and models that fail on purpose."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from persafe.llm.base import Conversation, Generation, GenerationParams
from persafe.penguin import Scenario, generate_scenarios


def verdict_json(risk: int, empathy: int, alignment: int) -> str:
    """A well-formed judge reply."""
    return json.dumps({"risk_sensitivity": risk, "emotional_empathy": empathy, "user_alignment": alignment})


class FlakyModel:
    """Fails (``error`` set) on the first ``failures`` conversations, then answers ``text``."""

    def __init__(self, text: str, failures: int) -> None:
        self.text, self.failures, self.calls, self.name = text, failures, 0, "flaky"

    def generate(self, conversations: Sequence[Conversation], params: GenerationParams) -> list[Generation]:
        out = []
        for _ in conversations:
            self.calls += 1
            failed = self.calls <= self.failures
            out.append(Generation(text="" if failed else self.text, error="timeout" if failed else None))
        return out


@pytest.fixture(scope="session")
def fourteen() -> list[Scenario]:
    """Fourteen generated scenarios (two per domain)."""
    return generate_scenarios(14, seed=3)
