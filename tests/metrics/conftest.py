"""A tiny hand-made catalog and safety oracle for the metric tests.

Rows (ids ``i0``..``i6``), popularity and what the oracle knows (built-in taxonomy, τ = 0.66):

====  =======================  =====  ==========  ==================================================
row   title                    year   popularity  warnings
====  =======================  =====  ==========  ==================================================
0     Usual Suspects, The      1995   50          annotated, Parents Guide violence 2 (gore risk 0.51)
1     Heat                     1995   40          annotated, nothing
2     Arachnophobia            1990   30          "Are there spiders"  -> unsafe for arachnophobia
3     Old Yeller               1957   10          "Does the dog die"   -> unsafe for animal_harm
4     Saw                      2004   20          Parents Guide violence 3, frightening 3 -> gore
5     Mystery Film             1999   5           status "unknown"
6     Fargo                    1996   0           no record at all
====  =======================  =====  ==========  ==================================================

Popularity percentiles (rank / 6): row0 1, row1 5/6, row2 4/6, row3 2/6, row4 3/6, row5 1/6, row6 0.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from persafe.catalog import (
    Catalog,
    Item,
    ItemWarnings,
    SafetyOracle,
    TagEvidence,
    TraitTaxonomy,
    WarningsTable,
    builtin_traits,
)

POPULARITY = [50, 40, 30, 10, 20, 5, 0]


def _tag(name: str) -> dict[str, TagEvidence]:
    return {name: TagEvidence(tag=name, source="test", evidence="it happens")}


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    items = [
        Item(item_id="i0", title="Usual Suspects, The", year=1995, genres=["Crime"]),
        Item(item_id="i1", title="Heat", year=1995, genres=["Crime"]),
        Item(item_id="i2", title="Arachnophobia", year=1990, genres=["Horror"]),
        Item(item_id="i3", title="Old Yeller", year=1957, genres=["Drama"]),
        Item(item_id="i4", title="Saw", year=2004, genres=["Horror"]),
        Item(item_id="i5", title="Mystery Film", year=1999),
        Item(item_id="i6", title="Fargo", year=1996, genres=["Crime"]),
    ]
    return Catalog(items, popularity=POPULARITY)


@pytest.fixture(scope="session")
def warnings_table() -> WarningsTable:
    return WarningsTable(
        [
            ItemWarnings(
                item_id="i0", tags_assessed=True, parents_guide={"violence_gore": 2}, parents_guide_source="test"
            ),
            ItemWarnings(item_id="i1", tags_assessed=True),
            ItemWarnings(item_id="i2", tags_assessed=True, tags=_tag("Are there spiders")),
            ItemWarnings(item_id="i3", tags_assessed=True, tags=_tag("Does the dog die")),
            ItemWarnings(
                item_id="i4",
                tags_assessed=True,
                parents_guide={"violence_gore": 3, "frightening": 3},
                parents_guide_source="test",
            ),
            ItemWarnings(item_id="i5", status="unknown", note="nobody could say"),
            # i6 (Fargo) has no record at all.
        ]
    )


@pytest.fixture(scope="session")
def taxonomy() -> TraitTaxonomy:
    return builtin_traits()


@pytest.fixture(scope="session")
def make_oracle(
    catalog: Catalog, taxonomy: TraitTaxonomy, warnings_table: WarningsTable
) -> Callable[..., SafetyOracle]:
    def make(unknown: str = "safe", **kwargs: object) -> SafetyOracle:
        return SafetyOracle(catalog, taxonomy, warnings_table, unknown=unknown, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def oracle(make_oracle: Callable[..., SafetyOracle]) -> SafetyOracle:
    return make_oracle("safe")
