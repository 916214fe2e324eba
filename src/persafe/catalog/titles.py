"""Title normalisation and catalog matching: the one definition of "this title is that item".

A generated title matches a catalog item on its normalised title (case, accents, punctuation and
articles ignored, "Title, The" read as "The Title", alternate titles in parentheses accepted) and a
release year within ±2 years; fuzzy matching (rapidfuzz) is the last resort, above a threshold.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

YEAR_TOLERANCE = 2
"""A title with a year hits an item whose release year differs by at most this much."""

_ARTICLES = ("the", "a", "an", "il", "la", "le", "les", "l'", "el", "das", "der", "die", "lo", "los", "las")
_TRAILING_ARTICLE = re.compile(
    r"^(?P<body>.+?),\s*(?P<art>the|a|an|il|la|le|les|l'|el|das|der|die|lo|los|las)(?P<rest>\s*\(.*\))?$",
    re.IGNORECASE,
)
_PAREN = re.compile(r"\(([^()]*)\)")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def display_title(title: str) -> str:
    """Put a trailing article back in front: ``"Usual Suspects, The"`` → ``"The Usual Suspects"``."""
    m = _TRAILING_ARTICLE.match(title.strip())
    if not m:
        return title.strip()
    art = m.group("art")
    sep = "" if art.endswith("'") else " "
    return f"{art}{sep}{m.group('body').strip()}{m.group('rest') or ''}"


def normalize_title(title: str) -> str:
    """Normalise a title for matching: lower case, no accents, no punctuation, no leading article.

    Example:
        >>> normalize_title("Usual Suspects, The")
        'usual suspects'
        >>> normalize_title("  THE Usual Suspects!! ")
        'usual suspects'
    """
    t = display_title(title)
    t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii").lower()
    t = t.replace("&", " and ")
    t = _NON_ALNUM.sub(" ", t).strip()
    for art in _ARTICLES:
        a = art.rstrip("'")
        if t.startswith(a + " ") and len(t) > len(a) + 1:
            t = t[len(a) + 1 :]
            break
    return t


def title_aliases(title: str) -> list[str]:
    """Normalised forms a catalog title answers to: the full title, without and inside parentheses.

    ``"Seven (Se7en)"`` answers to ``seven se7en``, ``seven`` and ``se7en``.
    """
    shown = display_title(title)
    forms = [shown, _PAREN.sub(" ", shown)]
    forms += [display_title(p) for p in _PAREN.findall(title)]
    out = []
    for f in forms:
        n = normalize_title(f)
        if n and n not in out:
            out.append(n)
    return out


@dataclass(frozen=True)
class TitleMatch:
    """The outcome of matching one title against a catalog."""

    index: int
    """Catalog row of the matched item, or -1 when nothing matched."""
    method: str
    """``exact``, ``fuzzy`` or ``none``."""
    score: float = 100.0
    """Similarity (0–100) of the matched title."""


class TitleIndex:
    """Match free-text titles (with optional years) to catalog rows.

    Args:
        titles: catalog titles, one per row.
        years: release years per row (``None`` when unknown).
        popularity: optional per-row popularity used to break ties between same-title items.
        fuzzy_threshold: minimum rapidfuzz ratio for a fuzzy match; ``None`` disables fuzzy matching.

    Example:
        >>> idx = TitleIndex(["Usual Suspects, The", "Heat"], [1995, 1995])
        >>> idx.match("The Usual Suspects", 1996).index
        0
        >>> idx.match("Heat", 1980).index
        -1
    """

    def __init__(
        self,
        titles: Sequence[str],
        years: Sequence[int | None],
        popularity: Sequence[float] | None = None,
        fuzzy_threshold: float | None = 92.0,
    ) -> None:
        self.years = list(years)
        self.popularity = list(popularity) if popularity is not None else [0.0] * len(titles)
        self.fuzzy_threshold = fuzzy_threshold
        self._rows: dict[str, list[int]] = {}
        for row, title in enumerate(titles):
            for alias in title_aliases(title):
                self._rows.setdefault(alias, []).append(row)
        self._keys = list(self._rows)

    def _pick(self, rows: list[int], year: int | None) -> int:
        if year is None:
            return max(rows, key=lambda r: self.popularity[r])
        close = [r for r in rows if self.years[r] is not None and abs(self.years[r] - year) <= YEAR_TOLERANCE]
        if not close:
            return -1
        return min(close, key=lambda r: (abs(self.years[r] - year), -self.popularity[r]))

    def match(self, title: str, year: int | None = None) -> TitleMatch:
        """Match one title; ``index`` is -1 when no catalog item matches."""
        key = normalize_title(title)
        if not key:
            return TitleMatch(-1, "none", 0.0)
        rows = self._rows.get(key)
        if rows:
            row = self._pick(rows, year)
            if row >= 0:
                return TitleMatch(row, "exact")
        if self.fuzzy_threshold is not None and len(key) >= 4:
            for cand, score, _ in process.extract(
                key, self._keys, scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold, limit=3
            ):
                if cand == key:
                    continue
                row = self._pick(self._rows[cand], year)
                if row >= 0:
                    return TitleMatch(row, "fuzzy", float(score))
        return TitleMatch(-1, "none", 0.0)
