"""Title normalisation and catalog matching: the one definition of "this title is that item".

A generated title matches a catalog item on its normalised title (case, accents, punctuation and
articles ignored, "Title, The" read as "The Title", alternate titles in parentheses accepted) and a
release year within ±2 years; fuzzy matching (rapidfuzz) is the last resort, above a threshold.

Two rules keep this right on real catalogs:

- When two works differ only by a leading article ("The Father" and "Father"), the title as
  written, article included, decides: the article-free form is tried only when that fails.
- A fuzzy match must agree on every number in the title, digits and roman numerals alike: "Kung
  Fu Panda 2" is not "Kung Fu Panda 3", "Rocky II" is not "Rocky III", and "Kung Fu Panda" is not
  "Kung Fu Panda 2". A lone "I" is read as the pronoun ("I, Robot", "The King and I"), not as one.
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
_ROMAN = re.compile(r"(x{0,3})(ix|iv|v?i{0,3})")
_DIGITS = re.compile(r"\d+")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10}
MAX_TITLE_CHARS = 500
"""A longer string is no title (real ones stay far below this); it matches nothing, at no cost."""


def display_title(title: str) -> str:
    """Put a trailing article back in front: ``"Usual Suspects, The"`` → ``"The Usual Suspects"``."""
    m = _TRAILING_ARTICLE.match(title.strip())
    if not m:
        return title.strip()
    art = m.group("art")
    sep = "" if art.endswith("'") else " "
    return f"{art}{sep}{m.group('body').strip()}{m.group('rest') or ''}"


def _normal_forms(title: str) -> tuple[str, str]:
    """A title normalised with its leading article kept, and without it."""
    t = display_title(title)
    t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii").lower()
    t = t.replace("&", " and ")
    full = _NON_ALNUM.sub(" ", t).strip()
    for art in _ARTICLES:
        a = art.rstrip("'")
        if full.startswith(a + " ") and len(full) > len(a) + 1:
            return full, full[len(a) + 1 :]
    return full, full


def normalize_title(title: str) -> str:
    """Normalise a title for matching: lower case, no accents, no punctuation, no leading article.

    Example:
        >>> normalize_title("Usual Suspects, The")
        'usual suspects'
        >>> normalize_title("  THE Usual Suspects!! ")
        'usual suspects'
    """
    return _normal_forms(title)[1]


def strict_key(title: str) -> str:
    """A title normalised for identity rather than matching: case, accents and punctuation aside, with
    its leading article kept ("The Father" and "Father" are two works).

    Example:
        >>> strict_key("Father, The"), strict_key("the  FATHER!")
        ('the father', 'the father')
    """
    return _normal_forms(title)[0]


def _alias_forms(title: str) -> list[tuple[str, str]]:
    """Normalised ``(with article, without)`` pairs of a title's aliases (see ``title_aliases``)."""
    shown = display_title(title)
    forms = [shown, _PAREN.sub(" ", shown)]
    forms += [display_title(p) for p in _PAREN.findall(title)]
    out: list[tuple[str, str]] = []
    for f in forms:
        pair = _normal_forms(f)
        if pair[1] and pair not in out:
            out.append(pair)
    return out


def title_aliases(title: str) -> list[str]:
    """Normalised forms a catalog title answers to: the full title, without and inside parentheses.

    ``"Seven (Se7en)"`` answers to ``seven se7en``, ``seven`` and ``se7en``.
    """
    return list(dict.fromkeys(stripped for _, stripped in _alias_forms(title)))


def _roman(word: str) -> int | None:
    """The value of a roman numeral of up to 39 (``ii``, ``xiv``), else ``None``."""
    if not word or word.strip("ivx") or not _ROMAN.fullmatch(word):
        return None
    values = [_ROMAN_VALUES[c] for c in word]
    return sum(-v if v < w else v for v, w in zip(values, [*values[1:], 0], strict=True))


def title_numbers(key: str) -> tuple[str, ...]:
    """The numbers in a normalised title, sorted for comparison: every run of digits (also one glued
    to a word, "willy3") and every roman numeral word but a lone "i" (the pronoun, far more often).

    Example:
        >>> title_numbers("rocky ii"), title_numbers("kung fu panda 2"), title_numbers("the king and i")
        (('2',), ('2',), ())
    """
    # digits are compared as text: no limit on their count applies, and "007" is "7"
    out = [d.lstrip("0") or "0" for d in _DIGITS.findall(key)]
    for word in key.split():
        if word != "i" and not word.strip("ivx"):  # only roman digits: worth a closer look
            value = _roman(word)
            if value is not None:
                out.append(str(value))
    return tuple(sorted(out))


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
        self._rows: dict[str, list[int]] = {}  # article-free alias -> rows
        self._as_written: dict[str, list[int]] = {}  # alias with its leading article -> rows
        for row, title in enumerate(titles):
            for full, stripped in _alias_forms(title):
                for index, key in ((self._rows, stripped), (self._as_written, full)):
                    rows = index.setdefault(key, [])
                    if not rows or rows[-1] != row:
                        rows.append(row)
        self._keys = list(self._rows)
        self._numbers = {key: title_numbers(key) for key in self._keys}

    def _pick(self, rows: list[int], year: int | None) -> int:
        if year is None:
            return max(rows, key=lambda r: self.popularity[r])
        close = [r for r in rows if self.years[r] is not None and abs(self.years[r] - year) <= YEAR_TOLERANCE]
        if not close:
            return -1
        return min(close, key=lambda r: (abs(self.years[r] - year), -self.popularity[r]))

    def match(self, title: str, year: int | None = None) -> TitleMatch:
        """Match one title; ``index`` is -1 when no catalog item matches."""
        if not isinstance(title, str) or len(title) > MAX_TITLE_CHARS:
            return TitleMatch(-1, "none", 0.0)
        full, key = _normal_forms(title)
        if not key:
            return TitleMatch(-1, "none", 0.0)
        # the title as written first: "The Father" is "Father, The" even when "Father" exists too
        for rows in (self._as_written.get(full), self._rows.get(key)):
            if rows:
                row = self._pick(rows, year)
                if row >= 0:
                    return TitleMatch(row, "exact")
        if self.fuzzy_threshold is not None and len(key) >= 4:
            numbers: tuple[str, ...] | None = None  # worked out only when there is a candidate
            for cand, score, _ in process.extract(
                key, self._keys, scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold, limit=5
            ):
                if cand == key:
                    continue
                numbers = title_numbers(key) if numbers is None else numbers
                if self._numbers[cand] != numbers:  # a sequel is not its neighbour
                    continue
                row = self._pick(self._rows[cand], year)
                if row >= 0:
                    return TitleMatch(row, "fuzzy", float(score))
        return TitleMatch(-1, "none", 0.0)
