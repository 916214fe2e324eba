"""The built-in catalog: MovieLens-100k with the project's curated content warnings."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from persafe.catalog.movielens import MovieLens, load_movielens
from persafe.catalog.oracle import DEFAULT_TAU, PGPolicy, SafetyOracle, UnknownPolicy
from persafe.catalog.traits import TraitTaxonomy, builtin_traits
from persafe.catalog.warnings import WarningsTable, load_curated_warnings

CURATED_SOURCE = "persafe-curated"


def curated_warnings_path() -> Path:
    """Path of the shipped ``ml100k_warnings.jsonl`` (the project's annotations of MovieLens-100k)."""
    return Path(str(resources.files("persafe.catalog") / "data" / "ml100k_warnings.jsonl"))


def builtin_warnings() -> WarningsTable:
    """The curated content warnings of the MovieLens-100k movies."""
    return load_curated_warnings(curated_warnings_path(), source=CURATED_SOURCE)


def builtin_oracle(
    movielens: MovieLens | None = None,
    *,
    tau: float = DEFAULT_TAU,
    unknown: UnknownPolicy = "safe",
    pg_policy: PGPolicy = "applicability",
    traits_file: str | Path | None = None,
    extra_warnings: WarningsTable | None = None,
) -> tuple[MovieLens, TraitTaxonomy, SafetyOracle]:
    """MovieLens-100k, the trait taxonomy, and the safety oracle over the curated warnings.

    Args:
        movielens: an already loaded data set (default: load from the recbole package).
        tau: risk threshold.
        unknown: policy for movies without annotations.
        pg_policy: how Parents-Guide severities combine with tags.
        traits_file: extra traits to add to the 20 built-in ones.
        extra_warnings: more warnings (e.g. a DDD table) merged over the curated ones.
    """
    ml = movielens or load_movielens()
    taxonomy = builtin_traits(traits_file)
    warnings = builtin_warnings()
    if extra_warnings is not None:
        warnings = warnings.merged(extra_warnings)
    return ml, taxonomy, SafetyOracle(ml.catalog, taxonomy, warnings, tau=tau, unknown=unknown, pg_policy=pg_policy)
