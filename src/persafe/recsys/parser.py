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
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
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
    return _parse_clean(_strip_numbering(line, 1)[0])


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


def _lines(body: str) -> Iterator[str]:
    """The lines of ``body`` (as ``str.splitlines`` cuts them), at most ``MAX_LINES`` of them."""
    count = 0
    for chunk in body.split("\n", MAX_LINES)[:MAX_LINES]:
        # a chunk too long to be read is not split further: it is skipped as one line
        for line in (chunk.splitlines() or [""]) if len(chunk) <= MAX_LINE_CHARS else [chunk]:
            yield line
            count += 1
            if count >= MAX_LINES:
                return


def _from_lines(body: str) -> list[ParsedTitle]:
    out: list[ParsedTitle] = []
    budget, chars, expected = MAX_PIECES, MAX_CHARS, 1
    for n, line in enumerate(_lines(body)):
        if len(line) > MAX_LINE_CHARS or not line.strip():
            continue
        chars -= len(line)
        if chars < 0:
            break
        pieces, by_year, looked_at = _pieces(line)
        parsed = []
        for i, piece in enumerate(pieces[:budget]):
            text, number = _strip_numbering(piece, expected)
            if number is not None:
                expected = number + 1
            title = _parse_clean(text)
            # after a year, only another dated title continues the list ("Heat (1995), Directed by ...")
            parsed.append(title if not (by_year and i and title and title[1] is None) else None)
        budget -= max(len(pieces), looked_at)
        if len(pieces) > 1 and parsed[0] is None:  # a sentence, not a list: read it as one line
            parsed = [_parse_clean(_strip_numbering(line, expected)[0])]
        out += [ParsedTitle(p[0], p[1], n) for p in parsed if p is not None]
        if budget <= 0:
            break
    return out


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
    for block in reversed(_SOLUTION.findall(text)):
        if block.strip():
            return block, True
    return text, False


def _parse(text: str) -> tuple[list[ParsedTitle], bool]:
    """The titles of an answer and whether they came from a ``<solution>`` block."""
    body, in_block = _body(text)
    from_json = _from_json(body)
    # JSON is the list when it names at least as many titles as the lines (a one-line
    # ``"genres": ["Crime", "Drama"]`` in a numbered list is not)
    from_lines = _from_lines(body)
    return (from_json if from_json and len(from_json) >= len(from_lines) else from_lines), in_block


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
