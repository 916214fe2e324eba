"""MovieLens-100k loading: the recbole copy and GroupLens ``u.*`` folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from persafe.catalog import MovieLens, load_movielens
from persafe.catalog.movielens import GROUPLENS_GENRES
from persafe.errors import DataError


def test_builtin_sizes(movielens: MovieLens) -> None:
    assert len(movielens.catalog) == 1682
    assert len(movielens.users) == 943
    assert len(movielens.rating) == 100_000
    assert len(movielens.rating_user) == len(movielens.rating_row) == len(movielens.timestamp) == 100_000
    assert movielens.source.startswith("recbole:")
    assert set(np.unique(movielens.rating).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    # popularity = number of ratings per movie
    assert movielens.catalog.popularity.sum() == 100_000
    assert movielens.catalog.popularity[movielens.catalog.row["50"]] == 583  # Star Wars, the most rated


def test_builtin_items_and_users(movielens: MovieLens) -> None:
    star_wars = movielens.catalog.get("50")
    assert (star_wars.title, star_wars.year) == ("Star Wars", 1977)
    assert "Sci-Fi" in star_wars.genres
    assert movielens.catalog.get(12).display == "The Usual Suspects (1995)"
    # recbole's copy has two broken years: "unkonwn" (sic) stays without a year; "V" is recovered
    # from the title, which recbole left as "... Giving (1995)"
    no_year = [it.item_id for it in movielens.catalog.items if it.year is None]
    assert no_year == ["267"]
    land = movielens.catalog.get("1412")
    assert (land.title, land.year) == ("Land Before Time III: The Time of the Great Giving", 1995)
    u1 = movielens.users["1"]
    assert (u1.age, u1.gender, u1.occupation) == (24, "M", "technician")


def _flags(*genres: str) -> list[str]:
    return ["1" if g in genres else "0" for g in GROUPLENS_GENRES]


def _write_grouplens(folder: Path) -> None:
    items = [
        [
            "1",
            "Toy Story (1995)",
            "01-Jan-1995",
            "",
            "http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)",
            *_flags("Animation", "Children's", "Comedy"),
        ],
        ["2", "Cité des enfants perdus, La (1995)", "01-Jan-1995", "", "", *_flags("Fantasy", "Sci-Fi")],
        ["3", "unknown", "", "", "", *_flags("unknown")],
    ]
    assert all(len(r) == 24 for r in items)
    (folder / "u.item").write_bytes("".join("|".join(r) + "\n" for r in items).encode("latin-1"))
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n", encoding="latin-1")
    (folder / "u.data").write_text("1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n", encoding="latin-1")


def test_grouplens_folder(tmp_path: Path) -> None:
    _write_grouplens(tmp_path)
    ml = load_movielens(tmp_path)
    assert ml.source == f"grouplens:{tmp_path}"
    cat = ml.catalog
    assert len(cat) == 3
    toy, cite, unknown = cat.items
    assert (toy.item_id, toy.title, toy.year) == ("1", "Toy Story", 1995)
    assert toy.genres == ["Animation", "Children's", "Comedy"]
    assert (cite.title, cite.year, cite.genres) == ("Cité des enfants perdus, La", 1995, ["Fantasy", "Sci-Fi"])
    assert cite.display == "La Cité des enfants perdus (1995)"
    assert (unknown.title, unknown.year, unknown.genres) == ("unknown", None, ["unknown"])
    assert sorted(ml.users) == ["1", "2"]
    assert (ml.users["2"].age, ml.users["2"].gender, ml.users["2"].occupation) == (53, "F", "other")
    assert ml.rating_user.tolist() == ["1", "1", "2"]
    assert ml.rating_row.tolist() == [0, 1, 0]
    assert ml.rating.tolist() == [5.0, 3.0, 4.0]
    assert ml.timestamp.tolist() == [874965758, 876893171, 888550871]
    assert cat.popularity.tolist() == [2.0, 1.0, 0.0]


def test_grouplens_short_line(tmp_path: Path) -> None:
    _write_grouplens(tmp_path)
    (tmp_path / "u.user").write_text("1|24|M|technician|85711\n2|53|F\n", encoding="latin-1")
    with pytest.raises(DataError) as ei:
        load_movielens(tmp_path)
    assert f"{tmp_path / 'u.user'}:2" in str(ei.value)
    assert "expected 5 fields" in str(ei.value)


def test_grouplens_bad_number_and_unknown_item(tmp_path: Path) -> None:
    _write_grouplens(tmp_path)
    (tmp_path / "u.data").write_text("1\t1\t5\t874965758\n1\t2\t3\tyesterday\n", encoding="latin-1")
    with pytest.raises(DataError) as ei:
        load_movielens(tmp_path)
    assert f"{tmp_path / 'u.data'}:2 field 'timestamp'" in str(ei.value)
    (tmp_path / "u.data").write_text("1\t99\t5\t874965758\n", encoding="latin-1")
    with pytest.raises(DataError, match="rating of item '99'"):
        load_movielens(tmp_path)


def test_folder_without_data_raises(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("nothing here", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_movielens(tmp_path)
    msg = str(ei.value)
    assert str(tmp_path) in msg
    assert "ml-100k.item" in msg and "u.item" in msg


def _write_recbole(folder: Path, item_bytes: bytes) -> None:
    (folder / "ml-100k.item").write_bytes(item_bytes)
    (folder / "ml-100k.user").write_text(
        "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\r\n1\t24\tM\ttechnician\t85711\r\n",
        encoding="utf-8",
    )
    (folder / "ml-100k.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t1\t5\t874965758\n1\t2\t3\t876893171\n",
        encoding="utf-8",
    )


_RECBOLE_ITEMS = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n" + (
    "1\tToy Story\t1995\tAnimation Children's Comedy\n2\tCité des enfants perdus, La\t1995\tFantasy Sci-Fi\n"
)


def test_recbole_folder_bom_and_crlf(tmp_path: Path) -> None:
    _write_recbole(tmp_path, b"\xef\xbb\xbf" + _RECBOLE_ITEMS.encode("utf-8"))
    ml = load_movielens(tmp_path)
    assert [it.title for it in ml.catalog.items] == ["Toy Story", "Cité des enfants perdus, La"]
    assert ml.users["1"].occupation == "technician"  # a CRLF line ending is not part of the last field


def test_recbole_folder_not_utf8(tmp_path: Path) -> None:
    # a Latin-1 copy used to fail with "can't decode byte 0xe9 in position ..."
    _write_recbole(tmp_path, _RECBOLE_ITEMS.encode("latin-1"))
    with pytest.raises(DataError) as ei:
        load_movielens(tmp_path)
    assert ei.value.line == 3
    assert str(ei.value) == (
        f"{tmp_path / 'ml-100k.item'}:3: not UTF-8 text (byte 0xe9 at column 6); save the file as UTF-8"
    )
