"""Read recommendation lists out of free model text and match them to the catalog.

The answer is the last non-empty ``<solution>`` block, or the whole text when there is none. In it:

- JSON, when it names titles, is the list: an array of titles (``["Heat (1995)", ...]``), an array
  of objects with a title and maybe a year (``title``, ``name``, ``movie`` or ``film``; ``year`` or
  ``release_year``), or an object wrapping such an array (``{"recommendations": [...]}``).
- Otherwise each line is read, whatever its numbering, bullets, markdown, quotes, "Title, The
  (Year)" or missing year. A line may hold several titles: it is split after a ``(Year)`` followed
  by ``,``, ``;`` or "and", at semicolons when every part reads as a title, and at commas only when
  it has at least three parts that all read as titles ("Sex, Lies, and Videotape" stays whole).
  Lines that are not titles (chatter, headings, explanations) are skipped.

Rules for titles that look like something else:

- Numbering. A number of up to three digits at the start of a line is a list number only when a
  list delimiter (``.``, ``)``, ``]``, ``-``) and then a space, markdown or the end of the line
  follow it: "1. Heat" and "2) Fargo" are numbered, "3:10 to Yuma", "11.22.63", "1917" and "12
  Angry Men" are titles, and only one number is taken ("1. 2001: A Space Odyssey"). With ``:`` the
  number is a list number only when it continues the answer's numbering (it is 1, or one more than
  the last list number), so "300: Rise of an Empire (2014)" keeps its number.
- Chatter. A title may start like chatter ("Let Me In", "These Final Hours") only with a year, in
  title case, short, not followed by more text (other than a separator and a note), and without
  a comma or ``:`` right after the chatter word ("Sure, Heat (1995)" is chatter).
- Abbreviations. "St.", "Mr.", "vs.", initials and the like do not end a sentence ("St. Vincent").

Never raises, and takes time linear in the text: a line longer than ``MAX_LINE_CHARS`` is skipped on
its length alone, and at most ``MAX_LINES`` lines, ``MAX_CHARS`` characters and ``MAX_PIECES``
titles or title-like parts are read, far more than any list a model is asked for. The line rules
are hand-written because no library reads this loose a format.

Speed: scoring reads thousands of answers that name the same titles again and again. A line of the
common shape (``N. Title (Year)``, or a bullet, bold, quotes, a note after the year) is read by one
regular expression whose result the general rules give as well (the tests compare the two on
thousands of generated lines), and what follows its list number is remembered: "3. Heat (1995)"
and "- **Heat (1995)**" cost a dictionary lookup once "Heat (1995)" was read, and a run of such
lines costs one pass in C. Other lines are remembered with the list number they would continue,
the one context a line depends on. The memos are bounded (``MEMO_SIZE`` entries each, cleared when
full; lines longer than ``MEMO_LINE_CHARS`` are not kept) and ``clear_caches`` empties them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

import numpy as np

from persafe.catalog.items import Catalog
from persafe.metrics.lists import PAD, UNMATCHED
from persafe.textjson import json_values

MAX_LINE_CHARS = 1_000
"""A longer line is skipped (no list line, not even a one-line list of twenty titles, is this long)."""
MAX_LINES = 1_000
"""Lines of an answer that are looked at."""
MAX_CHARS = 100_000
"""Characters of (not over-long) lines that are read."""
MAX_PIECES = 1_000
"""Titles, or parts of lines that might be titles, that are parsed or checked."""
MEMO_SIZE = 1 << 16
"""Entries per memo (four of them), each at most about 20 MB."""
MEMO_LINE_CHARS = 200
"""Longer lines are read every time (no list line is this long)."""

# possessive runs of "not <" instead of a lazy ".*?": one step per run, not per character
_SOLUTION = re.compile(r"<solution>((?:[^<]++|<(?!/solution>))*+)(?:</solution>|$)", re.IGNORECASE)
_BULLETS = re.compile(r"\s*(?:(?:[-*•·>+]|#{1,6})\s*)*")
_NUMBERING = re.compile(r"(?:(\d{1,3})\s*([.):\]-])|\((\d{1,3})\))(?=[\s*_]|$)")
# a markdown link's target may hold one level of parentheses ("Heat_(1995_film)"); possessive: linear
_MARKDOWN = re.compile(
    r"(\*\*|__|`|~~|\[(?!\s*(?:18|19|20)\d{2}\s*\])|\]\((?:[^()\]]|\([^()\]]*\))*+\))"
)  # keeps "[1995]"
# The year is searched for, the title is what comes before it: a pattern with a lazy title in front
# ("^(.+?)\s*\(year\)") re-reads every run of spaces from each of its characters (quadratic).
_YEAR_IN_BRACKETS = re.compile(r"[\(\[]\s*+((?:18|19|20)\d{2})\s*+[\)\]]")
_YEAR_AT_END = re.compile(r"[-–,]\s*+((?:18|19|20)\d{2})\s*+$")
_AFTER_YEAR = re.compile(r"[\(\[]\s*+(?:18|19|20)\d{2}\s*+[\)\]](?=\s*+[,;]|\s++(?:and|&)\s)")
_QUOTES = "\"'“”‘’«»"
_CHATTER = re.compile(
    r"^(here (are|is)|sure|certainly|of course|i (recommend|suggest|hope|think)|these|based on|"
    r"enjoy|note|recommendations?|let me|happy watching|as an ai)\b",
    re.IGNORECASE,
)
_ABBREVIATION = re.compile(
    r"\b(?:st|mr|mrs|ms|dr|jr|sr|vs|vol|no|pt|ft|mt|lt|sgt|capt|col|gen|prof|rev|[a-z])\.", re.IGNORECASE
)
_SENTENCE_BREAK = re.compile(r"[.!?]\s+\w")
_LIST_JOINER = re.compile(r"^\s*(?:[,;]\s*)?(?:(?:and|&)\s+)?")
_WORD = re.compile(r"[A-Za-z][\w']*")
_NOTE_START = tuple("-–—:|([")
_ARTICLES = {"the", "a", "an", "il", "la", "le", "les", "l'", "el", "das", "der", "die", "lo", "los", "las"}
# The common shape of a list entry, read in one step: what follows a list number ("N." or "N)")
# or a bullet ("-", "*", "•"), or the whole line. Every part is chosen so that the general rules
# read the same title and year: bold around the title or the whole entry, quotes around the title,
# a title of words of letters, digits and plain punctuation (no markdown, brackets or ";")
# separated by single spaces and starting with an ASCII letter or digit (the general rules want
# one), a year in parentheses (the entry's first ")"), and maybe a note after a separator, with no
# brackets, quotes, markdown or ";", not ending with ":" (the general rules skip such a line).
# Possessive loops: no backtracking. The caller checks the rest: at most one comma in all (three
# comma-separated parts may be a one-line list), at most 150 characters, no "_" (markdown), the
# title's end (not a quote or separator, which the general rules strip), its length, words and
# chatter, and a letter first when no list number precedes (a number would be read as one:
# "300: Rise of an Empire").
_FAST_TITLE = re.compile(
    r"(?:\*\*)?[\"“'‘]?"
    r"([A-Za-z0-9][\w!$%&'’+,./:=?@-]*+(?: [\w!$%&'’+,./:=?@-]++)*+)"
    r"[\"”’]?(?:\*\*)? \(((?:18|19|20)\d{2})\)"
)
_FAST_REST = re.compile(r"(?:\*\*)?(?: ?[-–—:|] [^()\[\];*_`~\"'“”‘’«»]*+)?[ \t]*+")
_BULLET_HEADS = frozenset(("-", "*", "•"))
# per line (MULTILINE): a list number ("N." or "N)") or a bullet and one space, then the entry (the
# cut ``_fast_line`` makes with ``str.partition``); a bullet is cut off only before something, so
# that no number and no entry means an empty line
_HEAD_AND_ENTRY = re.compile(r"^(?:(\d{1,3})[.)] |[-*•] (?=.))?(.*)$", re.MULTILINE)
_SECOND = itemgetter(1)
# the first four characters of every way _CHATTER starts, in lower case (ASCII only: "ſ" matches "s")
_CHATTER_HEADS = frozenset(
    ("here", "sure", "cert", "of c", "i re", "i su", "i ho", "i th", "thes", "base", "enjo", "note", "reco",
     "let ", "happ", "as a")
)  # fmt: skip
# no bullet, number, markdown, bracket, quote or dot for the rules to strip, no year at the end
_PLAIN_MENTION = re.compile(r"[A-Za-z](?:[^*_`~\[\]()]*[^\W\d_])?")
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")  # str.splitlines cuts at these too
_TITLE_KEYS = ("title", "name", "movie", "film")
_YEAR_KEYS = ("year", "release_year", "released", "release_date")
_LIST_KEYS = ("recommendations", "movies", "titles", "films", "items", "results", "list", "answer")


@dataclass(frozen=True)
class ParsedTitle:
    """One title read from model text."""

    title: str
    year: int | None
    line: int
    """0-based line number in the (solution) text."""


def _long_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if len(w) > 3]


def _looks_like_title(text: str) -> bool:
    """A line without a year is taken as a title only if it is written like one (Title Case)."""
    if not (text[0].isupper() or text[0].isdigit()):
        return False
    words = _long_words(text)
    return not words or sum(w[0].isupper() for w in words) * 2 >= len(words)


def _has_sentence_break(text: str) -> bool:
    return bool(_SENTENCE_BREAK.search(_ABBREVIATION.sub("", text)))


def _strip_numbering(line: str, expected: int) -> tuple[str, int | None]:
    """A line without its bullets and list number, and that number (``None`` when there is none).

    Args:
        line: one line (or part of one).
        expected: the list number that would continue the answer's numbering; a number followed
            by ``:`` is taken as a list number only when it is this or 1.
    """
    start = _BULLETS.match(line).end()  # type: ignore[union-attr]  # matches everywhere
    m = _NUMBERING.match(line, start)
    if m is None:
        return line[start:], None
    number = int(m.group(1) or m.group(3))
    if m.group(2) == ":" and number not in (1, expected):  # "300: Rise of an Empire"
        return line[start:], None
    rest = line[m.end() :]
    return rest[_BULLETS.match(rest).end() :], number  # type: ignore[union-attr]


def _clean(text: str) -> str:
    text = _MARKDOWN.sub("", text)
    return text.strip().strip(_QUOTES + " ").strip()


def _chatter_like_title(title: str, chatter: re.Match[str], rest: str) -> bool:
    """Whether a title with a year that starts like chatter ("Let Me In") is a title after all."""
    after = title[chatter.end() :]
    if after[:1] in (",", ":", "!", ";") or len(title.split()) > 8 or _has_sentence_break(title):
        return False
    if rest and not rest.startswith(_NOTE_START):  # "... Heat (1995) because ..." goes on talking
        return False
    return all(w[0].isupper() for w in _long_words(title))


def _dated(text: str) -> tuple[str, int | None, str] | None:
    """``(title, year, rest)`` of "Title (Year) rest", "Title [Year]", "Title - Year" or "Title, Year"."""
    m = _YEAR_IN_BRACKETS.search(text, 1)  # a title has at least one character
    if m:
        return text[: m.start()], int(m.group(1)), text[m.end() :]
    m = _YEAR_AT_END.search(text, 1)
    if m:
        return text[: m.start()], int(m.group(1)), ""
    return None


def _parse_clean(text: str) -> tuple[str, int | None] | None:
    """Parse a line already stripped of its numbering."""
    text = _clean(text)
    if not text or len(text) > 150 or text.endswith(":"):
        return None
    dated = _dated(text)
    if dated:
        title, year, rest = dated
        title = title.strip().strip(_QUOTES + " -–:*_").strip()
        if len(title.split()) > 15:
            return None
        chatter = _CHATTER.match(title)
        if chatter and not _chatter_like_title(title, chatter, rest.strip()):
            return None  # "I think you'd love Heat (1995) because ..."
    else:
        if _CHATTER.match(text) or len(text.split()) > 10 or _has_sentence_break(text):
            return None
        if not _looks_like_title(text):
            return None
        title, year = text.rstrip(".").strip(_QUOTES + " *_"), None
    if not title or not re.search(r"[A-Za-z0-9]", title) or len(title) > 120:
        return None
    return title, year


def parse_title_line(line: str) -> tuple[str, int | None] | None:
    """Parse one line into ``(title, year)``, or ``None`` when it is not a title.

    Example:
        >>> parse_title_line("1. **Heat** (1995)"), parse_title_line("3:10 to Yuma (2007)")
        (('Heat', 1995), ('3:10 to Yuma', 2007))
    """
    if not isinstance(line, str) or len(line) > MAX_LINE_CHARS:
        return None
    if len(line) <= MEMO_LINE_CHARS:
        return _parse_title_line_memo(line)
    return _parse_clean(_strip_numbering(line, 1)[0])


@lru_cache(maxsize=MEMO_SIZE)
def _parse_title_line_memo(line: str) -> tuple[str, int | None] | None:
    return _parse_clean(_strip_numbering(line, 1)[0])


def mention_title(text: str) -> str:
    """The title a mention names ("1. Heat (1995)" → "Heat"), or the text itself when it reads as
    none (``parse_title_line``).

    A plain mention (a letter first and last, no markdown or brackets), the usual way a user names
    a film, is its own title either way: it is returned without parsing.

    Example:
        >>> mention_title("1. **Heat** (1995)"), mention_title("Best in Show"), mention_title("I loved it.")
        ('Heat', 'Best in Show', 'I loved it.')
    """
    if _PLAIN_MENTION.fullmatch(text):
        return text
    parsed = parse_title_line(text)
    return parsed[0] if parsed else text


def _plain_title(piece: str) -> bool:
    """Whether a part of a comma or semicolon list clearly reads as a title on its own.

    Not an article ("Englishman Who Went Up a Hill, But Came Down a Mountain, The"), not half of a
    parenthesis ("Forbidden Christ, The (Cristo proibito, Il)"), no year, no sentence.
    """
    text = _clean(_strip_numbering(piece, 1)[0])
    return (
        bool(text)
        and len(text.split()) <= 8
        and text.lower() not in _ARTICLES
        and text.count("(") == text.count(")")
        and _looks_like_title(text)
        and not _CHATTER.match(text)
        and not _has_sentence_break(text)
        and _dated(text) is None
    )


def _pieces(line: str) -> tuple[list[str], bool, int]:
    """The parts of a line that may each be a title, whether they were cut after years, and the
    number of parts looked at (a line that is no one-line list is its only part)."""
    cuts = [m.end() for m in _AFTER_YEAR.finditer(line)]
    if cuts:
        parts = [line[a:b] for a, b in zip([0, *cuts], [*cuts, len(line)], strict=True)]
        parts = [_LIST_JOINER.sub("", p, count=1) for p in parts]
        return [p for p in parts if p.strip()], True, len(parts)
    looked_at = 1
    for sep, least in ((";", 2), (",", 3)):
        parts = line.split(sep)
        if len(parts) < least:
            continue
        for part in parts:
            looked_at += 1
            if not _plain_title(part):
                break
        else:
            return parts, False, looked_at
    return [line], False, looked_at


def _lines(body: str) -> list[str]:
    """The lines of ``body`` (as ``str.splitlines`` cuts them), at most ``MAX_LINES`` of them."""
    chunks = body.split("\n", MAX_LINES)[:MAX_LINES]
    if not _OTHER_BREAKS.search(body):  # every chunk is one line
        return chunks
    out: list[str] = []
    for chunk in chunks:
        # a chunk too long to be read is not split further: it is skipped as one line
        out += (chunk.splitlines() or [""]) if len(chunk) <= MAX_LINE_CHARS else [chunk]
        if len(out) >= MAX_LINES:
            return out[:MAX_LINES]
    return out


_Titles = tuple[tuple[str, int | None], ...]  # the (title, year) pairs read from one line


def _read_line(line: str, expected: int, budget: int) -> tuple[_Titles, int, int]:
    """The titles of one (non-empty, not over-long) line, the list number the next line would
    continue, and the pieces looked at (the general rules; see ``_read_line_memo``).

    Args:
        line: the line.
        expected: the list number that would continue the answer's numbering.
        budget: pieces that may still be parsed.
    """
    pieces, by_year, looked_at = _pieces(line)
    parsed = []
    for i, piece in enumerate(pieces[:budget]):
        text, number = _strip_numbering(piece, expected)
        if number is not None:
            expected = number + 1
        title = _parse_clean(text)
        # after a year, only another dated title continues the list ("Heat (1995), Directed by ...")
        parsed.append(title if not (by_year and i and title and title[1] is None) else None)
    if len(pieces) > 1 and parsed[0] is None:  # a sentence, not a list: read it as one line
        parsed = [_parse_clean(_strip_numbering(line, expected)[0])]
    return tuple(p for p in parsed if p is not None), expected, max(len(pieces), looked_at)


def _fast_title(part: str) -> tuple[tuple[str, int], int] | None:
    """``((title, year), commas)`` of an entry's part up to its year (``_FAST_TITLE``), else ``None``."""
    m = _FAST_TITLE.fullmatch(part)
    if m is None:
        return None
    title = m.group(1)
    commas = part.count(",")
    if commas > 1 or title[-1] in "'’-:" or "_" in title or len(title) > 120 or title.count(" ") >= 15:
        return None
    head = title[:4]
    if (not head.isascii() or head.lower() in _CHATTER_HEADS) and _CHATTER.match(title):
        return None
    return (title, int(m.group(2))), commas


