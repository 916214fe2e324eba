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

Speed: normalised forms and match results are memoised (model outputs name the same titles again
and again; ``TitleIndex.match_rows`` looks many up in one pass), and the fuzzy search scores only
the keys that can reach the threshold. An Indel-ratio threshold bounds the edit distance, hence the
length difference and the number of trigrams a key must share with the query (the q-gram count
filter); a trigram index built with numpy on the first fuzzy search yields those keys and
rapidfuzz scores them. rapidfuzz has no such index (its batch functions score every key), so it is
written here; the candidates are those of the exhaustive scan, which the tests check.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
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
_ARTICLE_WORDS = frozenset(a.rstrip("'") for a in _ARTICLES)
MAX_TITLE_CHARS = 500
"""A longer string is no title (real ones stay far below this); it matches nothing, at no cost."""
MEMO_SIZE = 1 << 16
"""Entries per memo (normalised forms; each index's match results), each at most about 20 MB."""
FUZZY_LIMIT = 5
"""Best fuzzy candidates examined (by score, then catalog order) before giving up."""


def display_title(title: str) -> str:
    """Put a trailing article back in front: ``"Usual Suspects, The"`` → ``"The Usual Suspects"``."""
    if "," not in title:  # the pattern needs one
        return title.strip()
    m = _TRAILING_ARTICLE.match(title.strip())
    if not m:
        return title.strip()
    art = m.group("art")
    sep = "" if art.endswith("'") else " "
    return f"{art}{sep}{m.group('body').strip()}{m.group('rest') or ''}"


_FORMS: dict[str, tuple[str, str]] = {}  # title -> _normal_forms(title)
_KEYS: dict[str, str] = {}  # title -> normalize_title(title)


def _normal_forms(title: str) -> tuple[str, str]:
    """A title normalised with its leading article kept, and without it (memoised)."""
    forms = _FORMS.get(title)
    if forms is None:
        if len(_FORMS) >= MEMO_SIZE:
            _FORMS.clear()
        forms = _FORMS[title] = _compute_normal_forms(title)
    return forms


def _compute_normal_forms(title: str) -> tuple[str, str]:
    t = display_title(title)
    if not t.isascii():  # NFKD and dropping what is not ASCII leave ASCII text as it is
        t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii")
    t = t.lower().replace("&", " and ")
    full = _NON_ALNUM.sub(" ", t).strip()
    # words are single-space separated: an article is the first word, and some word follows it
    first, _, rest = full.partition(" ")
    if rest and first in _ARTICLE_WORDS:
        return full, rest
    return full, full


def clear_caches() -> None:
    """Forget the memoised normal forms (memory, or timing a cold start)."""
    _FORMS.clear()
    _KEYS.clear()


def normalize_title(title: str) -> str:
    """Normalise a title for matching: lower case, no accents, no punctuation, no leading article.

    Example:
        >>> normalize_title("Usual Suspects, The")
        'usual suspects'
        >>> normalize_title("  THE Usual Suspects!! ")
        'usual suspects'
    """
    return _normal_forms(title)[1]


def normalize_titles(titles: Sequence[str]) -> list[str]:
    """``normalize_title`` of many titles (memoised: titles met before are looked up in one pass)."""
    keys: list[Any] = list(map(_KEYS.get, titles))
    i = 0
    while True:  # the titles not met before
        try:
            i = keys.index(None, i)
        except ValueError:
            return keys
        if len(_KEYS) >= MEMO_SIZE:
            _KEYS.clear()
        keys[i] = _KEYS[titles[i]] = _normal_forms(titles[i])[1]


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
    if "(" not in title:  # no alias in parentheses: the title is its only form
        pair = _normal_forms(shown)
        return [pair] if pair[1] else []
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


_NO_MATCH = TitleMatch(-1, "none", 0.0)


def _usable(title: object) -> bool:
    """Whether ``title`` can be a title at all (a string, not over-long)."""
    return isinstance(title, str) and len(title) <= MAX_TITLE_CHARS


