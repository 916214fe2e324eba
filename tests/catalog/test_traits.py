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
traits:
  - id: jump_scares
    name: Jump-scare avoider
    description: Avoids sudden loud scares.
    avoid:
      - Are there jump scares
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
    assert len(tax.tags) == 97
    # the cached built-in taxonomy is not modified
    assert len(builtin_traits()) == 20


def test_load_traits_json_list_replaces_same_id(tmp_path: Path) -> None:
    path = tmp_path / "extra.json"
    path.write_text(json.dumps([{"id": "gore", "name": "My gore", "avoid": ["Is there blood/gore"]}]), encoding="utf-8")
    tax = builtin_traits(path)
    assert len(tax) == 20
    assert tax.get("gore").name == "My gore"
    assert tax.get("gore").pg_vector() == [0.0] * 5
    assert tax.ids[-1] == "gore"


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
    wrong.write_text('{"something": 1}', encoding="utf-8")
    with pytest.raises(DataError, match="expected a list of traits"):
        load_traits(wrong)


def test_duplicate_trait_ids_rejected() -> None:
    t = Trait(id="a", name="A", avoid=[])
    with pytest.raises(DataError, match="duplicate trait ids"):
        TraitTaxonomy([t, t])
