"""Items, the trait taxonomy, content warnings, the SafetyOracle and data loaders."""

from persafe.catalog.builtin import builtin_oracle, builtin_warnings, curated_warnings_path
from persafe.catalog.items import Catalog, Item
from persafe.catalog.movielens import MovieLens, User, load_movielens
from persafe.catalog.oracle import DEFAULT_TAU, PGPolicy, SafetyOracle, UnknownPolicy
from persafe.catalog.titles import TitleIndex, TitleMatch, display_title, normalize_title
from persafe.catalog.traits import PG_CATEGORIES, Trait, TraitTaxonomy, builtin_traits, load_traits
from persafe.catalog.warnings import (
    ItemWarnings,
    TagEvidence,
    WarningsTable,
    load_curated_warnings,
    load_ddd_table,
    load_parents_guide_table,
    load_safecrs_sensitivity,
)

__all__ = [
    "DEFAULT_TAU",
    "PG_CATEGORIES",
    "Catalog",
    "Item",
    "ItemWarnings",
    "MovieLens",
    "PGPolicy",
    "SafetyOracle",
    "TagEvidence",
    "TitleIndex",
    "TitleMatch",
    "Trait",
    "TraitTaxonomy",
    "UnknownPolicy",
    "User",
    "WarningsTable",
    "builtin_oracle",
    "builtin_traits",
    "builtin_warnings",
    "curated_warnings_path",
    "display_title",
    "load_curated_warnings",
    "load_ddd_table",
    "load_movielens",
    "load_parents_guide_table",
    "load_safecrs_sensitivity",
    "load_traits",
    "normalize_title",
]