class _TrigramBlocks:
    """The keys a fuzzy search has to score: those that may reach the threshold.

    With ``L = len(query) + len(key)`` and ``d`` the Indel distance, ``fuzz.ratio >= t`` means
    ``d <= D = (1 - t / 100) * L``, so the lengths differ by at most ``D``, and (the q-gram count
    filter) the two share at least ``max(len(query), len(key)) - 2 - 3 * D`` trigrams, counted as
    multisets (an edit destroys at most three trigrams). The index holds, per trigram occurrence
    (the second "ana" of a key is a token of its own), the keys that have it; a query's counts are
    one ``bincount`` over the postings of its tokens.

    A trigram is its three bytes (``str.encode("ascii", "replace")``: one byte per character; two
    characters that are not ASCII both read "?", which can only add candidates).

    Args:
        keys: the normalised keys.
    """

    _SEPARATOR = 256  # no byte: the end of a key
    _OCCURRENCE = 1 << 24  # token = trigram + occurrence * _OCCURRENCE

    def __init__(self, keys: Sequence[str]) -> None:
        self.n = len(keys)
        self.lengths = np.fromiter(map(len, keys), dtype=np.int64, count=self.n)
        data = np.frombuffer("".join(keys).encode("ascii", "replace"), dtype=np.uint8).astype(np.int64)
        codes = np.insert(data, np.cumsum(self.lengths)[:-1], self._SEPARATOR)  # keys one after another
        tokens, postings = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        if codes.size >= 3:
            a, b, c = codes[:-2], codes[1:-1], codes[2:]
            ok = (a != self._SEPARATOR) & (b != self._SEPARATOR) & (c != self._SEPARATOR)
            owner = np.repeat(np.arange(self.n, dtype=np.int64), self.lengths + 1)[: codes.size - 2]
            pair = np.sort((owner[ok] << 24) | (a[ok] << 16) | (b[ok] << 8) | c[ok])  # by key, then trigram
            first = np.concatenate(([True], pair[1:] != pair[:-1]))
            at = np.arange(pair.size)
            occurrence = at - np.maximum.accumulate(np.where(first, at, 0))
            tokens = (pair & 0xFFFFFF) + occurrence * self._OCCURRENCE
            owners = pair >> 24
            shift = self.n.bit_length()
            if int(tokens.max()).bit_length() + shift < 63:  # token and key in one int64: one plain sort
                by_token = np.sort((tokens << shift) | owners)
                tokens, owners = by_token >> shift, by_token & ((1 << shift) - 1)
            else:
                order = np.argsort(tokens, kind="stable")
                tokens, owners = tokens[order], owners[order]
            postings = owners.astype(np.int32)
        starts = np.flatnonzero(np.concatenate(([True], tokens[1:] != tokens[:-1]))) if tokens.size else tokens
        # token -> the keys holding it (one array each: a lookup, no slicing, per query token)
        self._postings = dict(zip(tokens[starts].tolist(), np.split(postings, starts[1:]), strict=True))
        self._max_length = int(self.lengths.max(initial=0))
        self._leasts: dict[tuple[int, float], int | None] = {}

    def _query_tokens(self, key: str) -> list[int]:
        b = key.encode("ascii", "replace")
        tris = [(x << 16) | (y << 8) | z for x, y, z in zip(b, b[1:], b[2:], strict=False)]
        if len(set(tris)) == len(tris):
            return tris
        seen: dict[int, int] = {}
        out = []
        for tri in tris:  # the j-th occurrence of a trigram is a token of its own
            j = seen.get(tri, 0)
            seen[tri] = j + 1
            out.append(tri + j * self._OCCURRENCE)
        return out

    def _least(self, length: int, threshold: float) -> int | None:
        """The fewest trigrams a key of reachable length shares with a query of ``length`` when it
        reaches ``threshold``; ``None`` when some reachable length needs none (no filter then)."""
        least = self._leasts.get((length, threshold), -1)
        if least != -1:
            return least
        lens = np.arange(self._max_length + 1)
        slack = np.floor((1.0 - threshold / 100.0) * (length + lens) + 1e-6)  # the largest possible d
        need = (np.maximum(lens, length) - 2 - 3 * slack)[np.abs(lens - length) <= slack]
        least = None if (need <= 0).any() else int(need.min(initial=length + 1))
        if len(self._leasts) < 4096:
            self._leasts[(length, threshold)] = least
        return least

    def candidates(self, key: str, threshold: float) -> np.ndarray | None:
        """Sorted indices of the keys that may reach ``threshold`` (``None``: the filter cannot help)."""
        least = self._least(len(key), threshold)
        if least is None:
            return None
        parts = [keys for keys in map(self._postings.get, self._query_tokens(key)) if keys is not None]
        if len(parts) < least:  # a key holds each token once: none can share enough
            return np.zeros(0, dtype=np.int64)
        # the bound per key length (need above) would prune a few more: not worth its cost
        return np.flatnonzero(np.bincount(np.concatenate(parts)) >= least)


