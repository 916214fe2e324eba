"""Reading small structured answers from chat models: attribute mentions, JSON objects, 0–5 ratings.

Small models rarely follow a format exactly, so each reader accepts the obvious variants (ids or
labels, code fences, a number in a sentence) and returns ``None`` instead of guessing. Every reader
takes time linear in the length of the text and never raises, whatever the text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from persafe.textjson import json_objects


def label_of(attribute: str, labels: Mapping[str, str] | None = None) -> str:
    """Display name of an attribute (``mental_health_status`` → ``mental health status``)."""
    return (labels or {}).get(attribute) or attribute.replace("_", " ")


_SEPARATORS = re.compile(r"[\s_-]+")


def _name_key(name: str) -> str:
    """A name as the scan sees it: lower case, one space for any run of spaces, ``_`` and ``-``."""
    return _SEPARATORS.sub(" ", name.lower()).strip()


def _name_pattern(name: str) -> str:
    """A name with any run of spaces, ``_`` or ``-`` between its words, not preceded by a letter.

    The pattern starts with the name's first character, the letter check comes right after it:
    an alternation whose branches all start with a character lets the regex engine skip to the
    next place where a name can start, which makes scanning a long text several times faster.
    """
    words = r"[\s_-]++".join(re.escape(w) for w in name.lower().split())  # possessive: linear
    first = re.escape(name.lower().split()[0][0])
    return f"{first}(?<![a-z]{first}){words[len(first) :]}"


def mentions(text: str, options: Sequence[str], labels: Mapping[str, str] | None = None) -> list[str]:
    """Options named in ``text`` (by id or label, case-insensitive), in order of first mention.

    A name counts only as a whole word, and where names overlap the longest one wins ("mental
    health status" is not "health status"). An answer that starts with an option number (``"2"``,
    ``"2. ..."``) counts when no option is named.

    Example:
        >>> mentions("Ask about Emotional State, then age.", ["age", "emotional_state"])
        ['emotional_state', 'age']
    """
    if not isinstance(text, str) or not options:
        return []
    low = text.lower()
    owner: dict[str, str] = {}  # name key -> option (ids before labels, earlier options first)
    patterns: dict[str, int] = {}
    for a in options:
        for name in (a, label_of(a, labels)):
            if name.split():
                owner.setdefault(_name_key(name), a)
                patterns[_name_pattern(name)] = len(name)
    # One scan whose alternation tries the longest name first at each position.
    names = sorted(patterns, key=lambda p: -patterns[p])
    scan = re.compile("(?:" + "|".join(names) + r")(?![a-z])")
    first: dict[str, None] = {}
    for m in scan.finditer(low):
        hit = owner.get(_name_key(m.group()))
        if hit is not None:
            first.setdefault(hit, None)
    if first:
        return list(first)
    m = re.match(r"\s*(\d{1,2})(?!\w)", low)  # the answer starts with the number, nothing else counts
    if m and 1 <= int(m.group(1)) <= len(options):
        return [options[int(m.group(1)) - 1]]
    return []


def json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (inside code fences or prose, or inside an array), or ``None``.

    Example:
        >>> json_object('Weights: ```json\\n{"age": 0.7, "gender": 0.3}\\n```')
        {'age': 0.7, 'gender': 0.3}
    """
    found = json_objects(text)
    return found[0] if found else None


MAX_RATING_CHARS = 10_000
"""A rating is read from the start of an answer only: it is asked for in a few tokens."""

# Possessive quantifiers and a number that starts only where a run of digits starts keep each
# search linear (a plain ``\d+`` re-reads a long run of digits from every one of its digits).
_RATING_PATTERNS = [
    re.compile(r"(\d(?<!\d\d)\d*+(?:\.\d++)?+)\s*+(?:/|out of)\s*+5"),
    re.compile(r"(?:rating|score)\D{0,12}+(\d++(?:\.\d++)?+)"),
    re.compile(r"\b(\d)\b"),
]


def rating(text: str, low: int = 0, high: int = 5) -> int | None:
    """An integer rating in ``[low, high]``: ``{"rating": 4}``, ``"4/5"``, ``"Rating: 4"`` or a lone digit.

    Example:
        >>> rating("I'd say 4/5."), rating("no idea")
        (4, None)
    """
    if not isinstance(text, str):
        return None
    text = text[:MAX_RATING_CHARS]
    obj = json_object(text)
    if obj:
        for v in obj.values():
            # a boolean is no rating, though Python counts it as an int
            if isinstance(v, int | float) and not isinstance(v, bool) and low <= v <= high:
                return round(v)
    low_text = text.lower()
    for pat in _RATING_PATTERNS:
        m = pat.search(low_text)
        if m:
            v = float(m.group(1))
            if low <= v <= high:
                return round(v)
    return None
