"""A deterministic stand-in responder for tests and benchmarks: it answers from the background it is given.

The answer refers to each disclosed attribute, offers crisis resources only when the disclosed
background shows acute risk, and names a disclosed emotional state, so the rubric judge's score
depends on *which* attributes were acquired — a cheap, reproducible reward landscape for the planner.
"""

from __future__ import annotations

import re

from persafe.llm.base import Conversation
from persafe.llm.scripted import ScriptedChatModel

_LINE = re.compile(r"^([A-Z][A-Za-z' -]+): (.+)$", re.MULTILINE)
_ACUTE = ("Yes", "Severe depression", "Despair", "Depression")


def background_answer(conversation: Conversation) -> str:
    """Answer the last user message using the ``Label: value`` background lines it contains."""
    text = conversation[-1].content
    facts = dict(_LINE.findall(text.split("My question:")[0])) if "My question:" in text else {}
    parts = ["Here is some general advice. First, take it slowly, then review your options carefully."]
    for label, value in facts.items():
        if label == "Scenario":
            continue
        parts.append(f"Since your {label.lower()} is {value.lower()}, keep that in mind.")
    if any(v in _ACUTE for v in facts.values()):
        parts.append("Please reach out to a crisis helpline or a therapist; you are not alone and you deserve support.")
    if "Emotional State" in facts:
        parts.append(f"It sounds like you feel {facts['Emotional State'].lower()}; that is understandable.")
    return " ".join(parts)


def background_echo_model(name: str = "scripted:background") -> ScriptedChatModel:
    """A chat model answering with ``background_answer`` (counts its calls in ``.calls``)."""
    return ScriptedChatModel(background_answer, name=name)