class TitleIndex:
    """Match free-text titles (with optional years) to catalog rows.

    Match results are memoised per index: an index is not meant to be changed once built.

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
        self._numbers: dict[str, tuple[str, ...]] = {}  # key -> title_numbers(key), filled on demand
        self._blocks: _TrigramBlocks | None = None  # built by the first fuzzy search
        self._memo: dict[tuple[Any, Any], TitleMatch] = {}
        self._fuzzy_memo: dict[tuple[str, float], list[tuple[str, float]]] = {}
        self._exact: dict[int, TitleMatch] = {}  # row -> its exact match (one object per row)
        self._row_memo: dict[tuple[Any, Any], int] = {}  # (title, year) -> matched row, for match_rows

    def _pick(self, rows: list[int], year: int | None) -> int:
        if len(rows) == 1 and year is not None:  # the common case, without the general search
            y = self.years[rows[0]]
            return rows[0] if y is not None and abs(y - year) <= YEAR_TOLERANCE else -1
        if year is None:
            return max(rows, key=lambda r: self.popularity[r])
        close = [r for r in rows if self.years[r] is not None and abs(self.years[r] - year) <= YEAR_TOLERANCE]
        if not close:
            return -1
        return min(close, key=lambda r: (abs(self.years[r] - year), -self.popularity[r]))

    def match(self, title: str, year: int | None = None) -> TitleMatch:
        """Match one title; ``index`` is -1 when no catalog item matches."""
        if not _usable(title):
            return _NO_MATCH
        try:
            hit = self._memo.get((title, year))
        except TypeError:  # an unhashable year: nothing to remember it by
            return self._match(title, year)
        if hit is None:
            hit = self._match(title, year)
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[(title, year)] = hit
        return hit

    def match_rows(self, pairs: Sequence[tuple[str, int | None]], missing: int = -1) -> list[int]:
        """Rows of many ``(title, year)`` pairs, ``missing`` where nothing matches (``match`` for each,
        with the pairs seen before looked up in one pass).

        Example:
            >>> TitleIndex(["Heat", "Fargo"], [1995, 1996]).match_rows([("Fargo", 1996), ("Alien", 1979)])
            [1, -1]
        """
        memo = self._row_memo
        try:
            rows = list(map(memo.get, pairs))
        except TypeError:  # an unhashable pair
            return [self._row_of(*pair, missing) for pair in pairs]
        i = 0
        while True:  # the pairs not met before: found in C, matched here
            try:
                i = rows.index(None, i)
            except ValueError:
                break
            title, year = pair = pairs[i]
            row = memo.get(pair)  # a repeat of a pair met earlier in this call
            if row is None:
                row = self._match(title, year).index if _usable(title) else -1
                if len(memo) >= MEMO_SIZE:
                    memo.clear()
                memo[pair] = row
            rows[i] = row
        if missing != -1 and -1 in rows:
            rows = [missing if row == -1 else row for row in rows]
        return rows

    def _row_of(self, title: str, year: int | None, missing: int) -> int:
        row = self.match(title, year).index
        return missing if row == -1 else row

    def _match(self, title: str, year: int | None) -> TitleMatch:
        full, key = _normal_forms(title)
        if not key:
            return _NO_MATCH
        # the title as written first: "The Father" is "Father, The" even when "Father" exists too
        for rows in (self._as_written.get(full), self._rows.get(key)):
            if rows:
                row = self._pick(rows, year)
                if row >= 0:
                    hit = self._exact.get(row)
                    if hit is None:
                        hit = self._exact[row] = TitleMatch(row, "exact")
                    return hit
        if self.fuzzy_threshold is not None and len(key) >= 4:
            numbers: tuple[str, ...] | None = None  # worked out only when there is a candidate
            for cand, score in self._fuzzy_candidates(key, self.fuzzy_threshold):
                if cand == key:
                    continue
                numbers = title_numbers(key) if numbers is None else numbers
                if self._numbers_of(cand) != numbers:  # a sequel is not its neighbour
                    continue
                row = self._pick(self._rows[cand], year)
                if row >= 0:
                    return TitleMatch(row, "fuzzy", float(score))
        return _NO_MATCH

    def _numbers_of(self, key: str) -> tuple[str, ...]:
        numbers = self._numbers.get(key)
        if numbers is None:
            numbers = self._numbers[key] = title_numbers(key)
        return numbers

    def _fuzzy_candidates(self, key: str, threshold: float) -> list[tuple[str, float]]:
        """The ``FUZZY_LIMIT`` best keys at or above ``threshold``: by score, then in catalog order."""
        found = self._fuzzy_memo.get((key, threshold))
        if found is None:
            found = self._fuzzy_search(key, threshold)
            if len(self._fuzzy_memo) >= MEMO_SIZE:
                self._fuzzy_memo.clear()
            self._fuzzy_memo[(key, threshold)] = found
        return found

    def _fuzzy_search(self, key: str, threshold: float) -> list[tuple[str, float]]:
        if self._blocks is None:
            self._blocks = _TrigramBlocks(self._keys)
        found = self._blocks.candidates(key, threshold)
        if found is None or found.size > len(self._keys) // 4:  # scoring every key is as quick
            return self._fuzzy_scan(key, threshold)
        if not found.size:
            return []
        keys = self._keys
        hits = process.extract(
            key, [keys[i] for i in found.tolist()], scorer=fuzz.ratio, score_cutoff=threshold, limit=None
        )
        best = sorted((-score, int(found[at]), cand) for cand, score, at in hits)[:FUZZY_LIMIT]
        return [(cand, -neg) for neg, _, cand in best]

    def _fuzzy_scan(self, key: str, threshold: float) -> list[tuple[str, float]]:
        """The same candidates from scoring every key (the definition the blocking index must meet)."""
        hits = process.extract(key, self._keys, scorer=fuzz.ratio, score_cutoff=threshold, limit=FUZZY_LIMIT)
        return [(cand, score) for cand, score, _ in hits]
