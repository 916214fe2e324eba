"""The shipped MovieLens-100k annotations: well-known, unambiguous cases, coverage and validity."""

from __future__ import annotations

import pytest

from persafe.catalog import builtin_oracle, builtin_traits, curated_warnings_path, load_movielens
from persafe.catalog.validate import validate_curated


@pytest.fixture(scope="module")
def oracle():
    return builtin_oracle()[2]


# (item id, title as MovieLens writes it, trait that must be violated, tag that must be present)
UNSAFE = [
    ("416", "Old Yeller", "animal_harm", "Does the dog die"),
    ("234", "Jaws", "animal_harm", "Does the dog die"),
    ("389", "Black Beauty", "animal_harm", "Does a horse die"),
    ("473", "James and the Giant Peach", "arachnophobia", "Are there spiders"),
    ("174", "Raiders of the Lost Ark", "arachnophobia", "Are there snakes"),
    ("475", "Trainspotting", "substance_recovery", "Is there addiction"),
    ("276", "Leaving Las Vegas", "substance_recovery", "Does someone abuse alcohol"),
    ("196", "Dead Poets Society", "self_harm", "Does someone die by suicide"),
    ("276", "Leaving Las Vegas", "self_harm", "Does someone die by suicide"),
    ("428", "Harold and Maude", "self_harm", "Does someone die by suicide"),
    ("318", "Schindler's List", "hate_speech", "Is there antisemitism"),
    ("98", "Silence of the Lambs, The", "torture", "Is there cannibalism"),
    ("200", "Shining, The", "horror", "Are there ghosts"),
]
GENTLE = [("169", "Wrong Trousers, The"), ("419", "Mary Poppins"), ("143", "Sound of Music, The")]


@pytest.mark.parametrize(("item_id", "title", "trait", "tag"), UNSAFE)
def test_well_known_unsafe_cases(oracle, item_id, title, trait, tag):
    item = oracle.catalog.get(item_id)
    assert item.title == title
    rec = oracle.warnings.get(item_id)
    assert rec is not None and rec.status == "annotated"
    assert tag in rec.tags and rec.tags[tag].evidence
    assert oracle.is_unsafe(item_id, [trait])
    assert oracle.explain(item_id, trait)["hit_tags"][tag]


@pytest.mark.parametrize(("item_id", "title"), GENTLE)
def test_gentle_films_are_safe_for_every_trait(oracle, item_id, title):
    assert oracle.catalog.get(item_id).title == title
    assert oracle.warnings.get(item_id).tags == {}
    assert not oracle.is_unsafe(item_id, oracle.taxonomy.ids)


def test_shipped_file_is_valid_and_covers_the_top_1000():
    rep = validate_curated(curated_warnings_path(), load_movielens(), builtin_traits(), top_n=1000)
    assert rep.errors == []
    assert rep.missing_top == []
    assert rep.annotated + rep.unknown == 1682
    assert rep.annotated >= 1000


def test_unknown_movies_carry_a_reason_and_no_labels(oracle):
    unknown = [r for r in oracle.warnings if r.status == "unknown"]
    assert unknown
    assert all(r.note and not r.tags and not r.parents_guide for r in unknown)
    rows = [oracle.catalog.row[r.item_id] for r in unknown]
    assert not oracle.known[rows].any()


def test_every_trait_has_unsafe_movies(oracle):
    per_trait = oracle.coverage()["unsafe_per_trait"]
    assert set(per_trait) == set(oracle.taxonomy.ids)
    assert all(n > 0 for n in per_trait.values())