_FAST_MEMO: dict[str, tuple[tuple[str, int], int] | None] = {}  # part -> _fast_title(part)
_UNSEEN = (("", -1), -1)  # no part reads as this: a memo miss
_COMMON: dict[str, tuple[str, int]] = {}
"""Entries of the common shape without a note whose title starts with a letter, with their
``(title, year)``: such an entry reads so after a list number, a bullet or nothing."""


def _fast_entry(entry: str) -> tuple[str, int] | None:
    """``(title, year)`` of a list entry of the common shape, else ``None``.

    The part up to the year is remembered: "Heat (1995)", "Heat (1995) - a heist film" and
    "Heat (1995): tense" are read once.
    """
    if len(entry) > 150:
        return None
    if entry.endswith(")"):  # the commonest: nothing after the year (or no common shape at all)
        part, rest = entry, ""
    else:
        end = entry.find(")") + 1
        if not end:
            return None
        part, rest = entry[:end], entry[end:]
    hit = _FAST_MEMO.get(part, _UNSEEN)
    if hit is _UNSEEN:
        if len(_FAST_MEMO) >= MEMO_SIZE:
            _FAST_MEMO.clear()
        hit = _FAST_MEMO[part] = _fast_title(part)
    if hit is None:
        return None
    if rest and (hit[1] + rest.count(",") > 1 or not _FAST_REST.fullmatch(rest) or rest.rstrip().endswith(":")):
        return None
    if len(rest) <= 4 and hit[0][0][0].isalpha():  # no note (which seldom repeats): remember the entry
        if len(_COMMON) >= MEMO_SIZE:
            _COMMON.clear()
        _COMMON[entry] = hit[0]
    return hit[0]


