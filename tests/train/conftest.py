"""A tiny catalog and oracle for reward tests.

Rows: 0 "Heat" (1995) safe; 1 "Arachnophobia" (1990) spiders; 2 "Old Yeller" (1957) dog dies;
3 "Fargo" (1996) safe.
"""

from __future__ import annotations

import pytest

from persafe.catalog import Catalog, Item, ItemWarnings, SafetyOracle, TagEvidence, WarningsTable, builtin_traits


@pytest.fixture(scope="session")
def tiny_oracle() -> SafetyOracle:
    items = [
        Item(item_id="h", title="Heat", year=1995),
        Item(item_id="a", title="Arachnophobia", year=1990),
        Item(item_id="y", title="Old Yeller", year=1957),
        Item(item_id="f", title="Fargo", year=1996),
    ]
    tag = {"Are there spiders": TagEvidence(tag="Are there spiders", source="test")}
    dog = {"Does the dog die": TagEvidence(tag="Does the dog die", source="test")}
    warnings = WarningsTable(
        [
            ItemWarnings(item_id="h", tags_assessed=True),
            ItemWarnings(item_id="a", tags_assessed=True, tags=tag),
            ItemWarnings(item_id="y", tags_assessed=True, tags=dog),
            ItemWarnings(item_id="f", tags_assessed=True),
        ]
    )
    return SafetyOracle(Catalog(items), builtin_traits(), warnings)
