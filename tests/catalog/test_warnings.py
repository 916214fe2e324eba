"""Content-warning loaders: DDD vote tables, Parents Guide tables, SafeCRS sensitivity, curated JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persafe.catalog import (
    Catalog,
    Item,
    ItemWarnings,
    SafetyOracle,
    TagEvidence,
    WarningsTable,
    builtin_traits,
    load_curated_warnings,
    load_ddd_table,
    load_parents_guide_table,
    load_safecrs_sensitivity,
)
from persafe.errors import DataError

# --- DoesTheDogDie-style vote tables -----------------------------------------------------------

DDD_CSV = """\
item,tag,yes_votes,no_votes
1,Does the dog die,10,2
1,Are there spiders,3,3
2,Is there blood/gore,5,
3,Are there snakes,1,9
"""


def test_ddd_csv_yes_beats_no(tmp_path: Path) -> None:
    path = tmp_path / "ddd.csv"
    path.write_text(DDD_CSV, encoding="utf-8")
    t = load_ddd_table(path)
    assert len(t) == 3
    one = t.get("1")
    assert list(one.tags) == ["Does the dog die"]  # 3 yes vs 3 no is not a yes
    ev = one.tags["Does the dog die"]
    assert (ev.source, ev.yes_votes, ev.no_votes, ev.evidence) == ("ddd", 10, 2, None)
    assert one.tags_assessed is True
    assert t.get("2").tags["Is there blood/gore"].no_votes == 0  # empty no_votes reads as 0
    # item 3 only has a rejected tag: still assessed (the voters said no), no tags
    three = t.get("3")
    assert three.tags == {} and three.tags_assessed and three.status == "annotated"
    assert t.get("4") is None


def test_ddd_min_votes_and_source(tmp_path: Path) -> None:
    path = tmp_path / "ddd.csv"
    path.write_text(DDD_CSV, encoding="utf-8")
    t = load_ddd_table(path, min_votes=6, source="my-ddd")
    assert list(t.get("1").tags) == ["Does the dog die"]
    assert t.get("1").tags["Does the dog die"].source == "my-ddd"
    assert t.get("2").tags == {}  # 5 yes < 6


def test_ddd_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "ddd.jsonl"
    rows = [
        {"item": 7, "tag": "Does a cat die", "yes_votes": 4, "no_votes": 1},
        {"item": "7", "tag": "Does the dog die", "yes_votes": 0, "no_votes": 4},
        {"item": 8, "tag": "Are there bugs", "yes_votes": "2", "no_votes": None},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    t = load_ddd_table(path)
    assert list(t.get("7").tags) == ["Does a cat die"]
    assert t.get("8").tags["Are there bugs"].yes_votes == 2


def test_ddd_errors_name_file_line_field(tmp_path: Path) -> None:
    path = tmp_path / "ddd.csv"
    path.write_text("item,tag,yes_votes,no_votes\n1,Does the dog die,3,1\n2,Does a cat die,many,1\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_ddd_table(path)
    assert f"{path}:3 field 'yes_votes'" in str(ei.value)
    assert (ei.value.line, ei.value.field) == (3, "yes_votes")
    path.write_text("item,tag,yes_votes,no_votes\n1,,3,0\n", encoding="utf-8")
    with pytest.raises(DataError, match="field 'tag': missing value"):
        load_ddd_table(path)
    with pytest.raises(DataError, match="file not found"):
        load_ddd_table(tmp_path / "nope.csv")


def test_ddd_tag_typo_names_line_and_nearest_tags(tmp_path: Path) -> None:
    # a misspelt tag used to be accepted (and then flagged no movie for any trait)
    path = tmp_path / "ddd.csv"
    path.write_text("item,tag,yes_votes,no_votes\n1,Does the dog die,3,1\n2,Does the dgo die,5,0\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_ddd_table(path)
    err = ei.value
    assert (err.path, err.line, err.field) == (path, 3, "tag")
    assert str(err).startswith(f"{path}:3 field 'tag': unknown content-warning tag 'Does the dgo die'; did you mean")
    assert "'Does the dog die'" in str(err)
    # a full DoesTheDogDie export may carry tags no trait uses: they can be skipped on request
    t = load_ddd_table(path, skip_unknown_tags=True)
    assert list(t.get("1").tags) == ["Does the dog die"] and t.get("2") is None


def test_ddd_vocabulary_follows_the_taxonomy(tmp_path: Path) -> None:
    traits = tmp_path / "traits.yaml"
    traits.write_text(
        "new_tags: [Is there a loud sudden noise]\n"
        "traits:\n  - id: loud\n    name: Loud noises\n    avoid: [Is there a loud sudden noise]\n",
        encoding="utf-8",
    )
    path = tmp_path / "ddd.tsv"
    path.write_text("item\ttag\tyes_votes\tno_votes\n1\tIs there a loud sudden noise\t4\t0\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown content-warning tag"):
        load_ddd_table(path)
    t = load_ddd_table(path, taxonomy=builtin_traits(traits))
    assert list(t.get("1").tags) == ["Is there a loud sudden noise"]


@pytest.mark.parametrize(
    ("header", "hint"),
    [
        ("item,tag,yes_votes", ""),
        ("item,tag,yes_votes,no_vote", " (is 'no_vote' meant to be 'no_votes'?)"),
    ],
)
def test_ddd_table_without_no_votes_column(tmp_path: Path, header: str, hint: str) -> None:
    # without the column every tag with a yes vote used to count as present
    path = tmp_path / "ddd.csv"
    path.write_text(f"{header}\n1,Does the dog die,3,9\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_ddd_table(path)
    assert str(ei.value) == (
        f"{path}:1 field 'no_votes': missing column 'no_votes'{hint}; "
        "the table needs columns item, tag, yes_votes, no_votes"
    )


def test_ddd_jsonl_line_without_no_votes(tmp_path: Path) -> None:
    path = tmp_path / "ddd.jsonl"
    rows = [
        {"item": 1, "tag": "Does the dog die", "yes_votes": 3, "no_votes": 1},
        {"item": 2, "tag": "Does the dog die", "yes_votes": 3},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_ddd_table(path)
    assert (ei.value.line, ei.value.field) == (2, "no_votes")
    assert "missing key 'no_votes'; the table needs keys item, tag, yes_votes, no_votes" in str(ei.value)


def _small_catalog() -> Catalog:
    return Catalog([Item(item_id=str(i), title=f"Movie {i}", year=1990 + i) for i in range(1, 6)])


def test_ddd_unknown_item_with_catalog(tmp_path: Path) -> None:
    path = tmp_path / "ddd.csv"
    path.write_text(DDD_CSV.replace("no_votes\n", "no_votes\n999,Does the dog die,4,0\n"), encoding="utf-8")
    assert load_ddd_table(path).get("999") is not None  # without a catalog ids are not checked
    with pytest.raises(DataError) as ei:
        load_ddd_table(path, catalog=_small_catalog())
    err = ei.value
    assert (err.line, err.field) == (2, "item")
    assert "item id '999' is not in the catalog (5 items, ids such as 1, 2, 3)" in str(err)


def test_parents_guide_unknown_item_with_catalog(tmp_path: Path) -> None:
    path = tmp_path / "pg.csv"
    path.write_text(PG_CSV + "77,profanity,Mild\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_parents_guide_table(path, catalog=_small_catalog())
    assert str(ei.value).startswith(f"{path}:7 field 'item': item id '77' is not in the catalog")
    assert load_parents_guide_table(path).get("77") is not None  # without a catalog ids are not checked


def test_parents_guide_category_typo_and_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "pg.csv"
    path.write_text("item,category,severity\n1,Violense & Gore,Mild\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown category 'Violense & Gore'; did you mean 'Violence & Gore'"):
        load_parents_guide_table(path)
    path.write_text("item,categroy,severity\n1,profanity,Mild\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_parents_guide_table(path)
    assert str(ei.value) == (
        f"{path}:1 field 'category': missing column 'category' (is 'categroy' meant to be 'category'?); "
        "the table needs columns item, category, severity"
    )


def test_tables_accept_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "ddd.csv"
    path.write_bytes(b"\xef\xbb\xbf" + DDD_CSV.replace("\n", "\r\n").encode("utf-8"))
    t = load_ddd_table(path)
    assert list(t.get("1").tags) == ["Does the dog die"]
    assert t.get("2").tags["Is there blood/gore"].no_votes == 0
    pg = tmp_path / "pg.jsonl"
    pg.write_bytes(b"\xef\xbb\xbf" + json.dumps({"item": 1, "category": "profanity", "severity": 2}).encode())
    assert load_parents_guide_table(pg).get("1").parents_guide == {"profanity": 2}


@pytest.mark.parametrize("name", ["ddd.csv", "ddd.jsonl"])
def test_tables_not_utf8_name_the_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".csv"):
        text = DDD_CSV + "4,Does the dog die,1,0\n"
    else:
        text = json.dumps({"item": 1, "tag": "Does the dog die", "yes_votes": 3, "no_votes": 0}) + "\n"
        text += json.dumps({"item": 4, "tag": "Does the dog die", "yes_votes": 1, "no_votes": 0}) + "\n"
    text = text.replace("4,", "4 caf\u00e9,").replace('"item": 4', '"item": "4 caf\u00e9"')
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(DataError) as ei:
        load_ddd_table(path)
    line = 6 if name.endswith(".csv") else 2
    assert ei.value.line == line
    assert str(ei.value).startswith(f"{path}:{line}: not UTF-8 text (byte 0xe9")
    assert str(ei.value).endswith("save the file as UTF-8")


def test_curated_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    path.write_bytes(b'\n{"item_id": 1, "title": "Caf\xe9", "status": "unknown"}\n')
    with pytest.raises(DataError, match=r"w.jsonl:2: not UTF-8 text \(byte 0xe9 at column 29\)"):
        load_curated_warnings(path)


# --- Parents Guide tables ----------------------------------------------------------------------

PG_CSV = """\
item,category,severity
1,Violence & Gore,Severe
1,frightening,2
1,"Alcohol, Drugs & Smoking",none
2,sex_nudity,MILD
2,Frightening & Intense Scenes,3
"""


def test_parents_guide_csv_names_and_ids(tmp_path: Path) -> None:
    path = tmp_path / "pg.csv"
    path.write_text(PG_CSV, encoding="utf-8")
    t = load_parents_guide_table(path)
    assert t.get("1").parents_guide == {"violence_gore": 3, "frightening": 2, "substances": 0}
    assert t.get("2").parents_guide == {"sex_nudity": 1, "frightening": 3}
    assert t.get("1").parents_guide_source == "parents-guide"
    assert t.get("1").tags_assessed is False
    assert t.get("1").sources == {"parents-guide"}


def test_parents_guide_jsonl_int_severities(tmp_path: Path) -> None:
    path = tmp_path / "pg.jsonl"
    rows = [
        {"item": 5, "category": "Profanity", "severity": 2},
        {"item": 5, "category": "violence & gore", "severity": 0},
        {"item": 5, "category": "substances", "severity": "Moderate"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    t = load_parents_guide_table(path, source="imdb")
    assert t.get("5").parents_guide == {"profanity": 2, "violence_gore": 0, "substances": 2}
    assert t.get("5").parents_guide_source == "imdb"


def test_parents_guide_unknown_category(tmp_path: Path) -> None:
    path = tmp_path / "pg.csv"
    path.write_text("item,category,severity\n1,Violence & Gore,Mild\n1,Jump Scares,Mild\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_parents_guide_table(path)
    msg = str(ei.value)
    assert f"{path}:3 field 'category'" in msg
    assert "unknown category 'Jump Scares'" in msg
    assert "violence_gore" in msg


def test_parents_guide_unknown_severity(tmp_path: Path) -> None:
    path = tmp_path / "pg.jsonl"
    path.write_text(json.dumps({"item": 1, "category": "profanity", "severity": 4}) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_parents_guide_table(path)
    assert f"{path}:1 field 'severity'" in str(ei.value)


# --- merging -----------------------------------------------------------------------------------


def test_merge_tags_and_parents_guide(tmp_path: Path) -> None:
    ddd = tmp_path / "ddd.csv"
    ddd.write_text(DDD_CSV, encoding="utf-8")
    pg = tmp_path / "pg.csv"
    pg.write_text(PG_CSV, encoding="utf-8")
    a, b = load_ddd_table(ddd), load_parents_guide_table(pg)
    m = a.merged(b)
    assert len(a) == 3 and len(b) == 2 and len(m) == 3
    one = m.get("1")
    assert list(one.tags) == ["Does the dog die"]
    assert one.parents_guide["violence_gore"] == 3
    assert one.tags_assessed is True
    assert one.sources == {"ddd", "parents-guide"}
    assert a.get("1").parents_guide == {}  # merged() does not modify its inputs


# --- SafeCRS movie_trait_sensitivity.json ------------------------------------------------------


@pytest.fixture
def imdb_catalog() -> Catalog:
    return Catalog(
        [
            Item(item_id="10", title="Seven (Se7en)", year=1995, imdb_id="tt0114369"),
            Item(item_id="11", title="Babe", year=1995, imdb_id="tt0112431"),
            Item(item_id="12", title="No Link", year=1995),
        ]
    )


def _write_sensitivity(tmp_path: Path, entries: object) -> Path:
    path = tmp_path / "movie_trait_sensitivity.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_safecrs_sensitivity(tmp_path: Path, imdb_catalog: Catalog) -> None:
    path = _write_sensitivity(
        tmp_path,
        [
            {
                "imdbId": "0114369",
                "traits": {
                    "Anti-gore / squeamish": {"final": 0.9, "hit_tags": ["Is there blood/gore"]},
                    "torture": {"final": 0.2},
                },
            },
            {
                "imdbId": "112431",
                "traits": {"Animal lover (avoid animal harm/death)": {"final": 0.3, "hit_tags": ["Does a pig die"]}},
            },
            {"imdbId": "tt9999999", "traits": {"gore": {"final": 1.0}}},
            {"imdbId": "0000001", "traits": {}},
        ],
    )
    tax = builtin_traits()
    table, skipped = load_safecrs_sensitivity(path, imdb_catalog, tax)
    assert skipped == 2
    assert len(table) == 2
    seven = table.get("10")
    assert seven.risk_override == {"gore": 0.9, "torture": 0.2}
    assert list(seven.tags) == ["Is there blood/gore"]
    assert seven.tags["Is there blood/gore"].source == "safecrs"
    assert table.get("11").risk_override == {"animal_harm": 0.3}

    o = SafetyOracle(imdb_catalog, tax, table, tau=0.66)
    assert o.risk("10", "gore") == pytest.approx(0.9)
    assert o.risk("10", "torture") == pytest.approx(0.2)
    assert o.is_unsafe("10", ["gore"]) and not o.is_unsafe("10", ["torture"])
    # the override replaces the computed risk: "Does a pig die" is not an avoid tag anyway, but 0.3 < τ
    assert o.risk("11", "animal_harm") == pytest.approx(0.3)
    assert not o.is_unsafe("11", ["animal_harm"])
    assert o.risk("11", "gore") == 0.0  # known item, no override for gore, nothing present
    assert o.risk("12", "gore") is None


def test_safecrs_override_beats_tags(tmp_path: Path, imdb_catalog: Catalog) -> None:
    path = _write_sensitivity(
        tmp_path,
        [
            {"imdbId": "tt0114369", "traits": {"gore": {"final": 0.1, "hit_tags": ["Is there blood/gore"]}}},
        ],
    )
    table, skipped = load_safecrs_sensitivity(path, imdb_catalog, builtin_traits())
    assert skipped == 0
    o = SafetyOracle(imdb_catalog, builtin_traits(), table)
    assert bool(o.ddd_trigger[0, o.taxonomy.index["gore"]]) is True
    assert o.risk("10", "gore") == pytest.approx(0.1)
    assert not o.is_unsafe("10", ["gore"])


def test_safecrs_sensitivity_errors(tmp_path: Path, imdb_catalog: Catalog) -> None:
    tax = builtin_traits()
    with pytest.raises(DataError, match="file not found"):
        load_safecrs_sensitivity(tmp_path / "nope.json", imdb_catalog, tax)
    path = _write_sensitivity(tmp_path, {"imdbId": "1"})
    with pytest.raises(DataError, match="expected a list"):
        load_safecrs_sensitivity(path, imdb_catalog, tax)
    path = _write_sensitivity(tmp_path, [{"imdbId": "0114369", "traits": {"gore": {"hit_tags": []}}}])
    with pytest.raises(DataError) as ei:
        load_safecrs_sensitivity(path, imdb_catalog, tax)
    assert "field '[0].traits.gore'" in str(ei.value)
    path = _write_sensitivity(tmp_path, [{"traits": {}}])
    with pytest.raises(DataError, match="needs 'imdbId'"):
        load_safecrs_sensitivity(path, imdb_catalog, tax)
    path = _write_sensitivity(tmp_path, [{"imdbId": "0114369", "traits": {"Vampire phobia": {"final": 1}}}])
    with pytest.raises(DataError, match=r"json field '\[0\]\.traits': unknown trait 'Vampire phobia'"):
        load_safecrs_sensitivity(path, imdb_catalog, tax)


# --- the project's curated format --------------------------------------------------------------


def _pg_entries(**sev: str) -> dict[str, dict[str, str]]:
    cats = ("sex_nudity", "violence_gore", "profanity", "substances", "frightening")
    return {c: ({"severity": sev[c], "reason": "r"} if c in sev else {"severity": "None"}) for c in cats}


CURATED = [
    {
        "item_id": 1,
        "title": "Toy Story",
        "year": 1995,
        "status": "annotated",
        "confidence": "high",
        "tags": [{"tag": "Does a non-human character die", "evidence": "a toy is destroyed"}],
        "parents_guide": _pg_entries(violence_gore="Mild", frightening="Mild"),
    },
    {"item_id": "267", "title": "unknown", "year": "unkonwn", "status": "unknown", "reason": "no data"},
]


def test_load_curated_warnings(tmp_path: Path) -> None:
    path = tmp_path / "cur.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in CURATED) + "\n", encoding="utf-8")
    t = load_curated_warnings(path)
    assert len(t) == 2
    toy = t.get("1")
    assert toy.status == "annotated" and toy.tags_assessed and toy.confidence == "high"
    assert toy.parents_guide == {"sex_nudity": 0, "violence_gore": 1, "profanity": 0, "substances": 0, "frightening": 1}
    assert toy.tags["Does a non-human character die"].evidence == "a toy is destroyed"
    assert toy.sources == {"persafe-curated"}
    unk = t.get("267")
    assert unk.status == "unknown" and not unk.tags_assessed and unk.note == "no data"
    assert unk.parents_guide == {} and unk.parents_guide_source is None


def test_curated_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "cur.jsonl"
    path.write_text(json.dumps(CURATED[0]) + "\n" + '{"item_id": 2, "title": \n', encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_curated_warnings(path)
    assert str(ei.value).startswith(f"{path}:2: invalid JSON")
    assert ei.value.line == 2
    path.write_text(json.dumps(CURATED[0]) + "\n\n[1, 2]\n", encoding="utf-8")
    with pytest.raises(DataError, match=r":3: expected a JSON object"):
        load_curated_warnings(path)


def test_curated_schema_error_names_field(tmp_path: Path) -> None:
    bad = {**CURATED[0], "status": "annotated", "parents_guide": {"gore": {"severity": "Mild"}}}
    path = tmp_path / "cur.jsonl"
    path.write_text(json.dumps(CURATED[1]) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_curated_warnings(path)
    assert ei.value.line == 2
    assert ei.value.field is not None and ei.value.field.startswith("parents_guide")


def test_warnings_table_add_keeps_first_tag_and_upgrades_status() -> None:
    first = TagEvidence(tag="Does the dog die", source="a", evidence="first")
    t = WarningsTable([ItemWarnings(item_id="1", status="unknown", tags={first.tag: first})])
    second = TagEvidence(tag="Does the dog die", source="b", evidence="second")
    t.add(
        ItemWarnings(
            item_id="1",
            parents_guide={"profanity": 2},
            parents_guide_source="pg",
            tags={second.tag: second, "Are there bugs": TagEvidence(tag="Are there bugs", source="b")},
        )
    )
    rec = t.get(1)
    assert rec.status == "annotated"
    assert rec.parents_guide == {"profanity": 2}
    assert rec.tags["Does the dog die"].evidence == "first"
    assert list(rec.tags) == ["Does the dog die", "Are there bugs"]
    assert rec.sources == {"a", "b", "pg"}
    assert rec.tags_assessed is False