def _fast_line(line: str) -> tuple[tuple[str, int], int | None] | None:
    """``((title, year), list number)`` of a line of the common shape, else ``None`` (memoised)."""
    head, _, entry = line.partition(" ")
    number = None
    if not entry:
        entry = line
    elif head not in _BULLET_HEADS:
        if 2 <= len(head) <= 4 and head[-1] in ".)" and head[:-1].isdecimal():
            number = int(head[:-1])
        else:
            entry = line
    fast = _fast_entry(entry)
    if fast is None or (number is None and not fast[0][0].isalpha()):
        return None
    return fast, number


@lru_cache(maxsize=MEMO_SIZE)
def _read_line_memo(line: str, expected: int) -> tuple[_Titles, int, int]:
    """``_read_line`` with a budget no line can exhaust, remembered by the line and its context."""
    return _read_line(line, expected, MAX_PIECES)


def clear_caches() -> None:
    """Forget the memoised lines (memory, or timing a cold start)."""
    _FAST_MEMO.clear()
    _COMMON.clear()
    _read_line_memo.cache_clear()
    _parse_title_line_memo.cache_clear()


def _read_one(
    line: str, expected: int, budget: int, memo: bool = True
) -> tuple[list[tuple[str, int | None]], int, int]:
    """One line by the general rules: remembered when short enough and the budget cannot cut it short
    (a line uses at most ``len(line) + 3`` pieces), else read afresh within ``budget``."""
    if memo and len(line) <= MEMO_LINE_CHARS and budget >= len(line) + 3:
        return _read_line_memo(line, expected)
    return _read_line(line, expected, budget)


