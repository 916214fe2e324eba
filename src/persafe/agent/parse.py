"""Reading small structured answers from chat models: attribute mentions, JSON objects, 0–5 ratings.

Small models rarely follow a format exactly, so each reader accepts the obvious variants (ids or
labels, code fences, a number in a sentence) and returns ``None`` instead of guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any


def label_of(attribute: str, labels: Mapping[str, str] | None = None) -> str:
    """Display name of an attribute (``mental_health_status`` → ``mental health status``)."""
    return (labels or {}).get(attribute) or attribute.replace("_", " ")


def _pattern(text: str) -> str:
    return r"(?<![a-z])" + r"[\s_-]+".join(re.escape(w) for w in text.lower().split()) + r"(?![a-z])"


def mentions(text: str, options: Sequence[str], labels: Mapping[str, str] | None = None) -> list[str]:
    """Options named in ``text`` (by id or label, case-insensitive), in order of first mention.

    An answer that starts with an option number (``"2"``, ``"2. ..."``) counts when no option is named.

    Example:
        >>> mentions("Ask about Emotional State, then age.", ["age", "emotional_state"])
        ['emotional_state', 'age']
    """
    low = text.lower()
    found: list[tuple[int, str]] = []
    # longest names first, blanking what they matched: "mental health status" is not "health status"
    names = sorted(((n, a) for a in options for n in {a, label_of(a, labels)}), key=lambda x: -len(x[0]))
    for name, a in names:
        spots = [m.span() for m in re.finditer(_pattern(name), low)]
        if spots:
            found.append((spots[0][0], a))
            for s, e in spots:
                low = low[:s] + "#" * (e - s) + low[e:]
    if found:
        first: dict[str, int] = {}
        for pos, a in found:
            first[a] = min(pos, first.get(a, pos))
        return sorted(first, key=first.__getitem__)
    m = re.match(r"\s*(\d{1,2})(?![\w])", low)  # the answer starts with the number, nothing else counts
    if m and 1 <= int(m.group(1)) <= len(options):
        return [options[int(m.group(1)) - 1]]
    return []


def json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (inside code fences or prose), or ``None``."""
    start = text.find("{")
    while start >= 0:
        depth = 0
        for end in range(start, len(text)):
            if text[end] == "{":
                depth += 1
            elif text[end] == "}":
                depth -= 1
                if depth == 0:
                    try:
                        obj = json.loads(text[start : end + 1])
                    except json.JSONDecodeError:
                        break
                    return obj if isinstance(obj, dict) else None
        start = text.find("{", start + 1)
    return None


def rating(text: str, low: int = 0, high: int = 5) -> int | None:
    """An integer rating in ``[low, high]``: ``{"rating": 4}``, ``"4/5"``, ``"Rating: 4"`` or a lone digit.

    Example:
        >>> rating("I'd say 4/5."), rating("no idea")
        (4, None)
    """
    obj = json_object(text)
    if obj:
        for v in obj.values():
            if isinstance(v, int | float) and low <= v <= high:
                return round(v)
    for pat in (r"(\d+(?:\.\d+)?)\s*(?:/|out of)\s*5", r"(?:rating|score)\D{0,12}(\d+(?:\.\d+)?)", r"\b(\d)\b"):
        m = re.search(pat, text, re.IGNORECASE)
        if m:
            v = float(m.group(1))
            if low <= v <= high:
                return round(v)
    return None
