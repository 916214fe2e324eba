"""The trait taxonomy: built-in traits, lookups, and user trait files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persafe.catalog import PG_CATEGORIES, Trait, TraitTaxonomy, builtin_traits, load_traits
from persafe.errors import DataError, UnknownNameError

BUILTIN_IDS = [
    "animal_harm",
    "arachnophobia",
    "gore",
    "torture",
    "sexual_violence",
    "kid_safety",
    "domestic_abuse",
    "substance_recovery",
    "self_harm",
    "mental_health",
    "medical_trauma",
    "needle_phobia",
    "claustrophobia",
    "photosensitivity",
    "hate_speech",
    "lgbtq_respect",
    "pregnancy_loss",
    "disaster_accident",
    "happy_ending",
    "horror",
]

EXTRA_YAML = """\
new_tags:
  - Is there a loud sudden noise
traits:
  - id: jump_scares
    name: Jump-scare avoider
    description: Avoids sudden loud scares.
    avoid:
      - Are there jumpscares
      - Is there a loud sudden noise
    pg_weights:
      frightening: 1.0
    pg_applicability: weak
"""


def test_builtin_has_20_traits_in_fixed_order() -> None:
    tax = builtin_traits()
    assert len(tax) == 20
    assert tax.ids == BUILTIN_IDS
    assert tax.index == {t: i for i, t in enumerate(BUILTIN_IDS)}


def test_builtin_has_95_distinct_tags() -> None:
    tags = builtin_traits().tags
    assert len(tags) == 95
    assert len(set(tags)) == 95
    assert "Does the dog die" in tags
    assert "Are there spiders" in tags


def test_get_by_id_and_by_full_safecrs_name() -> None:
    tax = builtin_traits()
    by_id = tax.get("animal_harm")
    assert by_id.name == "Animal lover (avoid animal harm/death)"
    assert tax.get("Animal lover (avoid animal harm/death)") is by_id
    assert tax.get("anti-gore / SQUEAMISH").id == "gore"  # names are case-insensitive
    assert tax.resolve(["horror", "Avoid torture & extreme violence"]) == ["horror", "torture"]
    assert "Self-harm & suicide sensitive" in tax
    assert "self_harm" in tax
    assert "bogus" not in tax


def test_gore_weights_and_vector_order() -> None:
    gore = builtin_traits().get("gore")
    assert gore.pg_applicability == "strong"
    assert gore.pg_vector() == [0.0, 1.0, 0.0, 0.0, 0.3]
    assert PG_CATEGORIES == ("sex_nudity", "violence_gore", "profanity", "substances", "frightening")
    assert builtin_traits().get("arachnophobia").avoid[:1] == ["Are there spiders"]


def test_unknown_trait_lists_valid_ids() -> None:
    tax = builtin_traits()
    with pytest.raises(UnknownNameError) as ei:
        tax.get("bogus")
    err = ei.value
    assert isinstance(err, KeyError)
    assert err.name == "bogus"
    assert err.valid == sorted(BUILTIN_IDS)
    msg = str(err)
    assert msg.startswith("unknown trait 'bogus'; valid: ")
    for tid in BUILTIN_IDS:
        assert tid in msg
    with pytest.raises(UnknownNameError):
        tax.resolve(["gore", "nope"])


def test_load_traits_yaml_adds_a_trait(tmp_path: Path) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text(EXTRA_YAML, encoding="utf-8")
    traits = load_traits(path)
    assert [t.id for t in traits] == ["jump_scares"]
    assert traits[0].pg_vector() == [0.0, 0.0, 0.0, 0.0, 1.0]

    tax = builtin_traits(path)
    assert len(tax) == 21
    assert tax.ids[-1] == "jump_scares"
    assert tax.get("Jump-scare avoider").id == "jump_scares"
    assert len(tax.tags) == 96  # one known tag, one declared in new_tags
    assert tax.tags[-1] == "Is there a loud sudden noise"
    # the cached built-in taxonomy is not modified
    assert len(builtin_traits()) == 20


def test_extra_trait_reusing_a_builtin_id_is_refused(tmp_path: Path) -> None:
    # it used to replace the built-in trait silently (which then flagged no movie)
    path = tmp_path / "extra.json"
    path.write_text(json.dumps([{"id": "gore", "name": "My gore", "avoid": ["Is there blood/gore"]}]), encoding="utf-8")
    load_traits(path)  # on its own the file is fine
    with pytest.raises(DataError) as ei:
        builtin_traits(path)
    msg = str(ei.value)
    assert msg.startswith(f"{path}:1 field 'traits[0].id': trait id 'gore' is already used by the built-in trait")
    assert "choose another id" in msg
    assert builtin_traits().get("gore").name != "My gore"


def test_extra_trait_reusing_a_builtin_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text("- id: my_gore\n  name: ANTI-GORE / squeamish\n  avoid: [Is there blood/gore]\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        builtin_traits(path)
    assert str(ei.value).startswith(f"{path}:2 field 'traits[0].name': trait name 'ANTI-GORE / squeamish' is already")
    assert "'gore'" in str(ei.value) and "choose another name" in str(ei.value)


def test_duplicate_ids_and_names_within_a_file(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    a = {"id": "a_trait", "name": "A", "avoid": ["Does the dog die"]}
    path.write_text(json.dumps({"traits": [a, {**a, "name": "B"}]}), encoding="utf-8")
    with pytest.raises(DataError, match=r"field 'traits\[1\]\.id': trait id 'a_trait' is already used by traits\[0\]"):
        load_traits(path)
    path.write_text(json.dumps({"traits": [a, {**a, "id": "b_trait", "name": "a"}]}), encoding="utf-8")
    with pytest.raises(DataError, match=r"field 'traits\[1\]\.name': trait name 'a' is already used by traits\[0\]"):
        load_traits(path)


def test_unknown_avoid_tag_names_entry_and_nearest_tags(tmp_path: Path) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text(EXTRA_YAML.replace("  - Is there a loud sudden noise\ntraits", "traits"), encoding="utf-8")
    with pytest.raises(DataError) as ei:
        builtin_traits(path)
    err = ei.value
    assert (err.path, err.line, err.field) == (path, 8, "traits[0].avoid[1]")
    msg = str(err)
    assert "unknown content-warning tag 'Is there a loud sudden noise'" in msg
    assert "may only use known tags" in msg and "'new_tags'" in msg
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps([{"id": "dogs", "name": "Dogs", "avoid": ["does the dog dies"]}]), encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_traits(typo)
    assert ei.value.field == "traits[0].avoid[0]"
    assert "did you mean 'Does the dog die'" in str(ei.value)


def test_unknown_keys_in_trait_files_suggest_the_nearest(tmp_path: Path) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text(EXTRA_YAML.replace("pg_weights:", "pg_weight:"), encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_traits(path)
    assert (ei.value.line, ei.value.field) == (10, "traits[0].pg_weight")
    assert "unknown field; did you mean 'pg_weights'?" in str(ei.value)
    path.write_text(EXTRA_YAML.replace("new_tags:", "new_tag:"), encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_traits(path)
    assert (ei.value.line, ei.value.field) == (1, "new_tag")
    assert "unknown key; did you mean 'new_tags'?" in str(ei.value)
    path.write_text("new_tags: [1]\ntraits: []\n", encoding="utf-8")
    with pytest.raises(DataError, match="field 'new_tags': expected a list of tag strings"):
        load_traits(path)


def test_trait_file_encodings(tmp_path: Path) -> None:
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbf" + EXTRA_YAML.encode("utf-8"))
    assert [t.id for t in load_traits(bom)] == ["jump_scares"]
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(EXTRA_YAML.replace("Avoids sudden", "\u00c9vite sudden").encode("latin-1"))
    with pytest.raises(DataError) as ei:
        load_traits(latin)
    assert ei.value.line == 6
    assert "save the file as UTF-8" in str(ei.value)
    assert str(ei.value).startswith(f"{latin}:6: not UTF-8 text (byte 0xc9 at column 18)")


def test_invalid_pg_category_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(EXTRA_YAML.replace("frightening: 1.0", "scariness: 1.0"), encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_traits(path)
    msg = str(ei.value)
    assert str(path) in msg
    assert "traits[0].pg_weights" in msg
    assert "scariness" in msg
    assert ei.value.field == "traits[0].pg_weights"


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"id": "Bad-Id", "name": "x", "avoid": []}, "traits[1].id"),
        ({"id": "ok", "name": "x"}, "traits[1].avoid"),
        ({"id": "ok", "name": "x", "avoid": [], "pg_weights": {"profanity": -1}}, "traits[1].pg_weights"),
        ({"id": "ok", "name": "x", "avoid": [], "pg_applicability": "huge"}, "traits[1].pg_applicability"),
    ],
)
def test_invalid_trait_fields(tmp_path: Path, bad: dict, field: str) -> None:
    path = tmp_path / "t.json"
    good = {"id": "good", "name": "Good", "avoid": ["Does the dog die"]}
    path.write_text(json.dumps({"traits": [good, bad]}), encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_traits(path)
    assert ei.value.field == field
    assert str(path) in str(ei.value)


def test_trait_file_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        load_traits(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="cannot parse"):
        load_traits(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"version": 1}', encoding="utf-8")
    with pytest.raises(DataError, match="expected a list of traits"):
        load_traits(wrong)
    wrong.write_text('{"something": 1, "traits": []}', encoding="utf-8")
    with pytest.raises(DataError, match="field 'something': unknown key"):
        load_traits(wrong)
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("traits:\n  - id: x\n   name: [\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.yaml:\d+: cannot parse YAML"):
        load_traits(bad_yaml)


def test_duplicate_trait_ids_rejected() -> None:
    t = Trait(id="a", name="A", avoid=[])
    with pytest.raises(DataError, match="duplicate trait ids"):
        TraitTaxonomy([t, t])