def _line_titles(body: str, memo: bool = True, numbered: bool = True) -> tuple[list[tuple[str, int | None]], list[int]]:
    """The ``(title, year)`` pairs of the lines of ``body`` and the line of each.

    Args:
        body: the answer (or its solution block).
        memo: read common lines in one step and remember lines (``False``: the general rules only,
            the definition the quick reading is tested against).
        numbered: also return the lines (else the second list may be left empty).
    """
    if memo and len(body) <= MAX_CHARS and body.count("\n") < MAX_LINES and not _OTHER_BREAKS.search(body):
        return _line_titles_quick(body, numbered)
    pairs: list[tuple[str, int | None]] = []
    lines: list[int] = []
    budget, chars, expected = MAX_PIECES, MAX_CHARS, 1
    for n, line in enumerate(_lines(body)):
        size = len(line)
        if size > MAX_LINE_CHARS or not line.strip():
            continue
        chars -= size
        if chars < 0:
            break
        # a line uses at most len(line) + 3 pieces: with that much budget left it reads as with any
        if memo and size <= MEMO_LINE_CHARS and budget >= size + 3:
            fast = _fast_line(line)
            if fast is not None:
                pairs.append(fast[0])
                lines.append(n)
                if fast[1] is not None:
                    expected = fast[1] + 1
                budget -= 1
                continue
        titles, expected, used = _read_one(line, expected, budget, memo)
        budget -= used
        if titles:
            pairs += titles
            lines += [n] * len(titles)
        if budget <= 0:
            break
    return pairs, lines


