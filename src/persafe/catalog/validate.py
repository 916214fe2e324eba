"""Validate a curated content-warning file against the catalog and the tag vocabulary.

Checks: schema, tags in the vocabulary, item ids / titles / years match the catalog, no
contradictions between tags and Parents-Guide severities, evidence for every tag, a reason for every
unknown movie and every severity above None, and coverage of the most-rated movies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from persafe.catalog.movielens import MovieLens
from persafe.catalog.traits import SEVERITIES, TraitTaxonomy, close_matches
from persafe.catalog.warnings import CuratedRecord
from persafe.errors import DataError
from persafe.io import iter_lines, parse_jsonl_line, validate_record

VIOLENT_TAGS = frozenset(
    {
        "Is there excessive gore",
        "Is there blood/gore",
        "Is there body horror",
        "Is there amputation",
        "Is there finger/toe mutilation",
        "Is there eye mutilation",
        "Is there genital trauma/mutilation",
        "Are any teeth damaged",
        "Is someone tortured",
        "Is someone burned alive",
        "Is there cannibalism",
        "Is someone crushed to death",
        "Does a head get squashed",
        "Is there gun violence",
    }
)
"""Tags that cannot coexist with Violence & Gore = None."""
SUBSTANCE_TAGS = frozenset(
    {"Is there addiction", "Does someone use drugs", "Does someone abuse alcohol", "Does someone overdose"}
)
"""Tags that cannot coexist with Alcohol, Drugs & Smoking = None."""
SEXUAL_VIOLENCE_TAGS = frozenset({"Is someone sexually assaulted", "Is someone raped onscreen"})
"""Tags that need Sex & Nudity or Violence & Gore above None."""


@dataclass
class ValidationReport:
    """Outcome of a validation: errors (each ``file:line: message``) and coverage counts."""

    errors: list[str] = field(default_factory=list)
    annotated: int = 0
    unknown: int = 0
    missing_top: list[str] = field(default_factory=list)
    top_n: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.missing_top


def top_rated_rows(ml: MovieLens, n: int) -> np.ndarray:
    """Catalog rows of the ``n`` most-rated movies (ties broken by catalog order)."""
    order = np.lexsort((np.arange(len(ml.catalog)), -ml.catalog.popularity))
    return order[:n]


def _read_records(path: str | Path, errors: list[str]) -> list[tuple[int, CuratedRecord]]:
    """The valid records of a curated file with their line numbers; every bad line becomes an error.

    A file that cannot be read at all (missing, not UTF-8) ends the reading with one error.
    """
    out: list[tuple[int, CuratedRecord]] = []
    try:
        for n, line in iter_lines(path):
            if not line.strip():
                continue
            try:
                obj = parse_jsonl_line(line, path=path, line=n)
                out.append((n, validate_record(CuratedRecord, obj, path=path, line=n)))
            except DataError as e:
                errors.append(str(e))
    except DataError as e:
        errors.append(str(e))
    return out


def validate_curated(path: str | Path, ml: MovieLens, taxonomy: TraitTaxonomy, top_n: int = 1000) -> ValidationReport:
    """Validate a curated annotation file (see module docstring).

    Never raises for a bad file: an unreadable file, a line that is not JSON or does not fit the schema
    each become one error (``file:line: message``) in the report, and the other lines are still checked.
    """
    rep = ValidationReport(top_n=top_n)
    vocab = set(taxonomy.tags)
    records = _read_records(path, rep.errors)
    if rep.errors and not records:
        return rep
    seen: set[str] = set()
    for n, r in records:
        where = f"{path}:{n}"
        if r.item_id in seen:
            rep.errors.append(f"{where}: duplicate item_id {r.item_id}")
        seen.add(r.item_id)
        if r.item_id not in ml.catalog:
            rep.errors.append(f"{where}: item_id {r.item_id} is not in the catalog")
            continue
        item = ml.catalog.get(r.item_id)
        if r.title != item.title or r.year != item.year:
            rep.errors.append(f"{where}: title/year {r.title!r} ({r.year}) != catalog {item.title!r} ({item.year})")
        if r.status == "unknown":
            rep.unknown += 1
            if not (r.reason or "").strip():
                rep.errors.append(f"{where}: unknown movie without a reason")
            if r.tags or r.parents_guide:
                rep.errors.append(f"{where}: unknown movie must not carry tags or parents_guide")
            continue
        rep.annotated += 1
        if r.confidence is None:
            rep.errors.append(f"{where}: annotated movie without confidence")
        if r.parents_guide is None or len(r.parents_guide) != 5:
            rep.errors.append(f"{where}: annotated movie needs all five parents_guide categories")
            continue
        names = [t.tag for t in r.tags]
        for t in names:
            if t not in vocab:
                near = close_matches(t, vocab)
                guess = f"; did you mean {' or '.join(repr(x) for x in near)}?" if near else ""
                rep.errors.append(f"{where}: tag {t!r} is not in the vocabulary{guess}")
        if len(set(names)) != len(names):
            rep.errors.append(f"{where}: duplicate tag")
        sev = {c: SEVERITIES[e.severity] for c, e in r.parents_guide.items()}
        for c, e in r.parents_guide.items():
            if sev[c] > 0 and not (e.reason or "").strip():
                rep.errors.append(f"{where}: parents_guide.{c} is {e.severity} without a reason")
        tags = set(names)
        if tags & VIOLENT_TAGS and sev["violence_gore"] == 0:
            rep.errors.append(f"{where}: {sorted(tags & VIOLENT_TAGS)} with Violence & Gore = None")
        if "Is there excessive gore" in tags and sev["violence_gore"] < 2:
            rep.errors.append(f"{where}: excessive gore with Violence & Gore below Moderate")
        if tags & SUBSTANCE_TAGS and sev["substances"] == 0:
            rep.errors.append(f"{where}: {sorted(tags & SUBSTANCE_TAGS)} with Alcohol, Drugs & Smoking = None")
        if tags & SEXUAL_VIOLENCE_TAGS and sev["sex_nudity"] == 0 and sev["violence_gore"] == 0:
            rep.errors.append(f"{where}: sexual-violence tag with Sex & Nudity and Violence & Gore = None")
    rep.missing_top = [
        ml.catalog.items[r].item_id for r in top_rated_rows(ml, top_n) if ml.catalog.items[r].item_id not in seen
    ]
    return rep
