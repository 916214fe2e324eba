"""Find the JSON objects and arrays inside free model text, in linear time, never raising.

Models wrap JSON in prose and code fences, leave stray brackets around it and cut it short. The
standard library decodes a value at a known position but cannot *find* one, and the obvious ways
of finding one are quadratic (trying ``raw_decode`` at every ``{``, or matching braces from every
``{``: 20,000 ``{`` take seconds) or raise ``RecursionError`` on deep nesting. So this module
hand-writes the one missing part, a bracket scan, and leaves all decoding to :mod:`json`:

1. One scan with a bracket stack collects the balanced ``{...}`` and ``[...]`` spans. JSON strings
   are tracked only inside brackets (quotes in prose mean nothing), and a string also ends at a
   newline, which a JSON string never contains, so a stray quote hides at most one line.
2. Spans are decoded outermost first; the children of a span are tried only when it fails, and a
   child that contains the point where its parent failed is skipped, since it fails the same way.
   Each character is thus decoded a few times at most, whatever the nesting. A span with more
   than ``MAX_DEPTH`` levels inside is never handed to the decoder (its shallower children are),
   so no character is in more than ``MAX_DEPTH`` of the spans that are.
3. The scan stops after ``MAX_TOKENS`` brackets and quotes inside brackets. Judge verdicts,
   ratings, trait lists and recommendation lists hold from ten to a thousand; the bound keeps a
   call within milliseconds even on megabytes of brackets.

When the scan had to end a string at a newline, or the text ended inside one, a second scan that
ignores quotes recovers the objects a stray quote hid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

MAX_DEPTH = 64
"""Spans nested deeper than this are not decoded as a whole (the decoder recurses per level)."""
MAX_TOKENS = 5_000
"""Brackets and quotes examined per scan; the rest of a longer text is not searched."""
MAX_FENCES = 32
"""Code fences looked at when fenced values come first."""

_OUTSIDE = re.compile(r"[\[{]")
_INSIDE = re.compile(r'[\[\]{}"]')
_INSIDE_NO_STRINGS = re.compile(r"[\[\]{}]")
_STRING_STOP = re.compile(r'["\\\n]')
_OPENER_OF = {"}": "{", "]": "["}
_DECODER = json.JSONDecoder()

Span = tuple[int, int, int]
"""``(start, end, height)``: ``text[start:end]`` is balanced; ``height`` counts its nesting levels."""


def _skip_string(text: str, pos: int, budget: int) -> tuple[int, int, bool]:
    """Skip a JSON string whose opening quote is just before ``pos``.

    Returns:
        Where scanning resumes, the budget left, and whether the string was cut (by a newline or
        the end of the text) instead of closed by a quote.
    """
    while budget > 0:
        m = _STRING_STOP.search(text, pos)
        budget -= 1
        if m is None:
            return len(text), budget, True
        j = m.start()
        ch = text[j]
        if ch == '"':
            return j + 1, budget, False
        if ch == "\n" or text.startswith("\n", j + 1):  # JSON strings never span lines
            return j + 1, budget, True
        pos = j + 2  # a backslash escapes the next character
    return pos, budget, False


def _scan(text: str, strings: bool) -> tuple[list[Span], bool]:
    """The balanced spans of ``text`` (in closing order) and whether a string was cut.

    A closer pops back to the nearest opener of its kind (the openers in between never close);
    a closer with no such opener is ignored. Both keep the scan linear.
    """
    inside = _INSIDE if strings else _INSIDE_NO_STRINGS
    spans: list[Span] = []
    stack: list[list[Any]] = []  # [start, opener, height of the tallest span closed inside]
    open_count = {"{": 0, "[": 0}
    pos, budget, cut = 0, MAX_TOKENS, False
    while budget > 0:
        m = (inside if stack else _OUTSIDE).search(text, pos)
        if m is None:
            break
        budget -= 1
        i = m.start()
        ch = text[i]
        pos = i + 1
        if ch == '"':
            pos, budget, cut_here = _skip_string(text, pos, budget)
            cut = cut or cut_here
        elif ch in "{[":
            stack.append([i, ch, 0])
            open_count[ch] += 1
        elif open_count[_OPENER_OF[ch]]:
            inner = 0
            while True:
                start, opener, height = stack.pop()
                open_count[opener] -= 1
                inner = max(inner, height)
                if opener == _OPENER_OF[ch]:
                    break
            spans.append((start, i + 1, inner + 1))
            if stack:
                stack[-1][2] = max(stack[-1][2], inner + 1)
    return spans, cut


def _decode(text: str, spans: list[Span]) -> list[tuple[int, int, Any]]:
    """Decode the outermost spans that hold JSON, descending into a span only when it fails.

    Each span is decoded on its own, as a slice: the decoder's errors count lines up to where they
    occur, which on the whole text would cost its length per failed span, and a slice keeps the
    decoder inside the span whatever it thinks of the quotes.
    """
    found: list[tuple[int, int, Any]] = []
    skip_until = 0
    failed: list[tuple[int, int]] = []  # (end, failure point) of the undecoded spans around this one
    for start, end, height in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < skip_until:  # inside a value already found
            continue
        while failed and failed[-1][0] <= start:
            failed.pop()
        fail_at = failed[-1][1] if failed else -1
        if height > MAX_DEPTH or start < fail_at < end:
            failed.append((end, fail_at))
            continue
        try:
            value, stop = _DECODER.raw_decode(text[start:end])
        except json.JSONDecodeError as e:
            failed.append((end, start + e.pos))
            continue
        except (ValueError, RecursionError):  # e.g. an integer too long to convert
            failed.append((end, -1))
            continue
        found.append((start, start + stop, value))
        skip_until = start + stop
    return found


def _fences(text: str) -> list[tuple[int, int]]:
    """The insides of the first ``MAX_FENCES`` code fences (```` ``` ```` pairs)."""
    marks: list[int] = []
    i = text.find("```")
    while i >= 0 and len(marks) < 2 * MAX_FENCES:
        marks.append(i)
        i = text.find("```", i + 3)
    return [(marks[k] + 3, marks[k + 1]) for k in range(0, len(marks) - 1, 2)]


def _located_values(text: str) -> list[tuple[int, int, Any]]:
    spans, cut = _scan(text, strings=True)
    found = _decode(text, spans)
    if not cut:
        return found
    more = _decode(text, _scan(text, strings=False)[0])
    out: list[tuple[int, int, Any]] = []
    for start, stop, value in sorted(found + more, key=lambda f: (f[0], -f[1])):
        if not out or start >= out[-1][1]:  # keep the outermost of overlapping finds
            out.append((start, stop, value))
    return out


def json_values(text: object, *, fenced_first: bool = False) -> list[Any]:
    """The outermost JSON objects and arrays in ``text``, in order of appearance.

    Args:
        text: free text; anything that is not a string holds no JSON.
        fenced_first: values inside code fences come before all others.

    Example:
        >>> json_values('Scores: {"a": 1} and [1, 2], not {this}.')
        [{'a': 1}, [1, 2]]
        >>> json_values('{"reason": "x", "oops"} {"b": {"c": 2}}')
        [{'b': {'c': 2}}]
    """
    if not isinstance(text, str):
        return []
    found = _located_values(text)
    if fenced_first:
        fences = _fences(text)
        inside = [any(a <= start < b for a, b in fences) for start, _, _ in found]
        found = [f for f, i in zip(found, inside, strict=True) if i] + [
            f for f, i in zip(found, inside, strict=True) if not i
        ]
    return [value for _, _, value in found]


def objects_in(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in a decoded JSON value, the value itself included, outer before inner."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            yield v
            children = list(v.values())
        elif isinstance(v, list):
            children = v
        else:
            continue
        stack.extend(c for c in reversed(children) if isinstance(c, dict | list))


def json_objects(text: object, *, fenced_first: bool = False) -> list[dict[str, Any]]:
    """Every JSON object in ``text``, nested ones and those inside arrays included, in order.

    Example:
        >>> json_objects('[{"a": {"b": 1}}] then {"c": 2}')
        [{'a': {'b': 1}}, {'b': 1}, {'c': 2}]
    """
    return [obj for value in json_values(text, fenced_first=fenced_first) for obj in objects_in(value)]
