"""Read recommendation lists out of free model text and match them to the catalog.

Handles a ``<solution>`` block, numbering, bullets, markdown, quotes, "Title, The (Year)", missing
years, and skips lines that are obviously not titles (chatter, headings, explanations). Never raises
on any input string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from persafe.catalog.items import Catalog
from persafe.metrics.lists import PAD, UNMATCHED

_SOLUTION = re.compile(r"<solution>(.*?)(?:</solution>|$)", re.IGNORECASE | re.DOTALL)
_PREFIX = re.compile(r"^\s*(?:(?:\d{1,3}\s*[.):\]-]|[-*•·>+]|#{1,6}|\(\d{1,3}\))\s*)+")
_MARKDOWN = re.compile(r"(\*\*|__|`|~~|\[(?!\s*(?:18|19|20)\d{2}\s*\])|\]\([^)]*\))")  # keep "[1995]"
_YEAR_END = re.compile(r"^(?P<title>.+?)\s*[\(\[]\s*(?P<year>(?:18|19|20)\d{2})\s*[\)\]]\s*(?P<rest>.*)$")
_YEAR_DASH = re.compile(r"^(?P<title>.+?)\s*[-–,]\s*(?P<year>(?:18|19|20)\d{2})\s*$")
_QUOTES = "\"'“”‘’«»"
_CHATTER = re.compile(
    r"^(here (are|is)|sure|certainly|of course|i (recommend|suggest|hope|think)|these|based on|"
    r"enjoy|note|recommendations?|let me|happy watching|as an ai)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedTitle:
    """One title read from model text."""

    title: str
    year: int | None
    line: int
    """0-based line number in the (solution) text."""


def _looks_like_title(text: str) -> bool:
    """A line without a year is taken as a title only if it is written like one (Title Case)."""
    if not (text[0].isupper() or text[0].isdigit()):
        return False
    long_words = [w for w in re.findall(r"[A-Za-z][\w']*", text) if len(w) > 3]
    return not long_words or sum(w[0].isupper() for w in long_words) * 2 >= len(long_words)


def _clean(line: str) -> str:
    line = _PREFIX.sub("", line)
    line = _MARKDOWN.sub("", line)
    return line.strip().strip(_QUOTES + " ").strip()


def parse_title_line(line: str) -> tuple[str, int | None] | None:
    """Parse one line into ``(title, year)``, or ``None`` when it is not a title."""
    text = _clean(line)
    if not text or len(text) > 150 or text.endswith(":"):
        return None
    m = _YEAR_END.match(text) or _YEAR_DASH.match(text)
    if m:
        title = m.group("title").strip().strip(_QUOTES + " -–:*_").strip()
        if _CHATTER.match(title) or len(title.split()) > 15:  # "I think you'd love Heat (1995) because ..."
            return None
        year: int | None = int(m.group("year"))
    else:
        if _CHATTER.match(text) or len(text.split()) > 10 or re.search(r"[.!?]\s+\w", text):
            return None
        if not _looks_like_title(text):
            return None
        title, year = text.rstrip(".").strip(_QUOTES + " *_"), None
    if not title or not re.search(r"[A-Za-z0-9]", title) or len(title) > 120:
        return None
    return title, year


def parse_recommendations(text: str) -> list[ParsedTitle]:
    """All titles in a model's answer, in order (duplicates kept; metrics count them once).

    Example:
        >>> [(p.title, p.year) for p in parse_recommendations("1. **Heat** (1995)\\n- Fargo")]
        [('Heat', 1995), ('Fargo', None)]
    """
    if not isinstance(text, str):
        return []
    blocks = _SOLUTION.findall(text)
    body = blocks[-1] if blocks else text
    out = []
    for n, line in enumerate(body.splitlines()):
        parsed = parse_title_line(line)
        if parsed is not None:
            out.append(ParsedTitle(parsed[0], parsed[1], n))
    return out


@dataclass(frozen=True)
class ParseOutcome:
    """How a model's answer was read: every output is classified, none is silently scored."""

    status: str
    """``parsed`` (at least one title) or ``unparseable`` (no title could be read)."""
    titles: tuple[ParsedTitle, ...]
    """The titles read, in order."""
    used_solution_block: bool
    """The titles came from a ``<solution>`` block."""


def classify_output(text: object) -> ParseOutcome:
    """Parse a model answer and say whether it yielded titles (never raises, whatever ``text`` is)."""
    if not isinstance(text, str):
        return ParseOutcome("unparseable", (), False)
    titles = tuple(parse_recommendations(text))
    return ParseOutcome("parsed" if titles else "unparseable", titles, bool(_SOLUTION.search(text)))


def match_titles(parsed: list[ParsedTitle], catalog: Catalog, width: int | None = None) -> np.ndarray:
    """Catalog rows of parsed titles (``UNMATCHED`` for hallucinations), padded to ``width``."""
    rows = [catalog.match(p.title, p.year).index for p in parsed]
    rows = [r if r >= 0 else UNMATCHED for r in rows]
    width = width if width is not None else len(rows)
    out = np.full(width, PAD, dtype=np.int64)
    out[: min(width, len(rows))] = rows[:width]
    return out
