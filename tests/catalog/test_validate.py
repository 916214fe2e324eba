"""Validation of curated content-warning files: schema, vocabulary, catalog and consistency checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persafe.catalog import MovieLens, builtin_traits, curated_warnings_path
from persafe.catalog.validate import validate_curated


def _pg(**sev: str) -> dict[str, dict[str, str]]:
    cats = ("sex_nudity", "violence_gore", "profanity", "substances", "frightening")
    return {c: ({"severity": sev[c], "reason": "seen"} if c in sev else {"severity": "None"}) for c in cats}


GOOD = {
    "item_id": 1,
    "title": "Toy Story",
    "year": 1995,
    "status": "annotated",
    "confidence": "high",
    "tags": [{"tag": "Does a non-human character die", "evidence": "a toy is blown up"}],
    "parents_guide": _pg(violence_gore="Mild", frightening="Mild"),
}
STAR_WARS = {
    "item_id": 50,
    "title": "Star Wars",
    "year": 1977,
    "status": "annotated",
    "confidence": "high",
    "tags": [{"tag": "Is there blood/gore", "evidence": "a severed arm in the cantina"}],
    "parents_guide": _pg(violence_gore="Moderate", frightening="Mild"),
}


def _write(tmp_path: Path, *records: dict) -> Path:
    path = tmp_path / "warnings.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_shipped_file_has_no_errors(movielens: MovieLens) -> None:
    path = curated_warnings_path()
    assert path.exists()
    rep = validate_curated(path, movielens, builtin_traits())
    assert rep.errors == []
    assert rep.annotated > 0


def test_valid_small_file(tmp_path: Path, movielens: MovieLens) -> None:
    path = _write(
        tmp_path,
        GOOD,
        STAR_WARS,
        {"item_id": 267, "title": "unkonwn", "year": None, "status": "unknown", "reason": "no data"},
    )
    rep = validate_curated(path, movielens, builtin_traits(), top_n=3)
    assert rep.errors == []
    assert (rep.annotated, rep.unknown) == (2, 1)
    assert rep.top_n == 3
    # the three most-rated movies are 50 (Star Wars), 258 (Contact), 100 (Fargo): two are missing
    assert rep.missing_top == ["258", "100"]
    assert not rep.ok


def _errors(tmp_path: Path, movielens: MovieLens, bad: dict) -> list[str]:
    path = _write(tmp_path, GOOD, bad)
    rep = validate_curated(path, movielens, builtin_traits(), top_n=1)
    assert rep.errors, "expected a validation error"
    for e in rep.errors:
        assert e.startswith(f"{path}:2"), e  # the error names the bad line
    return rep.errors


def test_out_of_vocabulary_tag(tmp_path: Path, movielens: MovieLens) -> None:
    bad = {**STAR_WARS, "tags": [{"tag": "Is there a lightsaber duel", "evidence": "Obi-Wan vs Vader"}]}
    errors = _errors(tmp_path, movielens, bad)
    assert len(errors) == 1
    assert "tag 'Is there a lightsaber duel' is not in the vocabulary" in errors[0]


def test_gore_tag_with_no_violence(tmp_path: Path, movielens: MovieLens) -> None:
    bad = {**STAR_WARS, "parents_guide": _pg(frightening="Mild")}
    errors = _errors(tmp_path, movielens, bad)
    assert errors == [f"{tmp_path / 'warnings.jsonl'}:2: ['Is there blood/gore'] with Violence & Gore = None"]


def test_excessive_gore_needs_moderate_violence(tmp_path: Path, movielens: MovieLens) -> None:
    bad = {
        **STAR_WARS,
        "tags": [{"tag": "Is there excessive gore", "evidence": "x"}],
        "parents_guide": _pg(violence_gore="Mild"),
    }
    errors = _errors(tmp_path, movielens, bad)
    assert any("excessive gore with Violence & Gore below Moderate" in e for e in errors)


def test_missing_evidence(tmp_path: Path, movielens: MovieLens) -> None:
    bad = {**STAR_WARS, "tags": [{"tag": "Is there blood/gore"}]}
    errors = _errors(tmp_path, movielens, bad)
    assert len(errors) == 1
    assert "tags.0.evidence" in errors[0]


def test_empty_evidence(tmp_path: Path, movielens: MovieLens) -> None:
    bad = {**STAR_WARS, "tags": [{"tag": "Is there blood/gore", "evidence": ""}]}
    errors = _errors(tmp_path, movielens, bad)
    assert "tags.0.evidence" in errors[0]


def test_wrong_title(tmp_path: Path, movielens: MovieLens) -> None:
    bad = {**STAR_WARS, "title": "Star Wars: A New Hope"}
    errors = _errors(tmp_path, movielens, bad)
    assert len(errors) == 1
    assert "title/year 'Star Wars: A New Hope' (1977) != catalog 'Star Wars' (1977)" in errors[0]


def test_wrong_year(tmp_path: Path, movielens: MovieLens) -> None:
    errors = _errors(tmp_path, movielens, {**STAR_WARS, "year": 1997})
    assert "(1997) != catalog 'Star Wars' (1977)" in errors[0]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({**STAR_WARS, "item_id": 99999}, "item_id 99999 is not in the catalog"),
        ({**GOOD}, "duplicate item_id 1"),
        ({**STAR_WARS, "confidence": None}, "annotated movie without confidence"),
        (
            {**STAR_WARS, "parents_guide": {"violence_gore": {"severity": "Mild", "reason": "x"}}},
            "needs all five parents_guide categories",
        ),
        (
            {**STAR_WARS, "parents_guide": {**_pg(frightening="Mild"), "violence_gore": {"severity": "Severe"}}},
            "parents_guide.violence_gore is Severe without a reason",
        ),
        ({"item_id": 50, "title": "Star Wars", "year": 1977, "status": "unknown"}, "unknown movie without a reason"),
        (
            {
                "item_id": 50,
                "title": "Star Wars",
                "year": 1977,
                "status": "unknown",
                "reason": "r",
                "tags": STAR_WARS["tags"],
            },
            "unknown movie must not carry tags",
        ),
        ({**STAR_WARS, "tags": STAR_WARS["tags"] * 2}, "duplicate tag"),
        (
            {**STAR_WARS, "tags": [{"tag": "Does someone use drugs", "evidence": "x"}]},
            "with Alcohol, Drugs & Smoking = None",
        ),
        (
            {
                **STAR_WARS,
                "tags": [{"tag": "Is someone sexually assaulted", "evidence": "x"}],
                "parents_guide": _pg(profanity="Mild"),
            },
            "sexual-violence tag",
        ),
    ],
)
def test_other_errors(tmp_path: Path, movielens: MovieLens, bad: dict, message: str) -> None:
    errors = _errors(tmp_path, movielens, bad)
    assert any(message in e for e in errors), errors


def test_malformed_json_line(tmp_path: Path, movielens: MovieLens) -> None:
    path = tmp_path / "warnings.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + "{oops\n", encoding="utf-8")
    rep = validate_curated(path, movielens, builtin_traits(), top_n=1)
    assert len(rep.errors) == 1
    assert rep.errors[0].startswith(f"{path}:2: invalid JSON")
    assert not rep.ok


def test_not_utf8_is_a_report_error_naming_the_line(tmp_path: Path, movielens: MovieLens) -> None:
    # a Latin-1 file used to end `persafe catalog validate` with a UnicodeDecodeError traceback
    path = tmp_path / "warnings.jsonl"
    bad = {**STAR_WARS, "tags": [{"tag": "Is there blood/gore", "evidence": "caf\u00e9 fight"}]}
    path.write_bytes((json.dumps(GOOD) + "\n" + json.dumps(bad, ensure_ascii=False) + "\n").encode("latin-1"))
    rep = validate_curated(path, movielens, builtin_traits(), top_n=1)
    assert len(rep.errors) == 1
    assert rep.errors[0].startswith(f"{path}:2: not UTF-8 text (byte 0xe9 at column ")
    assert rep.errors[0].endswith("save the file as UTF-8")
    assert rep.annotated == 1  # the lines before it are still checked
    assert not rep.ok


def test_missing_file_is_a_report_error(tmp_path: Path, movielens: MovieLens) -> None:
    rep = validate_curated(tmp_path / "nope.jsonl", movielens, builtin_traits(), top_n=1)
    assert rep.errors == [f"{tmp_path / 'nope.jsonl'}: file not found"]


def test_bom_is_accepted(tmp_path: Path, movielens: MovieLens) -> None:
    path = tmp_path / "warnings.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (json.dumps(GOOD) + "\n" + json.dumps(STAR_WARS) + "\n").encode("utf-8"))
    rep = validate_curated(path, movielens, builtin_traits(), top_n=1)
    assert rep.errors == []
    assert rep.annotated == 2


def test_every_bad_line_is_reported_with_its_own_line_number(tmp_path: Path, movielens: MovieLens) -> None:
    path = tmp_path / "warnings.jsonl"
    wrong_title = {**STAR_WARS, "title": "Star Wars: A New Hope"}
    lines = [json.dumps(GOOD), "", "{oops", json.dumps({**STAR_WARS, "status": "maybe"}), "", json.dumps(wrong_title)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rep = validate_curated(path, movielens, builtin_traits(), top_n=1)
    assert [e.split(": ")[0] for e in rep.errors] == [f"{path}:3", f"{path}:4 field 'status'", f"{path}:6"]
    assert "invalid JSON" in rep.errors[0]
    assert "title/year" in rep.errors[2]  # line 6, not 4: blank lines and bad lines keep the count right


def test_out_of_vocabulary_tag_suggests_the_nearest(tmp_path: Path, movielens: MovieLens) -> None:
    bad = {**STAR_WARS, "tags": [{"tag": "Is there blood / gore", "evidence": "a severed arm"}]}
    errors = _errors(tmp_path, movielens, bad)
    assert len(errors) == 1
    assert errors[0].startswith(
        f"{tmp_path / 'warnings.jsonl'}:2: tag 'Is there blood / gore' is not in the vocabulary; "
        "did you mean 'Is there blood/gore'"
    )