def _line_titles_quick(body: str, numbered: bool = True) -> tuple[list[tuple[str, int | None]], list[int]]:
    """``_line_titles`` of a body that no character or line limit cuts short (at most
    ``MAX_CHARS`` characters and ``MAX_LINES`` lines, cut at ``\\n`` only).

    One regular expression splits every line into its list number or bullet and its entry, and
    one pass in C looks the entries up among those remembered as common (``_COMMON``): a run of
    such lines costs a list copy. The other lines are read one by one as by ``_line_titles``;
    before each, the list number of the run above it (its last numbered line) is settled.
    """
    pairs: list[tuple[str, int | None]] = []
    lines: list[int] = []
    budget, expected = MAX_PIECES, 1
    split = _HEAD_AND_ENTRY.findall(body)
    known: list[Any] = list(map(_COMMON.get, map(_SECOND, split)))  # (title, year), or None: not known
    raw: list[str] | None = None
    start = at = 0  # the run of common lines so far starts at ``start``; look on from ``at``
    end = len(known)
    while start < end:
        try:
            stop = known.index(None, at)
        except ValueError:
            stop = end
        if stop < end:
            head, entry = split[stop]
            fast = _fast_entry(entry) if entry else None
            if fast is not None and (head or fast[0][0].isalpha()):  # common after all: the run goes on
                known[stop] = fast
                at = stop + 1
                continue
        if stop > start:  # a run of common lines, one piece each
            if stop - start >= budget:
                pairs += known[start : start + budget]
                if numbered:
                    lines += range(start, start + budget)
                break
            pairs += known[start:stop]
            if numbered:
                lines += range(start, stop)
            budget -= stop - start
            for i in range(stop - 1, start - 1, -1):  # the run's last list number
                if split[i][0]:
                    expected = int(split[i][0]) + 1
                    break
        if stop == end:
            break
        start = at = stop + 1
        if not head and not entry:  # an empty line
            continue
        if raw is None:
            raw = body.split("\n")
        line = raw[stop]
        size = len(line)
        if size > MAX_LINE_CHARS or not line.strip():
            continue
        titles, expected, used = _read_one(line, expected, budget)
        budget -= used
        if titles:
            pairs += titles
            lines += [stop] * len(titles)
        if budget <= 0:
            break
    return pairs, lines


