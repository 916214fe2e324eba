"""Catalogs other than MovieLens-100k: a user's catalog file, or the titles a set of samples names.

A catalog file is CSV, TSV, JSON (a list, or ``{"items": [...]}``) or JSONL with the columns
``title`` and optionally ``year``, ``item_id``, ``imdb_id`` and ``genres`` (a list, or one string
split on ``|``, ``;`` or ``,``). Items without an id get ``imdb_id`` when they have one, else their
``Title (Year)``. A catalog *from the data* holds every ground-truth and seen title of the samples,
as the SafeCRS reference builds its ground-truth catalog: one item per distinct title and year (case,
accents and punctuation aside; a leading article is kept, so "The Father" and "Father" stay two works),
with the number of mentions as its popularity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from persafe.catalog.items import Catalog, Item
from persafe.catalog.tables import read_table
from persafe.catalog.titles import strict_key
from persafe.errors import DataError

CATALOG_COLUMNS = ("title",)


_GENRE_SPLIT = re.compile(r"\s*[|;,]\s*")


def _year(value: Any, path: Path, line: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        year = int(str(value).strip())
    except ValueError:
        raise DataError(f"expected a year such as 1995, got {value!r}", path=path, line=line, field="year") from None
    if not 1800 <= year <= 2200:
        raise DataError(f"{year} is not a plausible release year", path=path, line=line, field="year")
    return year


def _genres(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(g).strip() for g in value if str(g).strip()]
    return [g for g in _GENRE_SPLIT.split(str(value).strip()) if g]


def load_catalog(path: str | Path) -> Catalog:
    """Read a catalog file (see the module docstring).

    Raises:
        DataError: a missing title, a bad year, or two rows with the same item id (names both lines).
    """
    path = Path(path)
    items: list[Item] = []
    first_line: dict[str, int] = {}
    for line, row in read_table(path, CATALOG_COLUMNS, list_key="items"):
        title = str(row.get("title") or "").strip()
        if not title:
            raise DataError("empty title", path=path, line=line, field="title")
        year = _year(row.get("year"), path, line)
        imdb = str(row.get("imdb_id") or "").strip() or None
        item_id = str(row.get("item_id") or "").strip() or imdb or (f"{title} ({year})" if year else title)
        if item_id in first_line:
            raise DataError(
                f"duplicate item id {item_id!r} (first on line {first_line[item_id]}); every item needs its own "
                "id (give item_id, or tell same-titled works apart by year)",
                path=path,
                line=line,
                field="item_id",
            )
        first_line[item_id] = line
        items.append(Item(item_id=item_id, title=title, year=year, genres=_genres(row.get("genres")), imdb_id=imdb))
    if not items:
        raise DataError("no items in this catalog file", path=path)
    return Catalog(items)


def catalog_from_titles(titles: Iterable[tuple[str, int | str | None]]) -> Catalog:
    """A catalog of the distinct ``(title, year)`` pairs given, in first-seen order.

    Pairs that differ only in case, accents or punctuation are one item (the first spelling is kept);
    a leading article is part of the title. Popularity is the number of times each item was given.
    """
    rows: dict[tuple[str, int | None], int] = {}
    items: list[Item] = []
    counts: list[int] = []
    for title, year in titles:
        title = str(title).strip()
        y = int(year) if year not in (None, "") and str(year).strip().isdigit() else None
        key = (strict_key(title), y)
        if not title or not key[0]:
            continue
        row = rows.get(key)
        if row is None:
            rows[key] = row = len(items)
            items.append(Item(item_id=f"{title} ({y})" if y else title, title=title, year=y))
            counts.append(0)
        counts[row] += 1
    ids: dict[str, int] = {}
    for it in items:  # two spellings of one id cannot happen with the key above, but a title may equal "T (Y)"
        n = ids.get(it.item_id, 0)
        ids[it.item_id] = n + 1
        if n:
            it.item_id = f"{it.item_id} #{n + 1}"
    return Catalog(items, popularity=counts)


def catalog_from_samples(samples: Sequence[Any]) -> Catalog:
    """Every ground-truth and seen title of SafeRec samples as a catalog (the SafeCRS ground-truth catalog).

    Seen titles are read as ``Title (Year)`` when they carry a year.
    """
    from persafe.recsys.parser import parse_title_line

    def seen(text: str) -> tuple[str, int | None]:
        parsed = parse_title_line(text)
        return parsed if parsed is not None else (text, None)

    pairs: list[tuple[str, int | str | None]] = []
    for s in samples:
        pairs += [(t, y) for t, y in s.groundtruth_with_release_year]
        pairs += [(t, y) for t, y in (seen(x) for x in s.seen_titles)]
    return catalog_from_titles(pairs)
