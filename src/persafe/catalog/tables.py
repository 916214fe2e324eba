"""Reading user tables (CSV, TSV, JSONL or a JSON list) row by row, with errors that point at the line.

Catalog files, DoesTheDogDie-style vote tables and Parents-Guide tables share this reader, so a
missing column, an unreadable line or a non-UTF-8 byte is reported the same way everywhere.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from persafe.catalog.traits import close_matches
from persafe.errors import DataError
from persafe.io import iter_jsonl, iter_lines, read_json


def missing_column(missing: str, present: Iterable[str], columns: tuple[str, ...], what: str) -> str:
    """The message for a missing column or key, suggesting a present one that looks like a typo of it."""
    near = close_matches(missing, [str(c) for c in present if c not in columns], n=1)
    hint = f" (is {near[0]!r} meant to be {missing!r}?)" if near else ""
    return f"missing {what} {missing!r}{hint}; the table needs {what}s {', '.join(columns)}"


def read_table(
    path: str | Path, columns: tuple[str, ...], list_key: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of a table as ``(line_number, row)``, checking that every required column is there.

    Args:
        path: ``.csv``, ``.tsv``/``.tab``, ``.jsonl`` or ``.json`` (a list of objects, or an object whose
            ``list_key`` holds that list; the "line" of a JSON row is its 1-based position in the list).
        columns: required columns (keys).
        list_key: where a ``.json`` file keeps its rows when it is an object.

    Raises:
        DataError: unreadable file, a missing column, or a row that is not an object.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".json"}:
        if suffix == ".jsonl":
            rows: Iterable[tuple[int, Any]] = iter_jsonl(path)
        else:
            data = read_json(path)
            if isinstance(data, dict) and list_key is not None:
                data = data.get(list_key)
            if not isinstance(data, list):
                where = f"a list, or an object with a {list_key!r} list" if list_key else "a list of objects"
                raise DataError(f"expected {where}", path=path)
            rows = enumerate(data, 1)
        for n, row in rows:
            if not isinstance(row, dict):
                raise DataError(f"expected an object, got {type(row).__name__}", path=path, line=n)
            for col in columns:
                if col not in row:
                    raise DataError(missing_column(col, row, columns, "key"), path=path, line=n, field=col)
            yield n, row
        return
    delim, kind = ("\t", "TSV") if suffix in {".tsv", ".tab"} else (",", "CSV")
    reader = csv.DictReader((line for _, line in iter_lines(path)), delimiter=delim)
    try:
        header = reader.fieldnames
        if not header:
            raise DataError(f"empty table; the first line must name the columns {', '.join(columns)}", path=path)
        reader.fieldnames = header = [h.strip() for h in header]
        for col in columns:
            if col not in header:
                raise DataError(missing_column(col, header, columns, "column"), path=path, line=1, field=col)
        for row in reader:
            yield reader.line_num, row
    except csv.Error as e:
        raise DataError(f"unreadable {kind} ({e})", path=path, line=reader.line_num) from None
