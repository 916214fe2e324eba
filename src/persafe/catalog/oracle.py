"""The safety oracle: which items are unsafe for which traits (SafeCRS).

``risk(m, t) = max(ddd_trigger(m, t), pg_risk(m, t))`` and an item is unsafe for a trait when its
risk reaches the threshold τ. The oracle materialises the items × traits risk matrix once, so every
evaluation, reward and guard decision is an array lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from itertools import chain
from typing import Literal

import numpy as np

from persafe.catalog.items import Catalog
from persafe.catalog.traits import PG_CATEGORIES, TraitTaxonomy
from persafe.catalog.warnings import WarningsTable
from persafe.errors import UnknownNameError

UnknownPolicy = Literal["safe", "unsafe", "exclude"]
"""What to do with items that have no warning data: count them as safe (the SafeCRS reference),
as unsafe (conservative), or exclude them from safety denominators."""

PGPolicy = Literal["applicability", "max"]
"""How Parents-Guide risk combines with tags. ``max``: ``risk = max(ddd, pg)`` for every trait (the
SafeCRS formula as written). ``applicability`` (default): as ``max`` for traits whose Parents-Guide
applicability is ``strong``; for the others (weak proxies such as self-harm or medical trauma) the
Parents Guide is only a fallback for items whose tags nobody assessed, as the SafeCRS taxonomy notes
recommend. Without it, every film with moderate violence and moderate scares would be "unsafe" for a
self-harm-sensitive user."""

DEFAULT_TAU = 0.66


class SafetyOracle:
    """Decide whether items are unsafe for users' traits.

    Args:
        catalog: the items (rows of every matrix).
        taxonomy: the traits (columns).
        warnings: content warnings per item.
        tau: risk threshold; an item is unsafe for a trait when ``risk >= tau``.
        unknown: policy for items without warning data (see ``UnknownPolicy``).
        pg_policy: how the Parents Guide combines with tags (see ``PGPolicy``).

    Example:
        >>> oracle = SafetyOracle(catalog, builtin_traits(), warnings)    # doctest: +SKIP
        >>> oracle.is_unsafe("1", ["arachnophobia"])                     # doctest: +SKIP
        False
    """

    def __init__(
        self,
        catalog: Catalog,
        taxonomy: TraitTaxonomy,
        warnings: WarningsTable,
        tau: float = DEFAULT_TAU,
        unknown: UnknownPolicy = "safe",
        pg_policy: PGPolicy = "applicability",
    ) -> None:
        if unknown not in ("safe", "unsafe", "exclude"):
            raise UnknownNameError("unknown-item policy", unknown, ["safe", "unsafe", "exclude"])
        if not 0.0 < tau <= 1.0:
            raise ValueError(f"tau must be in (0, 1], got {tau}")
        self.catalog, self.taxonomy, self.warnings = catalog, taxonomy, warnings
        if pg_policy not in ("applicability", "max"):
            raise UnknownNameError("Parents-Guide policy", pg_policy, ["applicability", "max"])
        self.tau, self.unknown_policy, self.pg_policy = tau, unknown, pg_policy
        n_items, n_traits = len(catalog), len(taxonomy)

        tags = taxonomy.tags
        tag_col = {t: j for j, t in enumerate(tags)}
        avoid = np.zeros((len(tags), n_traits), dtype=np.float32)
        for k, trait in enumerate(taxonomy):
            for tag in trait.avoid:
                avoid[tag_col[tag], k] = 1.0
        weights = np.array([t.pg_vector() for t in taxonomy], dtype=np.float64).reshape(n_traits, len(PG_CATEGORIES))

        present = np.zeros((n_items, len(tags)), dtype=np.float32)
        severity = np.zeros((n_items, len(PG_CATEGORIES)), dtype=np.float64)
        known = np.zeros(n_items, dtype=bool)
        assessed = np.zeros(n_items, dtype=bool)
        overrides: list[tuple[int, int, float]] = []
        for rec in warnings:
            row = catalog.row.get(rec.item_id)
            if row is None:
                continue
            known[row] = rec.status == "annotated"
            assessed[row] = rec.tags_assessed
            for tag in rec.tags:
                if tag in tag_col:
                    present[row, tag_col[tag]] = 1.0
            for c, cat in enumerate(PG_CATEGORIES):
                severity[row, c] = rec.parents_guide.get(cat, 0)
            for tid, value in rec.risk_override.items():
                if tid in taxonomy.index:
                    overrides.append((row, taxonomy.index[tid], value))
                    known[row] = True

        ddd = (present @ avoid) > 0
        wsum = weights.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            pg = np.where(wsum > 0, (severity @ weights.T) / (3.0 * wsum), 0.0)
        if pg_policy == "applicability":
            strong = np.array([t.pg_applicability == "strong" for t in taxonomy])
            pg = np.where(strong[None, :] | ~assessed[:, None], pg, 0.0)
        risk = np.maximum(ddd.astype(np.float64), pg)
        for row, col, value in overrides:
            risk[row, col] = value
        risk[~known] = np.nan

        self.risk_matrix: np.ndarray = risk
        """items × traits risk in [0, 1]; NaN for items without warning data."""
        self.ddd_trigger: np.ndarray = ddd
        """items × traits: some avoid-tag of the trait is present."""
        self.pg_risk: np.ndarray = pg
        """items × traits Parents-Guide risk (after the Parents-Guide policy)."""
        self.known: np.ndarray = known
        """Per item: warning data exists."""
        self.unsafe: np.ndarray = np.where(known[:, None], risk >= tau, unknown == "unsafe")
        """items × traits booleans after the unknown-item policy."""
        self.excluded: np.ndarray = ~known if unknown == "exclude" else np.zeros(n_items, dtype=bool)
        """Per item: excluded from safety denominators (unknown items under the ``exclude`` policy)."""
        self.unsafe_bits: np.ndarray | None = _pack_bits(self.unsafe)
        self._trait_cols: dict[str, int] = dict(taxonomy.index)
        """Per item, the traits it is unsafe for as a uint64 bit set (``None`` with more than 64 traits)."""

    # --- single lookups ---------------------------------------------------------------------------

    def _col(self, trait: str) -> int:
        return self.taxonomy.index[self.taxonomy.get(trait).id]

    def risk(self, item_id: str | int, trait: str) -> float | None:
        """Risk of an item for a trait, or ``None`` if the item has no warning data."""
        r = self.risk_matrix[self.catalog.rows([item_id])[0], self._col(trait)]
        return None if np.isnan(r) else float(r)

    def is_unsafe(self, item_id: str | int, traits: Iterable[str]) -> bool:
        """Whether the item violates any of the traits (after the unknown-item policy)."""
        row = self.catalog.rows([item_id])[0]
        return bool(any(self.unsafe[row, self._col(t)] for t in traits))

    def unsafe_items(self, trait: str) -> list[str]:
        """Ids of the items unsafe for one trait."""
        return self.catalog.ids(np.flatnonzero(self.unsafe[:, self._col(trait)]))

    def explain(self, item_id: str | int, trait: str) -> dict[str, object]:
        """Why an item is (un)safe for a trait: hit tags with evidence, Parents-Guide risk, decision."""
        item = self.catalog.get(item_id)
        t = self.taxonomy.get(trait)
        rec = self.warnings.get(item.item_id)
        hits = {tag: rec.tags[tag].evidence for tag in t.avoid if rec and tag in rec.tags}
        return {
            "item": item.display,
            "trait": t.id,
            "known": rec is not None and rec.status == "annotated",
            "risk": self.risk(item.item_id, t.id),
            "hit_tags": hits,
            "pg_risk": float(self.pg_risk[self.catalog.row[item.item_id], self._col(t.id)]),
            "unsafe": self.is_unsafe(item.item_id, [t.id]),
        }

    # --- vectorised ---------------------------------------------------------------------------------

    def trait_mask(self, trait_lists: Iterable[Iterable[str]]) -> np.ndarray:
        """users × traits boolean mask from per-user trait ids (or names)."""
        lists = trait_lists if isinstance(trait_lists, list) else list(trait_lists)
        cols = self._trait_cols
        lens = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))

        try:
            flat = np.fromiter(map(cols.__getitem__, chain.from_iterable(lists)), dtype=np.int64, count=int(lens.sum()))
        except KeyError:  # trait names instead of ids, or an unknown trait (raises UnknownNameError)
            flat = np.fromiter(map(self._col, chain.from_iterable(lists)), dtype=np.int64, count=int(lens.sum()))
        mask = np.zeros((len(lists), len(self.taxonomy)), dtype=bool)
        mask[np.repeat(np.arange(len(lists)), lens), flat] = True
        return mask

    @cached_property
    def fingerprint(self) -> str:
        """Hash of what the oracle decides: the catalog's items, the traits and the unsafe / excluded
        matrices (so a run resumes only under the same oracle, whatever files it was loaded from)."""
        import hashlib

        h = hashlib.sha256()
        for it in self.catalog.items:
            h.update(f"{it.item_id}\t{it.title}\t{it.year}\n".encode())
        h.update("\t".join(self.taxonomy.ids).encode())
        h.update(np.packbits(self.unsafe).tobytes())
        h.update(np.packbits(self.excluded).tobytes())
        return h.hexdigest()[:16]

    def violations(self, rows: np.ndarray, trait_mask: np.ndarray) -> np.ndarray:
        """Per slot: the item at ``rows[i, j]`` is unsafe for one of user ``i``'s traits.

        Args:
            rows: ``(n, k)`` catalog rows; negative values (padding, unmatched titles) never violate.
            trait_mask: ``(n, n_traits)`` booleans.
        """
        rows = np.asarray(rows)
        valid = rows >= 0
        safe_rows = np.where(valid, rows, 0)
        if self.unsafe_bits is not None:
            user_bits = _pack_bits(trait_mask)
            return valid & ((self.unsafe_bits[safe_rows] & user_bits[:, None]) != 0)
        return valid & (self.unsafe[safe_rows] & trait_mask[:, None, :]).any(axis=-1)

    def coverage(self) -> dict[str, object]:
        """How much of the catalog the oracle knows, and how many items are unsafe per trait."""
        return {
            "items": len(self.catalog),
            "known": int(self.known.sum()),
            "unknown": int((~self.known).sum()),
            "unknown_policy": self.unknown_policy,
            "tau": self.tau,
            "pg_policy": self.pg_policy,
            "unsafe_per_trait": {t: int(self.unsafe[self.known, k].sum()) for k, t in enumerate(self.taxonomy.ids)},
        }


def _pack_bits(mask: np.ndarray) -> np.ndarray | None:
    """Pack a (n, t ≤ 64) boolean matrix into one uint64 per row."""
    if mask.shape[1] > 64:
        return None
    weights = np.left_shift(np.uint64(1), np.arange(mask.shape[1], dtype=np.uint64))
    return (mask.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