def _from_lines(body: str, memo: bool = True) -> list[ParsedTitle]:
    pairs, lines = _line_titles(body, memo)
    return [ParsedTitle(t, y, n) for (t, y), n in zip(pairs, lines, strict=True)]


def _year_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        m = re.match(r"\s*+((?:18|19|20)\d{2})\b", value)  # "1995" or "1995-12-15"
        value = int(m.group(1)) if m else None
    return value if isinstance(value, int) and 1800 <= value <= 2099 else None


def _lookup(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The value of the first of ``keys`` in ``obj``, the keys compared case-insensitively."""
    lowered = {str(k).strip().lower().replace(" ", "_"): v for k, v in obj.items()}
    return next((lowered[k] for k in keys if k in lowered), None)


def _title_of_object(obj: dict[str, Any]) -> tuple[str, int | None] | None:
    """``{"title": "Heat", "year": 1995}`` (or ``name``/``movie``/``film``, ``release_year``)."""
    raw = _lookup(obj, _TITLE_KEYS)
    if not isinstance(raw, str) or len(raw) > MAX_LINE_CHARS:
        return None
    parsed = _parse_clean(raw)
    if parsed is None:  # the key says it is a title, even one not written like one
        title = raw.strip().strip(_QUOTES + " ")
        if not re.search(r"[A-Za-z0-9]", title) or len(title) > 120:
            return None
        parsed = (title, None)
    year = _year_of(_lookup(obj, _YEAR_KEYS))
    return parsed[0], year if year is not None else parsed[1]


def _titles_in_json(value: Any, wrapped: bool = False) -> list[tuple[str, int | None]]:
    """Titles in a decoded JSON value: an array of titles or title objects, or an object wrapping one."""
    if isinstance(value, list):
        out = []
        for item in value[:MAX_PIECES]:
            if isinstance(item, str) and len(item) <= MAX_LINE_CHARS:
                parsed = _parse_clean(_strip_numbering(item, 1)[0])
            elif isinstance(item, dict):
                parsed = _title_of_object(item)
            else:
                parsed = None
            if parsed is not None:
                out.append(parsed)
        return out
    if isinstance(value, dict) and not wrapped:
        inner = _lookup(value, _LIST_KEYS)
        if isinstance(inner, list):
            return _titles_in_json(inner, wrapped=True)
        only = next(iter(value.values()), None)
        if len(value) == 1 and isinstance(only, list):  # {"top_picks": [...]}
            return _titles_in_json(only, wrapped=True)
        single = _title_of_object(value)
        return [single] if single is not None else []
    return []


def _from_json(body: str) -> list[ParsedTitle]:
    """Titles named by the JSON in ``body``, each on the line where its text is next found."""
    if "[" not in body and "{" not in body:  # no array, no object
        return []
    found = [t for value in json_values(body) for t in _titles_in_json(value)][:MAX_PIECES]
    out: list[ParsedTitle] = []
    pos, line = 0, 0
    for title, year in found:
        at = body.find(title, pos) if pos >= 0 else -1
        if at >= 0:
            # both ends are title characters, never line breaks: the lines in between are the breaks
            line += len(body[pos : at + 1].splitlines()) - 1
            pos = at + len(title)
        else:
            pos = -1  # stop searching: every miss would read the rest of the text again
        out.append(ParsedTitle(title, year, line))
    return out


def _body(text: str) -> tuple[str, bool]:
    """The last non-empty ``<solution>`` block (an unterminated one runs to the end), else the text."""
    if "<" not in text:
        return text, False
    for block in reversed(_SOLUTION.findall(text)):
        if block.strip():
            return block, True
    return text, False


def _parse(text: str, memo: bool = True) -> tuple[list[ParsedTitle], bool]:
    """The titles of an answer and whether they came from a ``<solution>`` block."""
    body, in_block = _body(text)
    from_json = _from_json(body)
    # JSON is the list when it names at least as many titles as the lines (a one-line
    # ``"genres": ["Crime", "Drama"]`` in a numbered list is not)
    from_lines = _from_lines(body, memo)
    return (from_json if from_json and len(from_json) >= len(from_lines) else from_lines), in_block


def classify_titles(text: object) -> tuple[str, list[tuple[str, int | None]]]:
    """``classify_output``'s status and titles as ``(title, year)`` pairs, without line numbers.

    The quick way to read many answers (``read_lists``): no object per title.

    Example:
        >>> classify_titles("1. Heat (1995)\\n2. Fargo"), classify_titles("No idea.")
        (('parsed', [('Heat', 1995), ('Fargo', None)]), ('unparseable', []))
    """
    if not isinstance(text, str):
        return "unparseable", []
    body, _ = _body(text)
    from_json = _from_json(body)
    pairs, _ = _line_titles(body, numbered=False)
    if from_json and len(from_json) >= len(pairs):
        pairs = [(p.title, p.year) for p in from_json]
    return ("parsed" if pairs else "unparseable"), pairs


def parse_recommendations(text: str) -> list[ParsedTitle]:
    """All titles in a model's answer, in order (duplicates kept; metrics count them once).

    Example:
        >>> [(p.title, p.year) for p in parse_recommendations("1. **Heat** (1995)\\n- Fargo")]
        [('Heat', 1995), ('Fargo', None)]
        >>> [p.title for p in parse_recommendations('{"movies": [{"title": "Heat", "year": 1995}]}')]
        ['Heat']
    """
    if not isinstance(text, str):
        return []
    return _parse(text)[0]


@dataclass(frozen=True)
class ParseOutcome:
    """How a model's answer was read: every output is classified, none is silently scored."""

    status: str
    """``parsed`` (at least one title) or ``unparseable`` (no title could be read)."""
    titles: tuple[ParsedTitle, ...]
    """The titles read, in order."""
    used_solution_block: bool
    """The titles came from a (non-empty) ``<solution>`` block."""


def classify_output(text: object) -> ParseOutcome:
    """Parse a model answer and say whether it yielded titles (never raises, whatever ``text`` is)."""
    if not isinstance(text, str):
        return ParseOutcome("unparseable", (), False)
    titles, in_block = _parse(text)
    return ParseOutcome("parsed" if titles else "unparseable", tuple(titles), in_block)


def match_titles(parsed: list[ParsedTitle], catalog: Catalog, width: int | None = None) -> np.ndarray:
    """Catalog rows of parsed titles (``UNMATCHED`` for hallucinations), padded to ``width``."""
    rows = [catalog.match(p.title, p.year).index for p in parsed]
    rows = [r if r >= 0 else UNMATCHED for r in rows]
    width = width if width is not None else len(rows)
    out = np.full(width, PAD, dtype=np.int64)
    out[: min(width, len(rows))] = rows[:width]
    return out
