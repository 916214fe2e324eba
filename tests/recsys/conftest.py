"""A tiny catalog, oracle and sample factory for the recommender tests.

Rows (ids ``i0``..``i6``):

0 "Usual Suspects, The" (1995)   safe
1 "Heat" (1995)                  safe
2 "Arachnophobia" (1990)         "Are there spiders"  -> unsafe for arachnophobia
3 "Old Yeller" (1957)            "Does the dog die"   -> unsafe for animal_harm
4 "Saw" (2004)                   Parents Guide violence 3 / frightening 3 -> unsafe for gore
5 "Mystery Film" (1999)          status "unknown"
6 "Fargo" (1996)                 no warning record
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from persafe.catalog import Catalog, Item, ItemWarnings, SafetyOracle, TagEvidence, WarningsTable, builtin_traits
from persafe.saferec.schema import ChatMessage, SafeRecSample


def _tag(name: str) -> dict[str, TagEvidence]:
    return {name: TagEvidence(tag=name, source="test")}


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    items = [
        Item(item_id="i0", title="Usual Suspects, The", year=1995),
        Item(item_id="i1", title="Heat", year=1995),
        Item(item_id="i2", title="Arachnophobia", year=1990),
        Item(item_id="i3", title="Old Yeller", year=1957),
        Item(item_id="i4", title="Saw", year=2004),
        Item(item_id="i5", title="Mystery Film", year=1999),
        Item(item_id="i6", title="Fargo", year=1996),
    ]
    return Catalog(items, popularity=[50, 40, 30, 10, 20, 5, 0])


@pytest.fixture(scope="session")
def oracle(catalog: Catalog) -> SafetyOracle:
    warnings = WarningsTable(
        [
            ItemWarnings(item_id="i0", tags_assessed=True, parents_guide={"violence_gore": 2}),
            ItemWarnings(item_id="i1", tags_assessed=True),
            ItemWarnings(item_id="i2", tags_assessed=True, tags=_tag("Are there spiders")),
            ItemWarnings(item_id="i3", tags_assessed=True, tags=_tag("Does the dog die")),
            ItemWarnings(item_id="i4", tags_assessed=True, parents_guide={"violence_gore": 3, "frightening": 3}),
            ItemWarnings(item_id="i5", status="unknown"),
        ]
    )
    return SafetyOracle(catalog, builtin_traits(), warnings)


@pytest.fixture(scope="session")
def make_sample() -> Callable[..., SafeRecSample]:
    """``make_sample(sample_id, history=[...], groundtruth=[...], turn=..., **fields)``.

    ``turn`` is the text of the single user message in ``prompt``; the ``request`` field stays empty
    unless given in ``fields``.
    """

    def make(
        sample_id: str,
        history: list[str] | None = None,
        groundtruth: list[str] | None = None,
        turn: str = "Recommend me some movies.",
        user_id: str | None = None,
        **fields: Any,
    ) -> SafeRecSample:
        return SafeRecSample(
            sample_id=sample_id,
            user_id=user_id if user_id is not None else f"user-{sample_id}",
            history_item_ids=history or [],
            groundtruth_item_ids=groundtruth or [],
            prompt=[ChatMessage(role="user", content=turn)],
            **fields,
        )

    return make
