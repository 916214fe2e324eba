"""Content warnings per item, with provenance, and loaders for the sources persafe accepts.

Sources: the project's curated annotations (JSONL), DoesTheDogDie-style vote tables, IMDb
Parents-Guide severity tables (CSV or JSONL), and SafeCRS ``movie_trait_sensitivity.json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from persafe.catalog.items import Catalog, ItemId
from persafe.catalog.tables import read_table
from persafe.catalog.traits import (
    PG_CATEGORIES,
    PG_CATEGORY_NAMES,
    SEVERITIES,
    PGCategory,
    TraitTaxonomy,
    builtin_traits,
    close_matches,
    unknown_tag_message,
)
from persafe.errors import DataError, UnknownNameError
from persafe.io import iter_jsonl, read_json, validate_record


class TagEvidence(BaseModel):
    """One content-warning tag found in an item, and where that knowledge came from."""

    tag: str
    """The tag (a DoesTheDogDie question, e.g. "Does the dog die")."""
    source: str
    """Provenance: ``persafe-curated``, ``ddd``, ``safecrs`` or a user-given name."""
    evidence: str | None = None
    """A short factual note on what happens, when the source gives one."""
    yes_votes: int | None = None
    """DoesTheDogDie yes votes (vote tables only)."""
    no_votes: int | None = None
    """DoesTheDogDie no votes (vote tables only)."""


class ItemWarnings(BaseModel):
    """Everything known about the sensitive content of one item."""

    item_id: ItemId
    """The item."""
    status: Literal["annotated", "unknown"] = "annotated"
    """``unknown`` means a source looked at the item and could not say (treated by the oracle's policy)."""
    tags: dict[str, TagEvidence] = Field(default_factory=dict)
    """Tags present, by tag."""
    tags_assessed: bool = False
    """A tag source (curated annotation, DDD votes) looked at this item, so a missing tag means absent."""
    parents_guide: dict[str, int] = Field(default_factory=dict)
    """Parents Guide severity (0 None … 3 Severe) by category id."""
    parents_guide_source: str | None = None
    """Provenance of the Parents Guide severities."""
    risk_override: dict[str, float] = Field(default_factory=dict)
    """Precomputed risk per trait id (e.g. SafeCRS ``final``); replaces the computed risk for that trait."""
    confidence: str | None = None
    """Annotator confidence (curated annotations)."""
    note: str | None = None
    """Why the item is unknown, or other remarks."""

    @property
    def sources(self) -> set[str]:
        """Every source that contributed to this record."""
        s = {t.source for t in self.tags.values()}
        if self.parents_guide_source:
            s.add(self.parents_guide_source)
        return s


class WarningsTable:
    """Content warnings for many items, keyed by item id."""

    def __init__(self, records: Iterable[ItemWarnings] = ()) -> None:
        self.records: dict[str, ItemWarnings] = {}
        for r in records:
            self.add(r)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[ItemWarnings]:
        return iter(self.records.values())

    def get(self, item_id: str) -> ItemWarnings | None:
        """The record of an item, or ``None`` when no source covers it."""
        return self.records.get(str(item_id))

    def add(self, rec: ItemWarnings) -> None:
        """Merge a record in: tags are united, a known Parents Guide replaces a missing one."""
        old = self.records.get(rec.item_id)
        if old is None:
            self.records[rec.item_id] = rec.model_copy(deep=True)
            return
        if rec.status == "annotated":
            old.status = "annotated"
        old.tags_assessed = old.tags_assessed or rec.tags_assessed
        for tag, ev in rec.tags.items():
            old.tags.setdefault(tag, ev)
        if rec.parents_guide:
            old.parents_guide = {**old.parents_guide, **rec.parents_guide}
            old.parents_guide_source = rec.parents_guide_source
        old.risk_override.update(rec.risk_override)

    def merged(self, other: WarningsTable) -> WarningsTable:
        """A new table holding this table's records updated with ``other``'s."""
        out = WarningsTable(self)
        for r in other:
            out.add(r)
        return out


# --- the project's curated format -------------------------------------------------------------


class _PGEntry(BaseModel):
    severity: Literal["None", "Mild", "Moderate", "Severe"]
    reason: str | None = None


class _CuratedTag(BaseModel):
    tag: str
    evidence: str = Field(min_length=1)


def _year_or_none(v: Any) -> Any:
    # recbole's copy has two movies without a usable year ("unkonwn", "V"); the catalog stores None for
    # them, so a non-numeric year here means "no year" and the validator compares it with the catalog.
    return None if isinstance(v, str) and not v.strip().isdigit() else v


class CuratedRecord(BaseModel):
    """One line of ``ml100k_warnings.jsonl`` (the project's annotation format)."""

    item_id: ItemId
    title: str
    year: Annotated[int | None, BeforeValidator(_year_or_none)] = None
    status: Literal["annotated", "unknown"]
    confidence: Literal["high", "medium", "low"] | None = None
    reason: str | None = None
    tags: list[_CuratedTag] = Field(default_factory=list)
    parents_guide: dict[PGCategory, _PGEntry] | None = None

    def to_warnings(self, source: str = "persafe-curated") -> ItemWarnings:
        """Convert to the oracle's representation."""
        return ItemWarnings(
            item_id=self.item_id,
            status=self.status,
            tags={t.tag: TagEvidence(tag=t.tag, source=source, evidence=t.evidence) for t in self.tags},
            tags_assessed=self.status == "annotated",
            parents_guide={c: SEVERITIES[e.severity] for c, e in (self.parents_guide or {}).items()},
            parents_guide_source=source if self.parents_guide else None,
            confidence=self.confidence,
            note=self.reason,
        )


def read_curated_records(path: str | Path) -> list[CuratedRecord]:
    """Read curated annotation records, validating each line."""
    return [validate_record(CuratedRecord, obj, path=path, line=n) for n, obj in iter_jsonl(path)]


def load_curated_warnings(path: str | Path, source: str = "persafe-curated") -> WarningsTable:
    """Load the project's curated annotations (one JSON object per item)."""
    return WarningsTable(r.to_warnings(source) for r in read_curated_records(path))


# --- tables: DoesTheDogDie votes and Parents Guide severities -----------------------------------


def _item_id(item: str, catalog: Catalog | None, path: str | Path, line: int) -> str:
    """The catalog item id a table row names: an item id, or an IMDb id (``tt0114814``) of a catalog item."""
    if catalog is None or item in catalog:
        return item
    row = catalog.imdb_row.get(_norm_imdb(item)) if _looks_imdb(item) else None
    if row is not None:
        return catalog.items[row].item_id
    examples = ", ".join(it.item_id for it in catalog.items[:3])
    imdb = " or IMDb ids" if catalog.imdb_row else ""
    raise DataError(
        f"item id {item!r} is not in the catalog ({len(catalog)} items, ids such as {examples}); use the catalog's "
        f"item ids{imdb}, or remove the row",
        path=path,
        line=line,
        field="item",
    )


def _need(row: dict[str, Any], key: str, path: str | Path, line: int) -> Any:
    v = row.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        raise DataError("missing value", path=path, line=line, field=key)
    return v


def _as_int(v: Any, key: str, path: str | Path, line: int) -> int:
    try:
        return int(float(v))
    except (TypeError, ValueError):
        raise DataError(f"expected a number, got {v!r}", path=path, line=line, field=key) from None


DDD_COLUMNS = ("item", "tag", "yes_votes", "no_votes")
"""Columns of a DoesTheDogDie-style vote table."""
PARENTS_GUIDE_COLUMNS = ("item", "category", "severity")
"""Columns of a Parents Guide table."""


def load_ddd_table(
    path: str | Path,
    *,
    min_votes: int = 1,
    source: str = "ddd",
    catalog: Catalog | None = None,
    taxonomy: TraitTaxonomy | None = None,
    skip_unknown_tags: bool = False,
) -> WarningsTable:
    """Load a DoesTheDogDie-style table with columns ``item, tag, yes_votes, no_votes``.

    A tag is present when it has more yes than no votes and at least ``min_votes`` yes votes; an item
    that appears only with rejected tags is still annotated (the voters said "no"). An empty
    ``no_votes`` cell reads as 0; the column itself must be there.

    Args:
        path: a CSV, TSV (``.tsv``/``.tab``) or JSONL file.
        min_votes: yes votes a tag needs to count as present.
        source: provenance written on every tag.
        catalog: when given, every item must be in it (by item id, or by IMDb id where its items have one).
        taxonomy: its tags are the vocabulary every ``tag`` must belong to (default: the built-in traits).
        skip_unknown_tags: drop rows whose tag is outside the vocabulary (such a tag would flag no trait)
            instead of failing; for full DoesTheDogDie exports.

    Raises:
        DataError: a missing column, a bad number, an unknown tag or item (names file, line and field).
    """
    vocab = set((taxonomy or builtin_traits()).tags)
    table: dict[str, ItemWarnings] = {}
    for n, row in read_table(path, DDD_COLUMNS):
        item = _item_id(str(_need(row, "item", path, n)).strip(), catalog, path, n)
        tag = str(_need(row, "tag", path, n)).strip()
        yes = _as_int(_need(row, "yes_votes", path, n), "yes_votes", path, n)
        no = _as_int(row.get("no_votes") or 0, "no_votes", path, n)
        if tag not in vocab:
            if skip_unknown_tags:
                continue
            raise DataError(unknown_tag_message(tag, vocab), path=path, line=n, field="tag")
        rec = table.setdefault(item, ItemWarnings(item_id=item, tags_assessed=True))
        if yes > no and yes >= min_votes:
            rec.tags[tag] = TagEvidence(tag=tag, source=source, yes_votes=yes, no_votes=no)
    return WarningsTable(table.values())


_CATEGORY_ALIASES = {**{c: c for c in PG_CATEGORIES}, **{v.lower(): k for k, v in PG_CATEGORY_NAMES.items()}}
_SEVERITY_ALIASES = {**{k.lower(): v for k, v in SEVERITIES.items()}, **{str(v): v for v in SEVERITIES.values()}}


def load_parents_guide_table(
    path: str | Path, *, source: str = "parents-guide", catalog: Catalog | None = None
) -> WarningsTable:
    """Load a Parents Guide table with columns ``item, category, severity``.

    ``category`` is a category id (``violence_gore``) or IMDb's name ("Violence & Gore");
    ``severity`` is None/Mild/Moderate/Severe or 0–3.

    Args:
        path: a CSV, TSV (``.tsv``/``.tab``) or JSONL file.
        source: provenance of the severities.
        catalog: when given, every item must be in it (by item id, or by IMDb id where its items have one).

    Raises:
        DataError: a missing column, an unknown category, severity or item (names file, line and field).
    """
    table: dict[str, ItemWarnings] = {}
    for n, row in read_table(path, PARENTS_GUIDE_COLUMNS):
        item = _item_id(str(_need(row, "item", path, n)).strip(), catalog, path, n)
        cat_raw = str(_need(row, "category", path, n)).strip()
        cat = _CATEGORY_ALIASES.get(cat_raw.lower()) or _CATEGORY_ALIASES.get(cat_raw)
        if cat is None:
            near = close_matches(cat_raw, [*PG_CATEGORIES, *PG_CATEGORY_NAMES.values()], n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise DataError(
                f"unknown category {cat_raw!r}; {hint}valid: {', '.join(PG_CATEGORIES)} or IMDb names "
                f"({', '.join(repr(v) for v in PG_CATEGORY_NAMES.values())})",
                path=path,
                line=n,
                field="category",
            )
        sev_raw = str(_need(row, "severity", path, n)).strip().lower()
        if sev_raw not in _SEVERITY_ALIASES:
            raise DataError(
                f"unknown severity {sev_raw!r}; valid: None, Mild, Moderate, Severe or 0-3",
                path=path,
                line=n,
                field="severity",
            )
        rec = table.setdefault(item, ItemWarnings(item_id=item, parents_guide_source=source))
        rec.parents_guide[cat] = _SEVERITY_ALIASES[sev_raw]
    return WarningsTable(table.values())


def load_safecrs_sensitivity(
    path: str | Path, catalog: Catalog, taxonomy: TraitTaxonomy, *, source: str = "safecrs"
) -> tuple[WarningsTable, int]:
    """Load SafeCRS ``movie_trait_sensitivity.json`` for the items of ``catalog`` (joined on IMDb id).

    Each trait's ``final`` risk becomes a risk override; ``hit_tags`` become tags.

    Returns:
        The table and the number of entries whose IMDb id is not in the catalog (skipped).
    """
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, list):
        raise DataError("expected a list of {imdbId, traits} objects", path=path)
    by_imdb = {key: catalog.items[row].item_id for key, row in catalog.imdb_row.items()}
    table, skipped = WarningsTable(), 0
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or "imdbId" not in entry or not isinstance(entry.get("traits"), dict):
            raise DataError("each entry needs 'imdbId' and a 'traits' object", path=path, field=f"[{i}]")
        item_id = by_imdb.get(_norm_imdb(str(entry["imdbId"])))
        if item_id is None:
            skipped += 1
            continue
        rec = ItemWarnings(item_id=item_id)
        for name, info in entry["traits"].items():
            try:
                trait = taxonomy.get(name)
            except UnknownNameError as e:
                raise DataError(f"{e}", path=path, field=f"[{i}].traits") from None
            if not isinstance(info, dict) or "final" not in info:
                raise DataError("missing 'final'", path=path, field=f"[{i}].traits.{name}")
            rec.risk_override[trait.id] = float(info["final"])
            for tag in info.get("hit_tags") or []:
                rec.tags[tag] = TagEvidence(tag=tag, source=source)
        table.add(rec)
    return table, skipped


def load_oracle_file(path: str | Path, catalog: Catalog, taxonomy: TraitTaxonomy) -> tuple[WarningsTable, dict]:
    """Content warnings from one file, whatever its kind, for the items of ``catalog``.

    The kind is read from the file: a JSON list of ``{imdbId, traits}`` objects is SafeCRS
    ``movie_trait_sensitivity.json`` (joined on IMDb id; entries for other films are counted and
    skipped); a table with ``tag`` and ``yes_votes`` columns is a DoesTheDogDie-style vote table; one with
    ``category`` and ``severity`` is a Parents-Guide table (both keyed by item id or IMDb id).

    Returns:
        The warnings and a summary (kind, entries used, entries skipped).
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        data = read_json(path)
        if isinstance(data, list) and (not data or (isinstance(data[0], dict) and "imdbId" in data[0])):
            table, skipped = load_safecrs_sensitivity(path, catalog, taxonomy)
            return table, {"file": str(path), "kind": "safecrs", "items": len(table), "skipped": skipped}
    header = next((set(row) for _, row in read_table(path, ("item",))), set())
    if {"tag", "yes_votes"} <= header:
        table = load_ddd_table(path, catalog=catalog, taxonomy=taxonomy)
        return table, {"file": str(path), "kind": "ddd", "items": len(table), "skipped": 0}
    if {"category", "severity"} <= header:
        table = load_parents_guide_table(path, catalog=catalog)
        return table, {"file": str(path), "kind": "parents-guide", "items": len(table), "skipped": 0}
    raise DataError(
        "not a content-warning file persafe knows: expected SafeCRS movie_trait_sensitivity.json (a JSON list of "
        f"{{imdbId, traits}}), a vote table ({', '.join(DDD_COLUMNS)}) or a Parents-Guide table "
        f"({', '.join(PARENTS_GUIDE_COLUMNS)})",
        path=path,
    )


def _looks_imdb(v: str) -> bool:
    return v.strip().lower().startswith("tt") and v.strip()[2:].isdigit()


def _norm_imdb(v: str | None) -> str:
    v = (v or "").strip().lower()
    return v[2:].lstrip("0") if v.startswith("tt") else v.lstrip("0")
